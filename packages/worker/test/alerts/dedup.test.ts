import { workflow } from "@reprise/sdk";
import { expect, test } from "vitest";
import { sleep, waitFor } from "../../../../test-support/wait.js";
import { allDelivered, captureChannel, evaluated, failingWorkflow, runToEnd, useAlerts } from "./support.js";

const { db, client, worker } = useAlerts();

test("three failed runs inside the window are one alert with count 3, delivered once, with what it takes to fix it", async () => {
  const etl = failingWorkflow("nightly-etl");
  const { channel, got } = captureChannel();
  await worker({
    workflows: [etl],
    alerts: {
      channels: { capture: channel },
      rules: [{ id: "etl-failed", on: "run.failed", severity: "high", notify: ["capture"], dedupWindow: "1h" }],
      runbookUrl: (alert) => `https://wiki.example.com/runbooks/${alert.workflowName}`,
      dashboardUrl: "http://127.0.0.1:7777/",
    },
  });
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await runToEnd(client, etl));
  await evaluated(db);
  const [alert, ...others] = await allDelivered(client);
  expect(others).toEqual([]);
  expect(alert).toMatchObject({
    rule: "etl-failed",
    severity: "high",
    status: "open",
    key: "workflow=nightly-etl step=extract error=Error",
    workflowName: "nightly-etl",
    stepName: "extract",
    runId: runs[0],
    errorName: "Error",
    message: "503 from the warehouse",
    attempt: 1,
    count: 3,
    runbookUrl: "https://wiki.example.com/runbooks/nightly-etl",
    runUrl: `http://127.0.0.1:7777/runs/${runs[0]}`,
  });
  expect(alert!.lastLogLines).toHaveLength(2);
  expect(alert!.lastLogLines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z info extract#1 connecting to the warehouse$/);
  expect(alert!.lastLogLines[1]).toMatch(/ warn extract#1 the warehouse answered 503 \{"status":503\}$/);
  expect(alert!.lastSeenAt.getTime()).toBeGreaterThan(alert!.firstSeenAt.getTime());
  expect(alert!.deliveries).toMatchObject([{ channel: "capture", notification: "opened", status: "delivered", attempts: 1 }]);
  expect(got).toHaveLength(1);
  expect(got[0]!.alert).toMatchObject({ id: alert!.id, runId: runs[0], message: "503 from the warehouse" });
  expect(got[0]!.delivery).toEqual({ notification: "opened", idempotencyKey: alert!.deliveries[0]!.idempotencyKey, channel: "capture", attempt: 1 });
});

test("a failure after the window opens a new alert", async () => {
  const sync = failingWorkflow("hourly-sync", { step: "fetch" });
  const { channel, got } = captureChannel();
  await worker({
    workflows: [sync],
    // A channel's name means the same channel on every worker: this one is not "capture".
    alerts: { channels: { sync: channel }, rules: [{ id: "sync-failed", on: "run.failed", workflows: ["hourly-sync"], severity: "warning", notify: ["sync"], dedupWindow: "1s" }] },
  });
  const first = await runToEnd(client, sync);
  await sleep(1_200); // the second failure's time is more than the window after the first's
  const second = await runToEnd(client, sync);
  await evaluated(db);
  await waitFor(() => got.length === 2, { what: "two deliveries" });
  const alerts = (await client.alerts.list()).filter((a) => a.rule === "sync-failed");
  expect(alerts.map((a) => [a.runId, a.count])).toEqual([
    [second, 1],
    [first, 1],
  ]);
  expect(got.map((g) => g.alert.runId)).toEqual([first, second]);
});

test("failures a fork copies from its source are not new failures: only what the fork itself does alerts", async () => {
  const steps = workflow({ name: "two-steps" }, async (ctx) => {
    await ctx.step("optional", () => {
      throw new Error("optional step broke");
    }, { retry: { maxAttempts: 1 } }).catch(() => "skipped");
    return ctx.step("required", () => {
      throw new Error("required step broke");
    }, { retry: { maxAttempts: 1 } });
  });
  const { channel, got } = captureChannel();
  await worker({
    workflows: [steps],
    alerts: { channels: { steps: channel }, rules: [{ id: "step-failures", on: "step.failed", severity: "info", notify: ["steps"], dedupBy: ["step", "run"] }] },
  });
  const source = await runToEnd(client, steps);
  const fork = await client.fork(source, { fromStep: "required" });
  await fork.result({ timeout: "20s" }).catch(() => undefined);
  await evaluated(db);
  await waitFor(() => got.length === 3, { what: "three alerts" });
  const alerts = (await client.alerts.list()).filter((a) => a.rule === "step-failures");
  expect(alerts.map((a) => [a.runId, a.stepName]).sort()).toEqual(
    [
      [source, "optional"],
      [source, "required"],
      [fork.id, "required"],
    ].sort(),
  );
});
