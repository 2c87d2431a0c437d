import { NonDeterminismError, SerializationError, StepFailedError, replay, workflow } from "@reprise/sdk";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import type { StepAttemptEnd, StepAttemptScope, StepAttemptStart } from "@reprise/sdk/engine";
import { execute, MemoryHost } from "../../../test-support/memory-host.js";

/** A host that observes step attempts, as the worker's metrics and spans do. */
class ObservingHost extends MemoryHost {
  readonly attempts: { start: StepAttemptStart; end?: StepAttemptEnd; ranInScope: boolean }[] = [];
  inScope = false;
  onStepAttempt(start: StepAttemptStart): StepAttemptScope {
    const seen: { start: StepAttemptStart; end?: StepAttemptEnd; ranInScope: boolean } = { start, ranInScope: false };
    this.attempts.push(seen);
    return {
      run: (fn) => {
        this.inScope = true;
        try {
          return fn();
        } finally {
          this.inScope = false;
        }
      },
      end: (result) => (seen.end = result),
    };
  }
}

describe("the replay engine", () => {
  test("parallel steps take positions in call order, not completion order", async () => {
    const wf = workflow({ name: "parallel" }, async (ctx) =>
      Promise.all([
        ctx.step("slow", () => new Promise<string>((r) => setTimeout(() => r("slow"), 30))),
        ctx.step("fast", () => "fast"),
      ]),
    );
    const { outcome, host, history } = await execute(wf);
    expect(outcome).toMatchObject({ status: "completed", output: ["slow", "fast"] });
    const steps = host.appended.filter((e) => e.kind === "StepCompleted");
    expect(steps.map((e) => [e.name, e.position])).toEqual([
      ["fast", 1],
      ["slow", 0],
    ]);
    const again = await replay(wf, history);
    expect(again).toMatchObject({ outcome: "completed", output: ["slow", "fast"] });
  });

  test("a completed step's recorded result is returned on replay and its function is never called", async () => {
    let calls = 0;
    const wf = workflow({ name: "memo" }, async (ctx) => {
      const value = await ctx.step("expensive", () => (calls++, { n: 42, at: new Date(0) }));
      return value;
    });
    const { history } = await execute(wf);
    expect(calls).toBe(1);
    const report = await replay(wf, history);
    expect(calls).toBe(1);
    // The workflow sees the JSON form on the first run and on replay alike.
    expect(report.output).toEqual({ n: 42, at: "1970-01-01T00:00:00.000Z" });
  });

  test("a step result that is not JSON fails the step at once with a clear error, without retries", async () => {
    let attempts = 0;
    const wf = workflow({ name: "bad-result", retry: { maxAttempts: 5, initialDelay: 1 } }, async (ctx) => {
      try {
        await ctx.step("returns-map", () => (attempts++, new Map([["a", 1]])));
        return "unreachable";
      } catch (error) {
        return error instanceof StepFailedError ? `${error.cause.name}: ${error.cause.message}` : "other";
      }
    });
    const { outcome, host } = await execute(wf);
    expect(attempts).toBe(1);
    expect(outcome).toMatchObject({ status: "completed" });
    expect((outcome as { output: string }).output).toMatch(/^SerializationError: result of step "returns-map" is not JSON-serialisable: an instance of Map at value/);
    expect(host.appended.map((e) => e.kind)).toEqual(["StepFailed", "RunCompleted"]);
    expect(SerializationError.name).toBe("SerializationError");
  });

  test("ctx.now, ctx.random and ctx.ulid return the same values on replay", async () => {
    const wf = workflow({ name: "markers" }, async (ctx) => ({ now: ctx.now().toISOString(), random: ctx.random(), ulid: ctx.ulid() }));
    const { outcome, history } = await execute(wf);
    const report = await replay(wf, history);
    expect(report.output).toEqual((outcome as { output: unknown }).output);
  });

  test("ctx.patched is false when replaying a history recorded before the patch, true for new runs", async () => {
    const before = workflow({ name: "patch" }, async (ctx) => {
      await ctx.step("a", () => 1);
      await ctx.step("b", () => 2);
      return "old";
    });
    const after = workflow({ name: "patch" }, async (ctx) => {
      const fresh = ctx.patched("new-path");
      await ctx.step("a", () => 1);
      await ctx.step("b", () => 2);
      return fresh ? "new" : "old";
    });
    const { history: oldHistory } = await execute(before);
    expect((await replay(after, oldHistory)).output).toBe("old");
    const { outcome, history: newHistory } = await execute(after);
    expect(outcome).toMatchObject({ output: "new" });
    expect(newHistory.some((e) => e.kind === "MarkerRecorded" && e.name === "patch:new-path")).toBe(true);
    expect((await replay(after, newHistory)).output).toBe("new");
  });

  test("removing the last step diverges at the position the code no longer reaches", async () => {
    const v1 = workflow({ name: "shrink" }, async (ctx) => {
      await ctx.step("a", () => 1);
      await ctx.step("b", () => 2);
      return "done";
    });
    const v2 = workflow({ name: "shrink" }, async (ctx) => {
      await ctx.step("a", () => 1);
      return "done";
    });
    const { history } = await execute(v1);
    const report = await replay(v2, history);
    expect(report.outcome).toBe("diverged");
    expect(report.divergence).toMatchObject({ position: 1, recorded: { kind: "StepCompleted", name: "b" }, actual: { kind: "RunCompleted", name: null } });
    expect(report.error).toBeInstanceOf(NonDeterminismError);
  });

  test("a workflow that catches StepFailedError and falls back replays the same way", async () => {
    const wf = workflow({ name: "fallback", retry: { maxAttempts: 2, initialDelay: 1, jitter: 0 } }, async (ctx) => {
      try {
        return await ctx.step("extract-new", () => {
          throw new Error("source down");
        });
      } catch (error) {
        if (!(error instanceof StepFailedError)) throw error;
        return ctx.step("load-cached", () => `cached after ${error.attempts} attempts`);
      }
    });
    const { outcome, history } = await execute(wf);
    expect(outcome).toMatchObject({ status: "completed", output: "cached after 2 attempts" });
    expect(history.map((e) => e.kind)).toEqual(["RunStarted", "StepAttemptFailed", "StepFailed", "StepCompleted", "RunCompleted"]);
    expect((await replay(wf, history)).output).toBe("cached after 2 attempts");
  });

  test("a long sleep suspends the run with its wake-up time; a due one fires on resume", async () => {
    const wf = workflow({ name: "sleeper" }, async (ctx) => {
      await ctx.sleep("1h");
      return "woke";
    });
    const first = await execute(wf, { suspendAfterMs: 1_000 });
    expect(first.outcome).toMatchObject({ status: "suspended", waiting: "sleeping" });
    const wakeAt = (first.outcome as { wakeAt: number }).wakeAt;
    expect(wakeAt - Date.now()).toBeGreaterThan(3_590_000);
    // Pretend the hour passed: the recorded wake-up time is in the past.
    const history = first.history.map((e) => (e.kind === "TimerStarted" ? { ...e, payload: { wakeAt: new Date(Date.now() - 1).toISOString() } } : e));
    const second = await execute(wf, { history });
    expect(second.outcome).toMatchObject({ status: "completed", output: "woke" });
    expect(second.host.appended.map((e) => e.kind)).toEqual(["TimerFired", "RunCompleted"]);
  });

  test("the function receives the stored input parsed by its schema again, the same on replay", async () => {
    let seen: unknown;
    const wf = workflow({ name: "typed-input", input: z.object({ at: z.coerce.date(), n: z.number().default(7) }) }, async (ctx, input) => {
      seen = input;
      return ctx.step("use", () => input.at.getTime() + input.n);
    });
    // As stored: JSON, after the client's parse (the Date became a string, the default is there).
    const stored = { at: "2026-01-07T07:00:00.000Z", n: 7 };
    const { outcome, history } = await execute(wf, { input: stored });
    expect(seen).toEqual({ at: new Date("2026-01-07T07:00:00.000Z"), n: 7 });
    expect(outcome).toMatchObject({ status: "completed", output: Date.parse("2026-01-07T07:00:00.000Z") + 7 });
    seen = undefined;
    expect((await replay(wf, history)).outcome).toBe("completed");
    expect((seen as { at: Date }).at).toBeInstanceOf(Date);
  });

  test("a scheduled workflow without an input schema receives scheduledAt as a Date", async () => {
    let seen: unknown;
    const wf = workflow({ name: "nightly-untyped", schedule: { cron: "0 2 * * *" } }, async (_ctx, input: { scheduledAt: Date }) => {
      seen = input.scheduledAt;
      return input.scheduledAt.toISOString();
    });
    const { outcome } = await execute(wf, { input: { scheduledAt: "2026-01-07T07:00:00.000Z" } });
    expect(seen).toBeInstanceOf(Date);
    expect(outcome).toMatchObject({ status: "completed", output: "2026-01-07T07:00:00.000Z" });
  });

  test("a host told of each step attempt sees it run and end, and the history is the same as without it", async () => {
    let observer: ObservingHost | undefined;
    let calls = 0;
    const wf = workflow({ name: "observed", retry: { maxAttempts: 2, initialDelay: 1, jitter: 0 } }, async (ctx) => {
      const a = await ctx.step("flaky", () => {
        if (observer) expect(observer.inScope).toBe(true);
        if (calls++ % 2 === 0) throw new Error("first attempt");
        return 1;
      });
      return ctx.step("plain", () => a + 1);
    });
    observer = new ObservingHost();
    const observed = await execute(wf, { host: observer });
    expect(observed.outcome).toMatchObject({ status: "completed", output: 2 });
    expect(observer.attempts.map((a) => [a.start.name, a.start.position, a.start.attempt, a.end?.outcome, a.end?.retrying])).toEqual([
      ["flaky", 0, 1, "failed", true],
      ["flaky", 0, 2, "succeeded", undefined],
      ["plain", 1, 1, "succeeded", undefined],
    ]);
    expect(observer.attempts[0]!.start.firstFailureAt).toBeUndefined();
    expect(observer.attempts[1]!.start.firstFailureAt).toBeGreaterThan(0);
    expect(observer.attempts[0]!.end?.error?.message).toBe("first attempt");

    observer = undefined;
    const plain = await execute(wf);
    const shape = (h: typeof plain.history) => h.map((e) => [e.kind, e.position, e.name]);
    expect(shape(observed.history)).toEqual(shape(plain.history));
    // A replay runs no attempt: nothing to observe, the same outcome.
    expect(await replay(wf, observed.history)).toMatchObject({ outcome: "completed", output: 2 });
  });
});
