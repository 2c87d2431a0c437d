import { Client } from "@reprise/sdk";
import { consoleChannel, silentLogger, Worker } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../test-support/db.js";
import { alerts, dev, receiver, syncInvoices } from "./index.js";

const db = useTestSchema();
// The CLI the demo runs finds the test's schema here.
process.env.REPRISE_SCHEMA = db.schema;
const client = new Client(db.connection);
afterAll(() => client.close());

test("the alerting demo: three failures are one alert with count 3, a fourth pages, the ack stops its escalation, the next success resolves both", async () => {
  const consoleLines: string[] = [];
  const worker = new Worker({
    ...db.connection,
    workflows: [syncInvoices],
    pollInterval: "50ms",
    logger: silentLogger,
    alerts: { ...alerts, channels: { ...alerts.channels, console: consoleChannel({ write: (line) => consoleLines.push(line) }) } },
  });
  await worker.start();
  const lines: string[] = [];
  try {
    await dev({ client, databaseUrl: db.url, log: (line) => lines.push(line) });
  } finally {
    await worker.stop();
  }
  const text = lines.join("\n");
  const all = await client.alerts.list();
  const grouped = all.find((a) => a.rule === "invoices-failing")!;
  const page = all.find((a) => a.rule === "invoices-down")!;
  expect(text).toContain(`One alert (${grouped.id}), count 3: the console and the team webhook were told once.`);
  expect(text).toContain(`alert ${page.id} acknowledged by you: it will not escalate`);
  expect(text).toContain("6 s later: acknowledged, not escalated; oncall got nothing.");
  expect(grouped).toMatchObject({ status: "resolved", count: 4 });
  expect(page).toMatchObject({ status: "resolved", count: 1, acknowledgedBy: "you" });
  expect(page.escalatedAt).toBeUndefined();
  // One console line per notification: each alert opened once (the count grew silently), then both resolved.
  const shown = consoleLines.map((l) => /^\[alert (\d+)\] (\w+) (\w+) \(([\w-]+)\)/.exec(l)!.slice(1).join(" "));
  expect(shown.slice(0, 2)).toEqual([`${grouped.id} WARNING opened invoices-failing`, `${page.id} CRITICAL opened invoices-down`]);
  expect(shown.slice(2).sort()).toEqual([`${grouped.id} WARNING resolved invoices-failing`, `${page.id} CRITICAL resolved invoices-down`].sort());
  expect(receiver.received).toBe(4); // team: two opened, two resolved; oncall: nothing
});
