import { workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { webhook, type AlertsOptions } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { waitFor } from "../../../../test-support/wait.js";
import { evaluated, failingWorkflow, runToEnd, startReceiver, useAlerts } from "./support.js";

const { db, client, worker } = useAlerts();
const receiver = await startReceiver();
afterAll(() => receiver.close());

const flaky = workflow({ name: "flaky-fetch" }, async (ctx) =>
  ctx.step(
    "fetch",
    ({ attempt }) => {
      if (attempt < 3) throw new Error(`timeout on attempt ${attempt}`);
      return "ok";
    },
    { retry: { maxAttempts: 3, initialDelay: "10ms", jitter: 0 } },
  ),
);
const workflows = [failingWorkflow("import-a"), failingWorkflow("import-b"), failingWorkflow("import-c", { step: "parse" }), flaky];

test("two workers with the same rules: each fact is evaluated once and each alert delivered once", async () => {
  const alerts: AlertsOptions = {
    channels: { hook: webhook(receiver.url) },
    rules: [
      { id: "imports", on: "run.failed", severity: "warning", notify: ["hook"] },
      { id: "import-steps", on: "step.failed", severity: "info", notify: ["hook"], dedupBy: ["workflow", "step", "error", "run"] },
      { id: "retries", on: "step.retrying", minAttempt: 2, severity: "info", notify: ["hook"] },
    ],
  };
  await Promise.all([worker({ workflows, alerts, concurrency: 2 }), worker({ workflows, alerts, concurrency: 2 })]);
  const runs: string[] = [];
  for (let round = 0; round < 3; round++) {
    runs.push(...(await Promise.all(workflows.map((wf) => runToEnd(client, wf)))));
  }
  await evaluated(db);
  const all = await waitFor(async () => {
    const list = await client.alerts.list();
    return list.length === 13 && list.every((a) => a.deliveries.every((d) => d.status === "delivered")) ? list : undefined;
  }, { what: "13 alerts, delivered" });
  const count = (rule: string) => all.filter((a) => a.rule === rule);
  // run.failed: one alert per workflow (3 failures each); step.failed: one per failed run; retrying: attempt 2 of each flaky run.
  expect(count("imports").map((a) => [a.workflowName, a.count]).sort()).toEqual([
    ["import-a", 3],
    ["import-b", 3],
    ["import-c", 3],
  ]);
  expect(count("import-steps")).toHaveLength(9);
  expect(count("retries").map((a) => [a.workflowName, a.stepName, a.attempt, a.count])).toEqual([["flaky-fetch", "fetch", 2, 3]]);
  await waitFor(() => receiver.requests.length >= 13);
  const keys = receiver.requests.map((r) => r.headers["idempotency-key"]);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.length).toBe(13);
  expect(new Set(receiver.requests.map((r) => r.body.id))).toEqual(new Set(all.map((a) => a.id)));
});

test("an evaluation that fails before it commits leaves its facts in the inbox and writes nothing", async () => {
  const store = createStore({ connectionString: db.url, schema: db.schema });
  try {
    await store.alerts.register([{ id: "probe", kind: "RunFailed" }]);
    await runToEnd(client, workflows[0]!);
    const crash = store.alerts.evaluate(["probe"], async (tx) => {
      const facts = await tx.takeInbox(["probe"], 10);
      expect(facts).toHaveLength(1);
      await tx.open({
        rule: "probe", key: "k", severity: "info", workflow: "import-a", step: undefined, runId: facts[0]!.runId!, errorName: "Error",
        message: "m", attempt: 1, lastLogLines: [], runbookUrl: undefined, runUrl: undefined, seenAt: facts[0]!.at, notify: ["hook"],
        escalateAfterMs: undefined, escalateTo: [], autoResolve: false, resolveNotify: [], resolveAfter: facts[0]!.at,
      });
      throw new Error("the process died here");
    });
    await expect(crash).rejects.toThrow("the process died here");
    const [left] = await db.sql<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".alert_inbox WHERE rule = 'probe'`);
    expect(left!.n).toBe("1");
    // Nothing of the crashed evaluation is written (the workers' own rules may alert on the run meanwhile).
    expect((await client.alerts.list()).filter((a) => a.rule === "probe")).toEqual([]);
    // Evaluated again, it is taken once.
    const again = await store.alerts.evaluate(["probe"], (tx) => tx.takeInbox(["probe"], 10));
    expect(again.ran && again.value).toHaveLength(1);
    const third = await store.alerts.evaluate(["probe"], (tx) => tx.takeInbox(["probe"], 10));
    expect(third.ran && third.value).toHaveLength(0);
  } finally {
    await store.close();
  }
});
