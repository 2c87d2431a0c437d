import { DatabaseError, workflow } from "@reprise/sdk";
import { expect, test } from "vitest";
import { execute, MemoryHost } from "../../../test-support/memory-host.js";

const limits = { inlineLimit: 100, maxSize: 10_000 };
const big = (tag: string) => `${tag}:${"b".repeat(500)}`;

const twoSteps = workflow({ name: "two-big-steps" }, async (ctx) => {
  const first = ctx.step("first", () => big("first"));
  const second = await ctx.step("second", () => big("second"));
  await ctx.sleep("1h");
  // `first` is never awaited: on replay it is never read.
  void first;
  return second.slice(0, 6);
});

test("a result over the inline limit is recorded as a reference, its value handed to the host with the event", async () => {
  const { host, outcome } = await execute(twoSteps, { payloads: limits });
  expect(outcome.status).toBe("suspended");
  const steps = host.appended.filter((e) => e.kind === "StepCompleted");
  expect(steps).toHaveLength(2);
  for (const step of steps) {
    const value = host.payloads.get(step.outOfLine![0]!.id)!;
    expect(value).toBe(JSON.stringify(big(step.name!)));
    expect(JSON.parse(step.payload).result).toEqual({ "$reprise.payload": { id: step.outOfLine![0]!.id, bytes: value.length } });
  }
});

test("on replay a recorded value is read when the code awaits it, and never when it does not", async () => {
  const { history, host } = await execute(twoSteps, { payloads: limits });
  // As if the sleep was over: the replay reaches both steps, awaits the second only.
  const fired = [...history, { seq: history.length, kind: "TimerFired" as const, position: 2, name: "sleep", payload: {}, createdAt: new Date() }];
  const replayHost = new MemoryHost();
  for (const [id, text] of host.payloads) replayHost.payloads.set(id, text);
  const { outcome } = await execute(twoSteps, { history: fired, host: replayHost, payloads: limits });
  expect(outcome).toMatchObject({ status: "completed", output: "second" });
  expect(replayHost.loads).toBe(1);
});

test("a recorded value that cannot be read fails the run with DatabaseError instead of looping", async () => {
  const { history } = await execute(twoSteps, { payloads: limits });
  const fired = [...history, { seq: history.length, kind: "TimerFired" as const, position: 2, name: "sleep", payload: {}, createdAt: new Date() }];
  const { outcome } = await execute(twoSteps, { history: fired, host: new MemoryHost(), payloads: limits });
  expect(outcome.status).toBe("failed");
  expect((outcome as { thrown?: Error }).thrown).toBeInstanceOf(DatabaseError);
  expect((outcome as { thrown?: Error }).thrown!.message).toMatch(/refers to a value stored out of line \(payload \w+\) that could not be read: no payload/);
});
