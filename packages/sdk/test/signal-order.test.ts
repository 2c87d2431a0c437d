import { replay, workflow } from "@reprise/sdk";
import { type InboxSignal } from "@reprise/sdk/engine";
import { expect, test } from "vitest";
import { MemoryHost, execute } from "../../../test-support/memory-host.js";

/** An inbox where a signal lands while the run is reading it: right after the first read. */
class LateInbox extends MemoryHost {
  reads = 0;
  override async readSignal(name: string, after: string | undefined): Promise<InboxSignal | null> {
    const found = await super.readSignal(name, after);
    if (++this.reads === 1) this.signals.push({ name, id: "1", payload: "first" });
    return found;
  }
}

test("two parallel waits on one name take signals first-in first-out, even when one lands between their reads", async () => {
  const wf = workflow({ name: "two-waits" }, async (ctx) => Promise.all([ctx.waitForSignal<string>("item"), ctx.waitForSignal<string>("item")]));
  const host = new LateInbox();
  const first = await execute(wf, { host });
  // The first wait found nothing and parks the run; the second must not jump ahead of it.
  expect(first.outcome).toMatchObject({ status: "suspended", waiting: "waiting" });
  expect(host.appended.filter((e) => e.kind === "SignalConsumed")).toEqual([]);

  // Woken, the run reads again in call order: the first wait gets the first signal.
  const resumed = new MemoryHost();
  resumed.signals.push(...host.signals, { name: "item", id: "2", payload: "second" });
  const done = await execute(wf, { host: resumed, history: first.history });
  expect(done.outcome).toMatchObject({ status: "completed", output: ["first", "second"] });
  expect((await replay(wf, done.history)).output).toEqual(["first", "second"]);
});
