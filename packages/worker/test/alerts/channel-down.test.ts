import { workflow } from "@reprise/sdk";
import { webhook } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
// The built CLI, as the reprise binary runs it.
import { main } from "../../dist/cli/main.js";
import { waitFor } from "../../../../test-support/wait.js";
import { captureChannel, evaluated, failingWorkflow, runToEnd, startReceiver, useAlerts } from "./support.js";
import { runCli, type CliResult } from "../../../../test-support/cli.js";

const { db, client, worker } = useAlerts();
let down = true;
const receiver = await startReceiver(() => (down ? 503 : 200));
afterAll(() => receiver.close());

/** Runs the CLI in this process; returns its exit code and what it printed. */
const cli = (...args: string[]): Promise<CliResult> => runCli(main, [...args, "--database-url", db.url, "--schema", db.schema]);

test("a channel that is down is retried with backoff and shows as failing; it blocks neither runs nor other channels, and gets the alert once it is back", async () => {
  const sync = failingWorkflow("crm-sync");
  const healthy = workflow({ name: "healthy" }, async (ctx) => ctx.step("work", () => "fine"));
  const chat = captureChannel();
  await worker({
    workflows: [sync, healthy],
    alerts: {
      channels: {
        pager: webhook(receiver.url),
        // Takes the request and never answers: each try ends at deliveryTimeout.
        stuck: () => new Promise(() => {}),
        chat: chat.channel,
      },
      rules: [{ id: "sync-failed", on: "run.failed", severity: "high", notify: ["pager", "stuck", "chat"] }],
      deliveryTimeout: "300ms",
      deliveryRetry: { initialDelay: "100ms", maxDelay: "200ms" },
    },
  });
  await runToEnd(client, sync);
  await evaluated(db);
  await waitFor(() => chat.got.length === 1, { what: "the healthy channel's delivery" });
  const failing = await waitFor(async () => {
    const [alert] = await client.alerts.list();
    const pager = alert?.deliveries.find((d) => d.channel === "pager");
    const stuck = alert?.deliveries.find((d) => d.channel === "stuck");
    return pager && stuck && pager.status === "failing" && pager.attempts >= 3 && stuck.status === "failing" ? alert : undefined;
  }, { what: "both broken channels to be failing" });
  expect(failing.deliveries.find((d) => d.channel === "pager")!.lastError).toMatch(/^WebhookError: HTTP 503 from http:\/\/127\.0\.0\.1:\d+: unavailable$/);
  expect(failing.deliveries.find((d) => d.channel === "stuck")!.lastError).toBe("timed out after 300ms");
  expect(failing.deliveries.find((d) => d.channel === "chat")!.status).toBe("delivered");
  // Runs are not held up by any of it.
  expect(await client.run(healthy, undefined, { timeout: "10s" })).toBe("fine");

  const listed = await cli("alerts", "list");
  expect(listed.code).toBe(0);
  const row = listed.out.split("\n").find((l) => l.startsWith(failing.id))!;
  expect(row).toContain("sync-failed");
  expect(row).toContain("crm-sync › extract");
  expect(row).toMatch(/pager failing ×\d+: WebhookError: HTTP 503/);
  expect(row).toMatch(/stuck failing ×\d+: timed out after 300ms/);
  expect(row).toContain("chat ✓");

  down = false;
  const back = await waitFor(async () => {
    const alert = await client.alerts.get(failing.id);
    return alert.deliveries.find((d) => d.channel === "pager")!.status === "delivered" ? alert : undefined;
  }, { what: "the pager's delivery once it is back" });
  const pager = back.deliveries.find((d) => d.channel === "pager")!;
  const keys = receiver.requests.map((r) => r.headers["idempotency-key"]);
  expect(keys.length).toBe(pager.attempts);
  expect(new Set(keys)).toEqual(new Set([pager.idempotencyKey]));
  expect(receiver.requests.at(-1)!.body).toMatchObject({ id: failing.id, notification: "opened", idempotencyKey: pager.idempotencyKey });
});

test("reprise alerts list --json, ack --by and resolve; bad input is one line and a non-zero exit", async () => {
  const [alert] = await client.alerts.list({ status: "open" });
  const json = await cli("alerts", "list", "--status", "open", "--json");
  expect(json.code).toBe(0);
  expect((JSON.parse(json.out) as { id: string }[]).map((a) => a.id)).toContain(alert!.id);

  const ack = await cli("alerts", "ack", alert!.id, "--by", "grace");
  expect(ack).toMatchObject({ code: 0, err: "" });
  expect(ack.out).toBe(`alert ${alert!.id} acknowledged by grace: it will not escalate`);
  expect(await client.alerts.get(alert!.id)).toMatchObject({ status: "acknowledged", acknowledgedBy: "grace" });
  expect((await cli("alerts", "list", "--status", "acknowledged")).out).toContain("acknowledged by grace");

  expect((await cli("alerts", "resolve", alert!.id)).out).toBe(`alert ${alert!.id} resolved`);
  expect((await cli("alerts", "list", "--status", "open")).out).toBe("no open alerts");

  expect(await cli("alerts", "ack")).toEqual({ code: 2, out: "", err: "reprise: usage: reprise alerts ack <id> [--by NAME]" });
  expect(await cli("alerts", "resolve", "424242")).toEqual({ code: 1, out: "", err: 'reprise: no alert with id "424242"' });
  expect(await cli("alerts", "list", "--status", "closed")).toEqual({ code: 2, out: "", err: 'reprise: --status must be one of open, acknowledged, resolved, got "closed"' });
  // An unknown command is named, before the usage line.
  expect((await cli("alerts", "silence")).err).toBe("reprise: unknown command 'silence'; usage: reprise alerts <list|ack|resolve> …");
});
