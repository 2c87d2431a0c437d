import { workflow } from "@reprise/sdk";
import type { NewEvent } from "@reprise/sdk/engine";
import { expect, test } from "vitest";
import { MemoryHost, execute } from "../../../test-support/memory-host.js";

/** A host whose log refuses (as Postgres refuses a value it cannot store) any flush holding the given step's completion. */
class RefusingHost extends MemoryHost {
  steps: string[] = [];
  constructor(private readonly refusedStep: string) {
    super();
  }
  override async persist(events: NewEvent[]): Promise<void> {
    await new Promise((r) => setTimeout(r, 5));
    if (events.some((e) => e.kind === "StepCompleted" && e.name === this.refusedStep)) {
      throw Object.assign(new Error("unsupported Unicode escape sequence"), { code: "22P05" });
    }
    return super.persist(events);
  }
  override isRefusal(error: unknown): boolean {
    return (error as { code?: string }).code === "22P05";
  }
}

test("a write the log refuses fails the run after what is durable, and no later step runs", async () => {
  const host = new RefusingHost("a");
  const wf = workflow({ name: "refused" }, async (ctx) => {
    await ctx.step("a", () => "x");
    await ctx.step("b", () => void host.steps.push("b"));
    return "done";
  });
  const { outcome } = await execute(wf, { host });
  expect(outcome).toMatchObject({ status: "failed", error: { name: "DatabaseError", message: expect.stringContaining("refused this run's writes") } });
  expect(host.steps).toEqual([]);
  // The refused completion is void: the failure takes its seq, so the log has no gap.
  expect(host.appended.map((e) => [e.seq, e.kind])).toEqual([[1, "RunFailed"]]);
});

test("a write refused while the run was ending still fails the run, in place of what it recorded after", async () => {
  const host = new RefusingHost("a");
  const wf = workflow({ name: "refused-while-ending" }, async (ctx) => {
    await ctx.step("a", () => "x");
    // Step b's flush (carrying a's completion) is in flight when the workflow throws.
    ctx.step("b", () => void host.steps.push("b")).catch(() => undefined);
    throw new Error("boom");
  });
  const { outcome } = await execute(wf, { host });
  expect(outcome).toMatchObject({ status: "failed", error: { name: "DatabaseError" } });
  expect(host.steps).toEqual([]);
  expect(host.appended.map((e) => [e.seq, e.kind])).toEqual([[1, "RunFailed"]]);
});

test("a run's last write refused by the log fails the run in its place instead of leaving it to run again", async () => {
  const ended: string[] = [];
  class RefusingEnd extends MemoryHost {
    override async end(outcome: Parameters<MemoryHost["end"]>[0], events: NewEvent[]): Promise<void> {
      ended.push(outcome.status);
      if (outcome.status === "completed") throw Object.assign(new Error("total size of jsonb object elements exceeds the maximum"), { code: "54000" });
      return super.end(outcome, events);
    }
    override isRefusal(error: unknown): boolean {
      return (error as { code?: string }).code === "54000";
    }
  }
  const host = new RefusingEnd();
  const wf = workflow({ name: "refused-end" }, async (ctx) => ctx.step("big", () => "x"));
  const { outcome } = await execute(wf, { host });
  expect(ended).toEqual(["completed", "failed"]);
  expect(outcome).toMatchObject({ status: "failed", error: { name: "DatabaseError", message: expect.stringContaining("exceeds the maximum") } });
  // The refused StepCompleted and RunCompleted are void; the failure takes the first one's seq.
  expect(host.appended.map((e) => [e.seq, e.kind])).toEqual([[1, "RunFailed"]]);
});
