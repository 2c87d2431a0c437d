import { context, trace, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Client, replay, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../../test-support/db.js";
import { waitFor } from "../../../../test-support/wait.js";

// The application's tracing, as it would set it up: a provider with an exporter (in memory
// here) and a context manager, so that the span active around client.start is known.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
trace.setGlobalTracerProvider(provider);
const tracer = trace.getTracer("checkout-service");

const db = useTestSchema();
const client = new Client(db.connection);
let worker: Worker;

let failures = 0;
const traced = workflow({ name: "traced", retry: { maxAttempts: 3, initialDelay: "10ms", jitter: 0 } }, async (ctx) => {
  const quote = await ctx.step("quote", () => {
    if (failures++ === 0) throw new Error("carrier timed out");
    return 5;
  });
  return ctx.step("charge", () => {
    // A library's own span, made inside the step: the step's span is the active one.
    tracer.startSpan("payments.charge").end();
    return quote * 2;
  });
});
const leaf = workflow({ name: "traced-leaf" }, async (ctx) => ctx.step("leaf-step", () => "leaf"));
const tree = workflow({ name: "traced-tree" }, async (ctx) => ctx.child(leaf, undefined, { id: `${ctx.runId}-leaf` }));

beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [traced, leaf, tree], logger: silentLogger, pollInterval: "100ms" });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
  await provider.shutdown();
  contextManager.disable();
});

const spansOf = (runId: string) => exporter.getFinishedSpans().filter((s) => s.attributes["reprise.run_id"] === runId);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

test("a run's spans: one reprise.run per execution and one reprise.step per attempt, children of the span active at client.start", async () => {
  let caller!: ReadableSpan;
  const handle = await tracer.startActiveSpan("POST /checkout", async (span) => {
    const started = await client.start(traced, undefined, { id: "traced-1" });
    span.end();
    caller = span as unknown as ReadableSpan;
    return started;
  });
  expect(await handle.result({ timeout: "20s" })).toBe(10);
  await waitFor(() => spansOf("traced-1").some((s) => s.name === "reprise.run"), { what: "the run span to end" });

  const spans = spansOf("traced-1");
  const runs = spans.filter((s) => s.name === "reprise.run");
  const steps = spans.filter((s) => s.name === "reprise.step");
  expect(runs).toHaveLength(1);
  const run = runs[0]!;
  expect(run.spanContext().traceId).toBe(caller.spanContext().traceId);
  expect(parentOf(run)).toBe(caller.spanContext().spanId);
  expect(run.attributes).toMatchObject({ "reprise.run_id": "traced-1", "reprise.workflow": "traced", "reprise.outcome": "completed" });
  expect(run.status.code).toBe(SpanStatusCode.OK);

  expect(steps.map((s) => [s.attributes["reprise.step"], s.attributes["reprise.attempt"], s.attributes["reprise.position"], s.attributes["reprise.outcome"]])).toEqual([
    ["quote", 1, 0, "failed"],
    ["quote", 2, 0, "succeeded"],
    ["charge", 1, 1, "succeeded"],
  ]);
  for (const step of steps) {
    expect(step.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(parentOf(step)).toBe(run.spanContext().spanId);
    expect(step.attributes).toMatchObject({ "reprise.run_id": "traced-1", "reprise.workflow": "traced" });
  }
  expect(steps[0]!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "carrier timed out" });
  const library = exporter.getFinishedSpans().filter((s) => s.name === "payments.charge");
  expect(library).toHaveLength(1);
  expect(parentOf(library[0]!)).toBe(steps[2]!.spanContext().spanId);
  expect(steps[0]!.events.map((e) => e.name)).toContain("exception");

  // The trace context lives beside the run, not in its history: a replay cannot depend on it.
  const history = await client.history("traced-1");
  expect(JSON.stringify(history)).not.toContain(caller.spanContext().traceId);
  expect((await replay(traced, history)).outcome).toBe("completed");
});

test("a child run's spans hang from its parent's run span; a run started outside any span starts its own trace", async () => {
  const handle = await tracer.startActiveSpan("nightly job", async (span) => {
    const started = await client.start(tree, undefined, { id: "tree-1" });
    span.end();
    return started;
  });
  expect(await handle.result({ timeout: "20s" })).toBe("leaf");
  const ended = (runId: string) => spansOf(runId).some((s) => s.name === "reprise.run" && s.attributes["reprise.outcome"] === "completed");
  await waitFor(() => ended("tree-1") && ended("tree-1-leaf"), { what: "the parent's and the child's run spans" });
  const parentRuns = spansOf("tree-1").filter((s) => s.name === "reprise.run");
  const [childRun] = spansOf("tree-1-leaf").filter((s) => s.name === "reprise.run");
  // The parent ran once or twice (it suspends unless the child ended before it looked); the
  // child was started by its first execution, under that execution's span.
  expect(parentRuns.map((s) => s.spanContext().spanId)).toContain(parentOf(childRun!));
  expect(childRun!.spanContext().traceId).toBe(parentRuns[0]!.spanContext().traceId);

  expect(await client.run(leaf, undefined, { id: "untraced-1", timeout: "20s" })).toBe("leaf");
  await waitFor(() => spansOf("untraced-1").some((s) => s.name === "reprise.run"), { what: "the untraced run's span" });
  const [alone] = spansOf("untraced-1").filter((s) => s.name === "reprise.run");
  expect(alone!.parentSpanContext).toBeUndefined();
});
