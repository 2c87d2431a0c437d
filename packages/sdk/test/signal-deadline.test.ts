import { workflow, type HistoryEvent } from "@reprise/sdk";
import { expect, test } from "vitest";
import { MemoryHost, execute, started } from "../../../test-support/memory-host.js";

// A wait with a timeout ends by the signal's arrival against its deadline, whenever a
// worker gets to the run: a signal sent after the deadline does not count, one sent before
// it does, however late the run is resumed.

const approval = workflow({ name: "approval" }, async (ctx) => {
  try {
    return await ctx.waitForSignal<string>("approve", { timeout: "1s" });
  } catch (error) {
    return (error as Error).name;
  }
});

/** A run that began waiting 3 s ago with a 1 s timeout (deadline 2 s ago), resumed only now. */
function resumedLate(): { history: HistoryEvent[]; deadline: number } {
  const deadline = Date.now() - 2_000;
  const begun = new Date(deadline - 1_000);
  return {
    deadline,
    history: [
      { ...started("run-1", approval), createdAt: begun },
      {
        runId: "run-1",
        seq: 1,
        kind: "TimerStarted",
        position: 0,
        name: "approve",
        payload: { wakeAt: new Date(deadline).toISOString(), signal: true, timeoutMs: 1_000 },
        createdAt: begun,
      },
    ],
  };
}

test("a signal sent after the wait's deadline times the wait out, even if no worker looked before it came", async () => {
  const { history, deadline } = resumedLate();
  const host = new MemoryHost();
  host.signals.push({ name: "approve", id: "1", payload: "yes", sentAt: new Date(deadline + 1_500) });
  const { outcome } = await execute(approval, { history, host });
  expect(outcome).toMatchObject({ status: "completed", output: "SignalTimeoutError" });
  expect(host.appended.map((e) => e.kind)).toEqual(["TimerFired", "RunCompleted"]);
});

test("a signal sent before the deadline is received, however late the run is resumed", async () => {
  const { history, deadline } = resumedLate();
  const host = new MemoryHost();
  host.signals.push({ name: "approve", id: "1", payload: "yes", sentAt: new Date(deadline - 500) });
  const { outcome } = await execute(approval, { history, host });
  expect(outcome).toMatchObject({ status: "completed", output: "yes" });
  expect(host.appended.map((e) => e.kind)).toEqual(["SignalConsumed", "RunCompleted"]);
});
