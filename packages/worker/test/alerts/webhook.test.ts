import { webhook } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { waitFor } from "../../../../test-support/wait.js";
import { allDelivered, failingWorkflow, runToEnd, startReceiver, useAlerts } from "./support.js";

const { client, worker } = useAlerts();
const receiver = await startReceiver();
afterAll(() => receiver.close());

test("a webhook receives the alert object as JSON and a Slack message with blocks, each with its Idempotency-Key", async () => {
  const etl = failingWorkflow("warehouse-load", { step: "copy", error: "relation \"sales\" does not exist" });
  await worker({
    workflows: [etl],
    alerts: {
      channels: {
        hook: webhook(`${receiver.url}?to=json`, { format: "json", headers: { authorization: "Bearer s3cret" } }),
        slack: webhook(`${receiver.url}?to=slack`, { format: "slack" }),
      },
      rules: [{ id: "load-failed", on: "run.failed", severity: "critical", notify: ["hook", "slack"] }],
      runbookUrl: "https://wiki.example.com/runbooks/warehouse",
      dashboardUrl: "http://127.0.0.1:7777",
    },
  });
  const runId = await runToEnd(client, etl);
  const [alert] = await allDelivered(client, 2);
  await waitFor(() => receiver.requests.length === 2, { what: "two requests" });
  const json = receiver.requests.find((r) => !("blocks" in r.body))!;
  const slack = receiver.requests.find((r) => "blocks" in r.body)!;
  const keyOf = (channel: string) => alert!.deliveries.find((d) => d.channel === channel)!.idempotencyKey;

  expect(json.headers["idempotency-key"]).toBe(keyOf("hook"));
  expect(json.headers.authorization).toBe("Bearer s3cret");
  expect(json.headers["content-type"]).toBe("application/json");
  expect(json.body).toEqual({
    id: alert!.id,
    rule: "load-failed",
    severity: "critical",
    status: "open",
    key: "workflow=warehouse-load step=copy error=Error",
    workflowName: "warehouse-load",
    stepName: "copy",
    runId,
    errorName: "Error",
    message: 'relation "sales" does not exist',
    attempt: 1,
    lastLogLines: [expect.stringContaining("info copy#1 connecting to the warehouse"), expect.stringContaining("warn copy#1 the warehouse answered 503")],
    runbookUrl: "https://wiki.example.com/runbooks/warehouse",
    runUrl: `http://127.0.0.1:7777/runs/${runId}`,
    firstSeenAt: alert!.firstSeenAt.toISOString(),
    lastSeenAt: alert!.lastSeenAt.toISOString(),
    count: 1,
    notification: "opened",
    idempotencyKey: keyOf("hook"),
  });

  expect(slack.headers["idempotency-key"]).toBe(keyOf("slack"));
  const blocks = slack.body.blocks as { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { url?: string; text: unknown }[] }[];
  const text = JSON.stringify(blocks);
  expect(slack.body.text).toContain("CRITICAL");
  expect(blocks[0]).toMatchObject({ type: "header", text: { text: "CRITICAL: warehouse-load › copy: Error" } });
  const fields = blocks.find((b) => b.fields)!.fields!.map((f) => f.text);
  expect(fields).toEqual(
    expect.arrayContaining(["*Severity*\ncritical", "*Workflow*\nwarehouse-load", "*Step*\ncopy (attempt 1)", `*Run*\n<http://127.0.0.1:7777/runs/${runId}|${runId}>`]),
  );
  expect(text).toContain("*Error*\\n```Error: relation \\\"sales\\\" does not exist```");
  expect(text).toContain("*Last log lines*");
  expect(text).toContain("the warehouse answered 503");
  const buttons = blocks.find((b) => b.type === "actions")!.elements!.map((e) => e.url);
  expect(buttons).toEqual(["https://wiki.example.com/runbooks/warehouse", `http://127.0.0.1:7777/runs/${runId}`]);
  expect(text).toContain(`idempotency key ${keyOf("slack")}`);
});
