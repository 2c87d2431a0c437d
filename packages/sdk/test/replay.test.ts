import { CancelledError, ChildFailedError, NonDeterminismError, NonRetryableError, ReplayDivergenceError, SignalTimeoutError, StepFailedError, ValidationError, WorkflowTimeoutError, exportHistory, parseHistory, replay, replayHistories, workflow, type HistoryEvent, type RecordedFailure, type StepFailedPayload } from "@reprise/sdk";
import { serializeError } from "@reprise/sdk/engine";
import { describe, expect, test } from "vitest";
import { MemoryHost, execute } from "../../../test-support/memory-host.js";

/** A step function for replays: replay must never call it. */
const mustNotRun = (): never => {
  throw new Error("a step function was called during replay");
};

/** Three steps; the last one fails for good with a NonRetryableError. */
const checkout = (charge: () => unknown) =>
  workflow({ name: "checkout", retry: { maxAttempts: 3, initialDelay: 1, jitter: 0 } }, async (ctx, input: { sku: string }) => {
    const price = await ctx.step("price", () => ({ sku: input.sku, cents: 1250 }));
    const quote = await ctx.step("quote-shipping", () => ({ carrier: "dhl", cents: "499" }));
    const total = price.cents + (quote.cents as unknown as number);
    await ctx.step("charge", () => charge(), { retry: { maxAttempts: 1 } });
    return total;
  });

async function failedCheckoutHistory() {
  const live = checkout(() => {
    throw new NonRetryableError("card declined: amount 1250499 is over the limit");
  });
  const { outcome, history } = await execute(live, { input: { sku: "A-1" } });
  expect(outcome).toMatchObject({ status: "failed" });
  return history;
}

describe("replay()", () => {
  test("a failed run is reproduced with its recorded error, and no step function is called", async () => {
    const history = await failedCheckoutHistory();
    const recorded = (history.find((e) => e.kind === "StepFailed")!.payload as StepFailedPayload).error;
    const calls: string[] = [];
    const code = workflow({ name: "checkout" }, async (ctx, input: { sku: string }) => {
      const price = await ctx.step("price", () => (calls.push("price"), mustNotRun()));
      const quote = await ctx.step("quote-shipping", () => (calls.push("quote"), mustNotRun()));
      expect(price).toEqual({ sku: input.sku, cents: 1250 });
      expect(quote).toEqual({ carrier: "dhl", cents: "499" });
      try {
        return await ctx.step("charge", () => (calls.push("charge"), mustNotRun()));
      } catch (error) {
        // What the workflow catches is what the live run caught, recorded stack included.
        expect(error).toBeInstanceOf(StepFailedError);
        expect((error as StepFailedError).cause.stack).toBe(recorded.stack);
        throw error;
      }
    });

    const report = await replay(code, history);
    expect(calls).toEqual([]);
    expect(report.outcome).toBe("failed");
    expect(report.recordedOutcome).toBe("failed");
    const error = report.error as StepFailedError;
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.stepName).toBe("charge");
    expect(error.cause).toBeInstanceOf(NonRetryableError);
    expect(error.cause.name).toBe("NonRetryableError");
    expect(error.cause.message).toBe("card declined: amount 1250499 is over the limit");
    expect(error.cause.stack).toBe(recorded.stack);
    expect(error.cause.stack).toContain("replay.test.ts");
    // The run's error is the one the workflow threw, and it reads the same as the recorded one.
    const runFailed = history.find((e) => e.kind === "RunFailed")!.payload as { error: ReturnType<typeof serializeError> };
    expect(serializeError(error)).toMatchObject({ name: runFailed.error.name, message: runFailed.error.message, cause: runFailed.error.cause });
    expect(report.events).toEqual(history);
  });

  test("JavaScript's own error classes come back as themselves", async () => {
    const live = workflow({ name: "typed" }, async (ctx) => {
      try {
        await ctx.step("parse", () => JSON.parse("{oops") as unknown, { retry: { maxAttempts: 1 } });
      } catch (error) {
        return (error as StepFailedError).cause instanceof SyntaxError ? "syntax" : "other";
      }
      return "parsed";
    });
    const { outcome, history } = await execute(live);
    expect(outcome).toMatchObject({ status: "completed", output: "syntax" });
    expect(await replay(live, history)).toMatchObject({ outcome: "completed", output: "syntax" });
  });

  test("renaming a step is a divergence at its position, naming both names and what to do", async () => {
    const history = await failedCheckoutHistory();
    const renamed = workflow({ name: "checkout" }, async (ctx) => {
      await ctx.step("price", mustNotRun);
      await ctx.step("quote-carrier", mustNotRun);
      return ctx.step("charge", mustNotRun);
    });
    const report = await replay(renamed, history);
    expect(report.outcome).toBe("diverged");
    expect(report.divergence).toMatchObject({
      position: 1,
      recorded: { kind: "StepCompleted", name: "quote-shipping" },
      actual: { kind: "StepCompleted", name: "quote-carrier" },
    });
    expect(report.divergence!.message).toContain('"quote-shipping"');
    expect(report.divergence!.message).toContain('"quote-carrier"');
    expect(report.divergence!.message).toContain("ctx.patched");
    expect(report.divergence!.message).toContain("fork");
    expect(report.error).toBeInstanceOf(NonDeterminismError);
    // The events end with what the history holds at the diverging position.
    expect(report.events.map((e) => e.kind)).toEqual(["RunStarted", "StepCompleted", "StepCompleted"]);
    expect(report.events.at(-1)!.name).toBe("quote-shipping");
  });

  test("a step added where the run had ended is a divergence", async () => {
    const v1 = workflow({ name: "grow" }, async (ctx) => ctx.step("a", () => 1));
    const v2 = workflow({ name: "grow" }, async (ctx) => {
      await ctx.step("a", mustNotRun);
      return ctx.step("b", mustNotRun);
    });
    const { history } = await execute(v1);
    const report = await replay(v2, history);
    expect(report.divergence).toMatchObject({ position: 1, recorded: { kind: "RunCompleted", name: null }, actual: { kind: "StepCompleted", name: "b" } });
    expect(report.divergence!.message).toContain("a call was added");
  });

  test("until stops after that position, with the state of the run at that point", async () => {
    const history = await failedCheckoutHistory();
    const seen: unknown[] = [];
    const code = workflow({ name: "checkout" }, async (ctx) => {
      seen.push(await ctx.step("price", mustNotRun));
      seen.push(await ctx.step("quote-shipping", mustNotRun));
      seen.push(await ctx.step("charge", mustNotRun));
    });
    const report = await replay(code, history, { until: 1 });
    expect(report.outcome).toBe("suspended");
    expect(report.position).toBe(1);
    expect(seen).toEqual([{ sku: "A-1", cents: 1250 }, { carrier: "dhl", cents: "499" }]);
    expect(report.events.map((e) => [e.kind, e.position])).toEqual([
      ["RunStarted", null],
      ["StepCompleted", 0],
      ["StepCompleted", 1],
    ]);
    expect((await replay(code, history, { until: 0 })).events).toHaveLength(2);
  });

  test("until also stops at a ctx.now() past it, and a run that ended before it replays to its end", async () => {
    const wf = workflow({ name: "stamped" }, async (ctx) => {
      const a = await ctx.step("a", () => 1);
      return { a, at: ctx.now().toISOString() };
    });
    const { history } = await execute(wf);
    expect(await replay(wf, history, { until: 0 })).toMatchObject({ outcome: "suspended", position: 0 });
    expect(await replay(wf, history, { until: 5 })).toMatchObject({ outcome: "completed", position: 1 });
    await expect(replay(wf, history, { until: -1 })).rejects.toThrow(ValidationError);
  });

  test("onEvent sees every event once, in order, as the replay consumes it", async () => {
    const host = new MemoryHost();
    host.signals.push({ name: "approve", id: "1", payload: { by: "ada" } });
    let attempts = 0;
    const wf = workflow({ name: "everything", retry: { initialDelay: 1, jitter: 0 } }, async (ctx) => {
      const flaky = await ctx.step("flaky", () => {
        if (++attempts < 3) throw new Error(`try ${attempts}`);
        return "ok";
      });
      await ctx.sleep(5);
      const approval = await ctx.waitForSignal<{ by: string }>("approve");
      const id = ctx.ulid();
      return { flaky, by: approval.by, id, r: ctx.random() };
    });
    const { outcome, history } = await execute(wf, { host });
    expect(outcome).toMatchObject({ status: "completed" });
    expect(history.map((e) => e.kind)).toEqual([
      "RunStarted",
      "StepAttemptFailed",
      "StepAttemptFailed",
      "StepCompleted",
      "TimerStarted",
      "TimerFired",
      "SignalConsumed",
      "MarkerRecorded",
      "MarkerRecorded",
      "RunCompleted",
    ]);
    const seen: HistoryEvent[] = [];
    const report = await replay(wf, history, { onEvent: (e) => seen.push(e) });
    expect(report).toMatchObject({ outcome: "completed", output: (outcome as { output: unknown }).output });
    expect(seen.map((e) => e.seq)).toEqual(history.map((e) => e.seq));
    expect(report.events).toEqual(seen);
  });

  test("signals, timers and children resolve from the history; a run still waiting replays to suspended", async () => {
    const child = workflow({ name: "child" }, async () => "unused");
    const wf = workflow({ name: "parent" }, async (ctx) => {
      const a = await ctx.child(child, undefined, { id: "kid-1" });
      let b: string;
      try {
        b = await ctx.child(child, undefined, { id: "kid-2" });
      } catch (error) {
        b = error instanceof ChildFailedError ? `failed: ${error.cause.message}` : "?";
      }
      let c: string;
      try {
        c = await ctx.waitForSignal<string>("late", { timeout: 1 });
      } catch (error) {
        c = error instanceof SignalTimeoutError ? "timed out" : "?";
      }
      const d = await ctx.waitForSignal<string>("go");
      return [a, b, c, d];
    });
    const host = (signals: { name: string; id: string; payload: unknown }[] = []) => {
      const h = new MemoryHost();
      h.children.set("kid-1", { status: "completed", output: "kid one" });
      h.children.set("kid-2", { status: "failed", error: serializeError(new Error("kid two broke")) });
      h.signals.push(...signals);
      return h;
    };
    // First it waits out the 1ms timeout of "late", then it waits for "go", then "go" comes.
    const first = await execute(wf, { host: host() });
    expect(first.outcome).toMatchObject({ status: "suspended", waiting: "waiting" });
    await new Promise((r) => setTimeout(r, 5));
    const second = await execute(wf, { host: host(), history: first.history });
    expect(second.outcome).toMatchObject({ status: "suspended", waiting: "waiting", wakeAt: null });

    const midway = await replay(wf, second.history);
    expect(midway.outcome).toBe("suspended");
    expect(midway.position).toBe(3);
    expect(midway.recordedOutcome).toBe("unfinished");

    const third = await execute(wf, { host: host([{ name: "go", id: "7", payload: "green" }]), history: second.history });
    expect(third.outcome).toMatchObject({ status: "completed", output: ["kid one", "failed: kid two broke", "timed out", "green"] });
    const failures: RecordedFailure[] = [];
    const report = await replay(wf, third.history, { onRecordedFailure: (f) => failures.push(f) });
    expect(report).toMatchObject({ outcome: "completed", output: ["kid one", "failed: kid two broke", "timed out", "green"] });
    expect(failures.map((f) => [f.position, f.call, f.name, f.error.name])).toEqual([
      [1, "child", "child", "ChildFailedError"],
      [2, "signal", "late", "SignalTimeoutError"],
    ]);
  });

  test("a run that timed out or was cancelled replays to failed with the recorded error", async () => {
    const wf = workflow({ name: "slow" }, async (ctx) => {
      await ctx.step("a", () => 1);
      return ctx.step("b", () => 2);
    });
    const { history } = await execute(wf);
    const cut = history.filter((e) => !(e.kind === "StepCompleted" && e.position === 1) && e.kind !== "RunCompleted");
    const at = new Date();
    const timedOut = [...cut, { seq: 10, kind: "RunFailed" as const, position: null, name: null, payload: { error: serializeError(new WorkflowTimeoutError("run-1", 50)) }, createdAt: at }];
    const t = await replay(wf, timedOut);
    expect(t.outcome).toBe("failed");
    expect(t.error).toBeInstanceOf(WorkflowTimeoutError);
    expect(t.events.at(-1)!.kind).toBe("RunFailed");

    const cancelled = [
      ...cut,
      { seq: 10, kind: "CancelRequested" as const, position: null, name: null, payload: { reason: "by hand" }, createdAt: at },
      { seq: 11, kind: "RunCancelled" as const, position: null, name: null, payload: { reason: "by hand" }, createdAt: at },
    ];
    const c = await replay(wf, cancelled);
    expect(c).toMatchObject({ outcome: "failed", recordedOutcome: "cancelled" });
    expect(c.error).toBeInstanceOf(CancelledError);
    expect(c.error!.message).toContain("by hand");
  });

  test("a recorded step failure that today's code handles is not a failed run: it would go on", async () => {
    const history = await failedCheckoutHistory();
    const handled = workflow({ name: "checkout" }, async (ctx) => {
      await ctx.step("price", mustNotRun);
      await ctx.step("quote-shipping", mustNotRun);
      try {
        return await ctx.step("charge", mustNotRun);
      } catch {
        return ctx.step("charge-other-card", mustNotRun);
      }
    });
    expect(await replay(handled, history)).toMatchObject({ outcome: "suspended", position: 3, recordedOutcome: "failed" });
  });

  test("a run retried after its failure replays through the retry", async () => {
    let fail = true;
    const wf = workflow({ name: "retried" }, async (ctx) => {
      await ctx.step("a", () => 1);
      return ctx.step("b", () => {
        if (fail) throw new NonRetryableError("not yet");
        return "done";
      });
    });
    const first = await execute(wf);
    const failedAt = first.history.at(-1)!;
    expect(failedAt.kind).toBe("RunFailed");
    const retried = [
      ...first.history,
      { runId: "run-1", seq: failedAt.seq + 1, kind: "RunRetried" as const, position: null, name: null, payload: { reopens: failedAt.seq, position: 1, previousStatus: "failed" }, createdAt: new Date() },
    ];
    fail = false;
    const second = await execute(wf, { history: retried });
    expect(second.outcome).toMatchObject({ status: "completed", output: "done" });
    const report = await replay(wf, second.history);
    expect(report).toMatchObject({ outcome: "completed", output: "done", recordedOutcome: "completed" });
    expect(report.events.map((e) => e.kind)).toEqual(["RunStarted", "StepCompleted", "StepFailed", "RunFailed", "RunRetried", "StepCompleted", "RunCompleted"]);
  });

  test("a callback that throws rejects the replay instead of failing the workflow", async () => {
    const history = await failedCheckoutHistory();
    const wf = checkout(mustNotRun);
    await expect(replay(wf, history, { onEvent: () => { throw new Error("observer broke"); } })).rejects.toThrow("observer broke");
  });

  test("a history of another workflow, or no history at all, is refused", async () => {
    const history = await failedCheckoutHistory();
    await expect(replay(workflow({ name: "other" }, async () => 1), history)).rejects.toThrow(/of workflow "checkout", not "other"/);
    await expect(replay(checkout(mustNotRun), [])).rejects.toThrow(ValidationError);
  });
});

describe("exported histories", () => {
  test("a history survives JSON and replays the same", async () => {
    const history = await failedCheckoutHistory();
    const file = JSON.parse(JSON.stringify(exportHistory(history))) as unknown;
    expect(file).toMatchObject({ format: "reprise-history/1", runId: "run-1", workflowName: "checkout" });
    const parsed = parseHistory(file);
    expect(parsed.events).toEqual(history);
    const report = await replay(checkout(mustNotRun), file as ReturnType<typeof exportHistory>);
    expect(report.outcome).toBe("failed");
    expect((report.error as StepFailedError).cause.message).toContain("card declined");
  });

  test("runs show --json output and bare event arrays are histories too; anything else is refused with a reason", async () => {
    const history = await failedCheckoutHistory();
    expect(parseHistory(JSON.parse(JSON.stringify({ run: { id: "r-9" }, history }))).runId).toBe("r-9");
    expect(parseHistory(JSON.parse(JSON.stringify(history))).workflowName).toBe("checkout");
    expect(() => parseHistory({ nope: 1 }, "x.json")).toThrow(/no history in x\.json/);
    expect(() => parseHistory([{ seq: "a" }], "x.json")).toThrow(/event 0 in x\.json is not an event/);
    expect(() => parseHistory(history.slice(1))).toThrow(/RunStarted/);
  });
});

describe("replayHistories()", () => {
  const v1 = workflow({ name: "ship" }, async (ctx, input: { n: number }) => {
    const a = await ctx.step("pick", () => input.n);
    return ctx.step(a % 2 ? "pack-odd" : "pack", () => a * 2);
  });

  async function histories() {
    const out = [];
    for (const n of [2, 3, 4]) out.push((await execute(v1, { input: { n }, runId: `ship-${n}` })).history);
    return out;
  }

  test("returns a clean result per history when the code still matches", async () => {
    const results = await replayHistories([v1], await histories());
    expect(results.map((r) => [r.runId, r.workflowName, r.report?.outcome, r.problem])).toEqual([
      ["ship-2", "ship", "completed", undefined],
      ["ship-3", "ship", "completed", undefined],
      ["ship-4", "ship", "completed", undefined],
    ]);
  });

  test("throws one error listing every history that would break", async () => {
    const v2 = workflow({ name: "ship" }, async (ctx, input: { n: number }) => {
      const a = await ctx.step("pick", () => input.n);
      return ctx.step("pack", () => a * 2);
    });
    const all = [...(await histories()), { ...exportHistory([{ runId: "x", seq: 0, kind: "RunStarted", payload: { workflow: "gone", queue: "default" }, createdAt: new Date() }]), source: "golden/gone.json" }];
    const error = await replayHistories([v2], all).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReplayDivergenceError);
    const gate = error as ReplayDivergenceError;
    expect(gate.code).toBe("REPLAY_DIVERGED");
    expect(gate.problems.map((p) => [p.runId, p.problem!.kind])).toEqual([
      ["ship-3", "diverged"],
      ["x", "unknown-workflow"],
    ]);
    expect(gate.message).toMatch(/^2 of 4 histories do not replay against this code:/);
    expect(gate.message).toContain('run ship-3 (ship): run ship-3 diverged from its history at position 1');
    expect(gate.message).toContain('golden/gone.json, run x (gone): no workflow named "gone" was given (given: ship)');

    const results = await replayHistories([v2], all, { throwOnProblem: false });
    expect(results.filter((r) => r.problem)).toHaveLength(2);
  });

  test("a completed run that today's code would fail is a problem; a failed run that now completes is not", async () => {
    const strict = workflow({ name: "ship" }, async (ctx, input: { n: number }) => {
      const a = await ctx.step("pick", () => input.n);
      const packed = await ctx.step(a % 2 ? "pack-odd" : "pack", () => a * 2);
      if (packed > 5) throw new Error(`too heavy: ${packed}`);
      return packed;
    });
    const results = await replayHistories([strict], await histories(), { throwOnProblem: false });
    expect(results.map((r) => r.problem?.kind)).toEqual([undefined, "now-fails", "now-fails"]);
    expect(results[1]!.problem!.message).toContain("too heavy: 6");

    const failed = (await execute(strict, { input: { n: 4 }, runId: "heavy" })).history;
    await expect(replayHistories([v1], [failed])).resolves.toHaveLength(1);
  });
});
