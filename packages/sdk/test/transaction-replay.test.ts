import { replay, workflow } from "@reprise/sdk";
import type { StepAttemptScope, StepAttemptStart } from "@reprise/sdk/engine";
import { expect, test } from "vitest";
import { MemoryHost, execute } from "../../../test-support/memory-host.js";

// ctx.transaction in the engine alone, with no database: the MemoryHost "commits" the
// completion the engine hands it, and replay() answers from the recorded history.

const order = (save: () => Promise<string>) =>
  workflow({ name: "order" }, async (ctx) => {
    const id = await ctx.transaction("save-order", () => save());
    const sent = await ctx.transaction("mark-sent", async () => `${id} sent`);
    return ctx.step("receipt", () => `receipt for ${sent}`);
  });

test("replay returns a transaction's recorded result without a database, and does not call its function", async () => {
  const { outcome, history } = await execute(order(async () => "order-7"));
  expect(outcome).toMatchObject({ status: "completed", output: "receipt for order-7 sent" });
  expect(history.map((e) => `${e.kind}:${e.name ?? ""}`)).toEqual([
    "RunStarted:",
    "StepCompleted:save-order",
    "StepCompleted:mark-sent",
    "StepCompleted:receipt",
    "RunCompleted:",
  ]);
  let calls = 0;
  const report = await replay(order(async () => (calls++, "other")), history);
  expect(report).toMatchObject({ outcome: "completed", output: "receipt for order-7 sent" });
  expect(calls).toBe(0);
});

test("replay stops at a transaction the history has not recorded, without running it", async () => {
  const { history } = await execute(order(async () => "order-8"));
  let calls = 0;
  const report = await replay(order(async () => (calls++, "other")), history.slice(0, 2));
  expect(report.outcome).toBe("suspended");
  expect(report.position).toBe(1);
  expect(calls).toBe(0);
});

test("a transaction resumed from its recorded completion is not run again", async () => {
  const first = await execute(order(async () => "order-9"));
  const host = new MemoryHost();
  let calls = 0;
  const resumed = await execute(order(async () => (calls++, "again")), { history: first.history.slice(0, 2), host });
  expect(resumed.outcome).toMatchObject({ status: "completed", output: "receipt for order-9 sent" });
  expect(calls).toBe(0);
  // The resumed run's own events continue the recorded seq.
  expect(host.appended.map((e) => e.seq)).toEqual([2, 3, 4]);
});

test("a transaction's attempts are observed like a step's: the function runs in the attempt's scope, each attempt ends once", async () => {
  const seen: { attempt: number; outcome?: string; retrying?: boolean; inScope: boolean }[] = [];
  let inScope = false;
  const host = Object.assign(new MemoryHost(), { onStepAttempt: (start: StepAttemptStart): StepAttemptScope => {
    const entry: (typeof seen)[number] = { attempt: start.attempt, inScope: false };
    seen.push(entry);
    return {
      run: (fn) => {
        inScope = true;
        try {
          return fn();
        } finally {
          inScope = false;
        }
      },
      end: (result) => Object.assign(entry, { outcome: result.outcome, retrying: result.retrying }),
    };
  } });
  let calls = 0;
  const wf = workflow({ name: "observed", retry: { maxAttempts: 2, initialDelay: 1, jitter: 0 } }, async (ctx) =>
    ctx.transaction("save", async () => {
      seen[seen.length - 1]!.inScope = inScope;
      if (++calls === 1) throw new Error("first try fails");
      return calls;
    }),
  );
  const { outcome } = await execute(wf, { host });
  expect(outcome).toMatchObject({ status: "completed", output: 2 });
  expect(seen).toEqual([
    { attempt: 1, outcome: "failed", retrying: true, inScope: true },
    { attempt: 2, outcome: "succeeded", inScope: true },
  ]);
});
