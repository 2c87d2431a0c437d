import { replay, workflow } from "@reprise/sdk";
import { expect, test } from "vitest";
import { MemoryHost, execute } from "../../../test-support/memory-host.js";

test("ctx.patched before a signal wait the run is parked at is false on replay: the run got past it with the old code", async () => {
  const v1 = workflow({ name: "parked" }, async (ctx) => {
    await ctx.step("a", () => 1);
    return ctx.waitForSignal("go");
  });
  const v2 = workflow({ name: "parked" }, async (ctx) => {
    await ctx.step("a", () => 1);
    const fresh = ctx.patched("before-wait");
    await ctx.waitForSignal("go");
    return fresh ? "new" : "old";
  });
  const parked = await execute(v1);
  expect(parked.outcome).toMatchObject({ status: "suspended", waiting: "waiting" });
  // The wait left a trace at its position, although nothing else was recorded there.
  expect(parked.host.appended.map((e) => [e.kind, e.position, e.name])).toEqual([
    ["StepCompleted", 0, "a"],
    ["SignalWaitStarted", 1, "go"],
  ]);
  const host = new MemoryHost();
  host.signals.push({ name: "go", id: "1", payload: "ok" });
  const resumed = await execute(v2, { history: parked.history, host });
  expect(resumed.outcome).toMatchObject({ status: "completed", output: "old" });
  expect((await replay(v2, resumed.history)).output).toBe("old");
  // A second park at the same wait records nothing more.
  const again = await execute(v1, { history: parked.history });
  expect(again.host.appended).toEqual([]);
});
