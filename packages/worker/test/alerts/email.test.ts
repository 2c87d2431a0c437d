import { email } from "@reprise/worker";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { AddressInfo } from "node:net";
import { afterAll, expect, test } from "vitest";
import { waitFor } from "../../../../test-support/wait.js";
import { allDelivered, failingWorkflow, runToEnd, useAlerts } from "./support.js";

const { client, worker } = useAlerts();

// A local SMTP server that keeps every message it is given.
const received: { envelope: { from: string; to: string[] }; mail: ParsedMail }[] = [];
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream).then(
      (mail) => {
        received.push({
          envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address) },
          mail,
        });
        callback();
      },
      (error: Error) => callback(error),
    );
  },
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const port = (server.server.address() as AddressInfo).port;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("an email carries the run id, the error and the last log lines, in text and HTML; its escalation is threaded under it", async () => {
  const payroll = failingWorkflow("payroll", { step: "pay", error: "bank API refused the batch" });
  await worker({
    workflows: [payroll],
    alerts: {
      channels: { oncall: email({ to: ["oncall@example.com", "lead@example.com"], from: "Reprise <reprise@alerts.example.com>", smtp: `smtp://127.0.0.1:${port}` }) },
      rules: [{ id: "payroll-failed", on: "run.failed", severity: "critical", notify: ["oncall"], escalateAfter: "500ms" }],
      dashboardUrl: "http://127.0.0.1:7777",
    },
  });
  const runId = await runToEnd(client, payroll);
  const [alert] = await allDelivered(client, 2);
  await waitFor(() => received.length === 2, { what: "two messages" });
  const [first, escalation] = received.sort((a, b) => (a.mail.subject!.startsWith("Re:") ? 1 : 0) - (b.mail.subject!.startsWith("Re:") ? 1 : 0));

  expect(first!.envelope).toEqual({ from: "reprise@alerts.example.com", to: ["oncall@example.com", "lead@example.com"] });
  expect(first!.mail.subject).toBe("[Reprise] CRITICAL: payroll › pay: Error");
  const text = first!.mail.text!;
  expect(text).toContain(`Run:       ${runId}`);
  expect(text).toContain("Error:     Error: bank API refused the batch");
  expect(text).toMatch(/Last log lines:\n {2}\S+ info pay#1 connecting to the warehouse\n {2}\S+ warn pay#1 the warehouse answered 503 \{"status":503\}/);
  expect(text).toContain(`Acknowledge: npx reprise alerts ack ${alert!.id}`);
  const html = first!.mail.html as string;
  expect(html).toContain(`<td>${runId}</td>`);
  expect(html).toContain("bank API refused the batch");
  expect(html).toContain(`<a href="http://127.0.0.1:7777/runs/${runId}">`);
  expect(html).toContain("the warehouse answered 503");
  expect(first!.mail.headers.get("x-reprise-idempotency-key")).toBe(alert!.deliveries.find((d) => d.notification === "opened")!.idempotencyKey);

  // Threaded: the escalation answers the first message, and both name the thread of the key.
  expect(escalation!.mail.subject).toBe(`Re: ${first!.mail.subject}`);
  expect(escalation!.mail.text).toContain("ESCALATED CRITICAL: payroll › pay: Error");
  expect(escalation!.mail.inReplyTo).toBe(first!.mail.messageId);
  const references = [escalation!.mail.references].flat();
  expect(references).toContain(first!.mail.messageId);
  expect(references).toContain([first!.mail.references].flat()[0]);
  expect(first!.mail.messageId).toMatch(/@alerts\.example\.com>$/);
});
