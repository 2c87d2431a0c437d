import { AlertNotFoundError, ErrorCode } from "@reprise/sdk";
import { expect, test } from "vitest";
import { sleep, waitFor } from "../../../../test-support/wait.js";
import { captureChannel, evaluated, failingWorkflow, runToEnd, useAlerts } from "./support.js";

const { db, client, worker } = useAlerts();

test("an alert unacknowledged after escalateAfter escalates to escalateTo once; an acknowledged one does not", async () => {
  const ingest = failingWorkflow("ingest");
  const export_ = failingWorkflow("export");
  const team = captureChannel();
  const oncall = captureChannel();
  await worker({
    workflows: [ingest, export_],
    alerts: {
      channels: { team: team.channel, oncall: oncall.channel },
      rules: [{ id: "failed", on: "run.failed", severity: "high", notify: ["team"], escalateAfter: "1s", escalateTo: ["oncall", "team"] }],
    },
  });
  // The acknowledged alert opens first, so it is due to escalate no later than the other.
  const acked = await runToEnd(client, export_);
  const unacked = await runToEnd(client, ingest);
  await evaluated(db);
  const alerts = await client.alerts.list();
  const ackedAlert = alerts.find((a) => a.runId === acked)!;
  const unackedAlert = alerts.find((a) => a.runId === unacked)!;
  const ack = await client.alerts.ack(ackedAlert.id, { by: "ada" });
  expect(ack).toMatchObject({ status: "acknowledged", acknowledgedBy: "ada" });
  expect(ack.acknowledgedAt).toBeInstanceOf(Date);

  // Escalations are decided in one statement: when the later alert escalates, the earlier
  // would have in the same one had nobody acknowledged it.
  const escalated = await waitFor(async () => {
    const alert = await client.alerts.get(unackedAlert.id);
    return alert.escalatedAt && alert.deliveries.every((d) => d.status === "delivered") ? alert : undefined;
  }, { what: "the escalation to be delivered" });
  expect(escalated.escalatedAt!.getTime() - escalated.firstSeenAt.getTime()).toBeGreaterThanOrEqual(1_000);
  expect(escalated.deliveries.map((d) => [d.channel, d.notification])).toEqual([
    ["team", "opened"],
    ["oncall", "escalated"],
    ["team", "escalated"],
  ]);
  expect(oncall.got.map((g) => [g.alert.id, g.delivery.notification])).toEqual([[unackedAlert.id, "escalated"]]);
  expect(oncall.got[0]!.alert.escalatedAt).toEqual(escalated.escalatedAt);

  const stillAcked = await client.alerts.get(ackedAlert.id);
  expect(stillAcked).toMatchObject({ status: "acknowledged" });
  expect(stillAcked.escalatedAt).toBeUndefined();
  expect(stillAcked.deliveries.map((d) => d.notification)).toEqual(["opened"]);
  expect(team.got.filter((g) => g.alert.id === ackedAlert.id).map((g) => g.delivery.notification)).toEqual(["opened"]);

  // Once escalated, never again: a few more evaluations (every 50 ms) add nothing.
  await sleep(300);
  expect((await client.alerts.get(unackedAlert.id)).deliveries).toHaveLength(3);
  expect(oncall.got).toHaveLength(1);
});

test("ack and resolve of an unknown alert throw AlertNotFoundError; acking a resolved alert leaves it resolved", async () => {
  await expect(client.alerts.ack("999999")).rejects.toBeInstanceOf(AlertNotFoundError);
  await expect(client.alerts.resolve("not-an-id")).rejects.toMatchObject({ code: ErrorCode.AlertNotFound });
  const [any] = await client.alerts.list({ status: "acknowledged" });
  const resolved = await client.alerts.resolve(any!.id);
  expect(resolved.status).toBe("resolved");
  expect((await client.alerts.ack(any!.id)).status).toBe("resolved");
  await expect(client.alerts.list({ status: "closed" as never })).rejects.toThrow(/alert status must be one of open, acknowledged, resolved/);
});
