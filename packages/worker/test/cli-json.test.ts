import { workflow } from "@reprise/sdk";
import { expect, test, vi } from "vitest";
import { waitFor } from "../../../test-support/wait.js";
// The built CLI, as the reprise binary runs it.
import { main } from "../dist/cli/main.js";
import { captureChannel, evaluated, failingWorkflow, runToEnd, useAlerts } from "./alerts/support.js";

// `--json` on every command that lists something: what scripts read instead of the tables.

const { db, client, worker } = useAlerts();

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main([...args, "--database-url", db.url, "--schema", db.schema]);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** Its output parsed as JSON, once it exited 0 and printed nothing else. */
async function json(...args: string[]): Promise<unknown> {
  const { code, out, err } = await cli(...args, "--json");
  expect({ code, err }, args.join(" ")).toEqual({ code: 0, err: "" });
  return JSON.parse(out) as unknown;
}

const squares = workflow({ name: "squares" }, async (ctx) => {
  ctx.log.info("squaring three numbers");
  const { deadLettered } = await ctx.map("square", [1, 2, 3], (n) => {
    if (n === 2) throw new Error("two is poisoned");
    return n * n;
  }, { onItemFailure: "dead-letter", retry: { maxAttempts: 1 } });
  return deadLettered.length;
});

test("--json on runs list, runs show, runs logs, schedules list, dlq list, alerts list and stats prints JSON", async () => {
  const sync = failingWorkflow("crm-sync");
  const chat = captureChannel();
  await worker({ workflows: [squares, sync], alerts: { channels: { chat: chat.channel }, rules: [{ id: "sync-failed", on: "run.failed", severity: "high", notify: ["chat"] }] } });
  await client.run(squares, undefined, { id: "squares-1", timeout: "20s" });
  const failed = await runToEnd(client, sync);
  await evaluated(db);
  await waitFor(() => chat.got.length === 1, { what: "the alert" });
  await client.schedules.create({ id: "nightly", workflow: squares, cron: "0 2 * * *" });

  const runs = (await json("runs", "list")) as { id: string; status: string }[];
  expect(runs.map((r) => [r.id, r.status])).toEqual(expect.arrayContaining([["squares-1", "completed"], [failed, "failed"]]));

  const shown = (await json("runs", "show", "squares-1")) as { run: { id: string; status: string }; history: { kind: string }[] };
  expect(shown.run).toMatchObject({ id: "squares-1", status: "completed" });
  expect(shown.history.map((e) => e.kind)).toContain("DeadLettered");

  // One object a line, so that --follow can stream them.
  const logs = await cli("runs", "logs", failed, "--json");
  expect(logs.code).toBe(0);
  const lines = logs.out.split("\n").map((l) => JSON.parse(l) as { message: string; step: string });
  expect(lines.map((l) => [l.step, l.message])).toEqual([
    ["extract", "connecting to the warehouse"],
    ["extract", "the warehouse answered 503"],
  ]);

  expect(((await json("schedules", "list")) as { id: string }[]).map((s) => s.id)).toEqual(["nightly"]);
  expect((await json("dlq", "list")) as unknown[]).toEqual([expect.objectContaining({ runId: "squares-1", map: "square", index: 1, item: 2 })]);
  expect((await json("alerts", "list")) as unknown[]).toEqual([expect.objectContaining({ rule: "sync-failed", workflowName: "crm-sync", status: "open" })]);
  const stats = (await json("stats")) as { workflowName: string; runs: number }[];
  expect(stats.map((s) => [s.workflowName, s.runs]).sort()).toEqual([["crm-sync", 1], ["squares", 1]]);
});
