import { expect, test } from "vitest";
import { waitFor } from "../../../../test-support/wait.js";
import { captureChannel, evaluated, failingWorkflow, runToEnd, useAlerts } from "./support.js";

const { db, client, worker } = useAlerts();

test("consecutiveFailures: 3 fires on the third failed run in a row, not after a success in between", async () => {
  // Its failure hook runs after RunFailed is recorded: the streak must not depend on when
  // the run's status moves.
  const billing = failingWorkflow("billing-run", { hookMs: 200 });
  const { channel, got } = captureChannel();
  await worker({
    workflows: [billing],
    alerts: {
      channels: { pager: channel },
      rules: [{ id: "billing-streak", on: "run.failed", consecutiveFailures: 3, severity: "critical", notify: ["pager"], dedupBy: ["workflow", "run"] }],
    },
  });
  const ids: string[] = [];
  const run = async (ok: boolean) => {
    ids.push(await runToEnd(client, billing, { ok }));
    await evaluated(db);
    return (await client.alerts.list()).map((a) => a.runId);
  };
  expect(await run(false)).toEqual([]);
  expect(await run(false)).toEqual([]);
  expect(await run(true)).toEqual([]); // a success: the streak starts over
  expect(await run(false)).toEqual([]);
  expect(await run(false)).toEqual([]);
  expect(await run(false)).toEqual([ids[5]]); // three failed in a row: fires on the third
  expect(await run(false)).toEqual([ids[6], ids[5]]); // still failing: the last three all failed again
  await waitFor(() => got.length === 2, { what: "both alerts delivered" });
  expect(got.map((g) => [g.alert.runId, g.alert.severity])).toEqual([
    [ids[5], "critical"],
    [ids[6], "critical"],
  ]);
});

test("autoResolve: the workflow's next completed run resolves the alert, and the next failure opens a new one", async () => {
  const report = failingWorkflow("daily-report");
  const { channel, got } = captureChannel();
  await worker({
    workflows: [report],
    alerts: {
      channels: { chat: channel },
      rules: [{ id: "report-failed", on: "run.failed", severity: "warning", notify: ["chat"], autoResolve: true, notifyOnResolve: true }],
    },
  });
  await runToEnd(client, report);
  await runToEnd(client, report);
  await evaluated(db);
  const [open] = await client.alerts.list();
  expect(open).toMatchObject({ rule: "report-failed", status: "open", count: 2 });
  await runToEnd(client, report, { ok: true });
  const resolved = await waitFor(async () => {
    const alert = await client.alerts.get(open!.id);
    return alert.status === "resolved" ? alert : undefined;
  });
  expect(resolved.resolvedAt).toBeInstanceOf(Date);
  await waitFor(() => got.length === 2, { what: "the resolution delivered" });
  expect(got.map((g) => [g.alert.id, g.delivery.notification])).toEqual([
    [open!.id, "opened"],
    [open!.id, "resolved"],
  ]);
  const next = await runToEnd(client, report);
  await evaluated(db);
  const alerts = (await client.alerts.list()).filter((a) => a.rule === "report-failed");
  expect(alerts.map((a) => [a.status, a.count])).toEqual([
    ["open", 1],
    ["resolved", 2],
  ]);
  expect(alerts[0]!.runId).toBe(next);
});
