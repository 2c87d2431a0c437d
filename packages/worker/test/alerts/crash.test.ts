import { once } from "node:events";
import { webhook } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forkWorker } from "../../../../test-support/child-worker.js";
import { waitFor } from "../../../../test-support/wait.js";
import { failingWorkflow, startReceiver, useAlerts } from "./support.js";

const { db, client, worker } = useAlerts();
// The first request is taken and never answered: the worker that sent it is killed meanwhile.
const receiver = await startReceiver((_, index) => (index === 0 ? "hang" : 200));
beforeAll(() => client.store().then((s) => s.migrate()));
afterAll(() => receiver.close());

test("a worker SIGKILLed between the failure and the delivery: another worker delivers it, with the same idempotency key", async () => {
  const child = forkWorker(new URL("../fixtures/alert-worker.mjs", import.meta.url), {
    DATABASE_URL: db.url,
    REPRISE_SCHEMA: db.schema,
    HOOK_URL: receiver.url,
  });
  try {
    await once(child.process, "message");
    // Same name as the child's workflow: this process only starts the run.
    const handle = await client.start(failingWorkflow("ledger-close"), undefined);
    await expect(handle.result({ timeout: "20s" })).rejects.toThrow(/the ledger does not balance/);
    await waitFor(() => receiver.requests.length === 1, { what: "the child's delivery attempt" });
    const [pending] = await client.alerts.list();
    expect(pending!.deliveries).toMatchObject([{ channel: "pager", status: "pending", attempts: 1 }]);
  } finally {
    await child.kill();
  }

  // A worker with the same channel takes the delivery over once the dead one's claim lapses.
  await worker({
    workflows: [failingWorkflow("ledger-close")],
    alerts: {
      channels: { pager: webhook(receiver.url) },
      rules: [{ id: "ledger-failed", on: "run.failed", severity: "high", notify: ["pager"] }],
      deliveryTimeout: "1s",
    },
  });
  const [alert, ...others] = await waitFor(async () => {
    const alerts = await client.alerts.list();
    return alerts[0]?.deliveries[0]?.status === "delivered" ? alerts : undefined;
  }, { what: "the delivery by the second worker" });
  expect(others).toEqual([]);
  expect(alert).toMatchObject({ rule: "ledger-failed", count: 1, runId: expect.any(String) });
  const delivery = alert!.deliveries[0]!;
  expect(delivery).toMatchObject({ status: "delivered", attempts: 2 });
  expect(receiver.requests).toHaveLength(2);
  expect(receiver.requests.map((r) => r.headers["idempotency-key"])).toEqual([delivery.idempotencyKey, delivery.idempotencyKey]);
  expect(receiver.requests[1]!.body).toEqual(receiver.requests[0]!.body);
});
