import { circuitBreaker, workflow } from "@reprise/sdk";
import { expect, test } from "vitest";
import { waitFor } from "../../../../test-support/wait.js";
import { captureChannel, runToEnd, useAlerts } from "./support.js";

const { client, worker } = useAlerts();

test("breaker.opened alerts once per opening, naming the breaker and the run whose failure opened it", async () => {
  const payments = circuitBreaker({ name: "payments-api", failureThreshold: 2, resetAfter: "1h" });
  const charge = workflow({ name: "charge" }, async (ctx) =>
    ctx.step("charge", () => {
      throw new Error("503 from payments");
    }, { breaker: payments, retry: { maxAttempts: 1 } }),
  );
  const { channel, got } = captureChannel();
  await worker({
    workflows: [charge],
    alerts: { channels: { ops: channel }, rules: [{ id: "breakers", on: "breaker.opened", severity: "warning", notify: ["ops"] }] },
  });
  await runToEnd(client, charge);
  const opener = await runToEnd(client, charge); // the second consecutive failure opens it
  await runToEnd(client, charge); // refused fast while open: no new opening
  await waitFor(() => got.length === 1, { what: "the breaker alert" });
  const [alert] = await client.alerts.list();
  expect(alert).toMatchObject({
    rule: "breakers",
    key: "breaker=payments-api",
    workflowName: "charge",
    runId: opener,
    errorName: "CircuitOpenError",
    message: 'circuit breaker "payments-api" opened after 2 consecutive failures; calls through it fail fast until a trial succeeds',
    count: 1,
  });
  expect(got[0]!.alert.id).toBe(alert!.id);
});

test("run.late: a schedule slot whose run has not started within lateBy alerts, with the slot's run id", async () => {
  // No worker takes the "reports" queue: the scheduler fires the slots, their runs wait
  // (side by side: with the default overlap, slots would be skipped while one waits).
  const report = workflow({ name: "nightly-report", queue: "reports", schedule: { every: "1s", catchup: "none", overlap: "allow" } }, async () => "done");
  const other = workflow({ name: "other" }, async () => "done");
  const { channel, got } = captureChannel();
  await worker({
    workflows: [report, other],
    queues: ["default"],
    schedulerInterval: "100ms",
    alerts: {
      channels: { late: channel },
      rules: [{ id: "late-report", on: "run.late", lateBy: "1s", workflows: ["nightly-report"], severity: "high", notify: ["late"] }],
    },
  });
  await waitFor(() => got.length === 1, { what: "the late alert", timeoutMs: 20_000 });
  const alert = got[0]!.alert;
  expect(alert).toMatchObject({ rule: "late-report", key: "schedule=nightly-report", workflowName: "nightly-report", errorName: "RunLate", attempt: 0 });
  expect(alert.runId).toMatch(/^sched:nightly-report:\d{4}-\d\d-\d\dT/);
  expect(alert.message).toMatch(/^schedule "nightly-report": the run of the slot of \S+ has not started [\d.]+s after it was due$/);
  // Later slots are late too: they count into the same alert, each once.
  const grown = await waitFor(async () => {
    const [a] = await client.alerts.list({ status: "open" });
    return a && a.count >= 3 ? a : undefined;
  }, { what: "more late slots counted" });
  const slots = await client.schedules.slots("nightly-report", { limit: 1000 });
  expect(grown.count).toBeLessThanOrEqual(slots.length);
  expect(got).toHaveLength(1);
});

test("run.late: a slot's run that started in time but has not finished within lateBy alerts", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const backup = workflow({ name: "hourly-backup", schedule: { every: "1s", catchup: "none" } }, async (ctx) => {
    await ctx.step("copy", () => released);
  });
  const { channel, got } = captureChannel();
  await worker({
    workflows: [backup],
    schedulerInterval: "100ms",
    alerts: {
      channels: { slow: channel },
      rules: [{ id: "slow-backup", on: "run.late", lateBy: "1s", workflows: ["hourly-backup"], severity: "warning", notify: ["slow"] }],
    },
  });
  try {
    await waitFor(() => got.length === 1, { what: "the late alert", timeoutMs: 20_000 });
  } finally {
    release();
  }
  const alert = got[0]!.alert;
  expect(alert).toMatchObject({ rule: "slow-backup", workflowName: "hourly-backup", errorName: "RunLate", attempt: 1 });
  expect(alert.message).toMatch(/^schedule "hourly-backup": the run of the slot of \S+ has not finished [\d.]+s after it was due$/);
  expect((await client.status(alert.runId)).startedAt).toBeInstanceOf(Date);
});
