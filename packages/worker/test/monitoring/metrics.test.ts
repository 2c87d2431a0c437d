import { Client, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../../../test-support/db.js";

const db = useTestSchema();
const client = new Client(db.connection);
afterAll(() => client.close());

/** The value of one sample of a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

let failures = 0;
const flaky = workflow({ name: "metered", queue: "metered-q", retry: { maxAttempts: 3, initialDelay: "20ms", jitter: 0 } }, async (ctx) => {
  const value = await ctx.step("flaky", () => {
    if (failures++ === 0) throw new Error("the first attempt fails");
    return 41;
  });
  return ctx.step("add", () => value + 1);
});
const idle = workflow({ name: "never-run", queue: "metered-backlog" }, async () => "never");

test("/metrics scraped over HTTP shows the counters of a run with one retry, and the queues' backlog", async () => {
  const worker = new Worker({
    ...db.connection,
    workflows: [flaky],
    queues: ["metered-q", "metered-backlog"],
    logger: silentLogger,
    pollInterval: "100ms",
    metrics: { port: 0, host: "127.0.0.1" },
  });
  await worker.start();
  try {
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // Two runs nobody here can take: the backlog the queue gauges report.
    await client.start(idle, undefined, { id: "backlog-1" });
    await client.start(idle, undefined, { id: "backlog-2" });
    expect(await client.run(flaky, undefined, { timeout: "20s" })).toBe(42);

    const response = await fetch(worker.metricsUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    const wf = { workflow: "metered" };
    expect(sample(text, "reprise_runs_started_total", wf)).toBe(1);
    expect(sample(text, "reprise_runs_ended_total", { ...wf, status: "completed" })).toBe(1);
    expect(sample(text, "reprise_runs_ended_total", { ...wf, status: "failed" })).toBe(0);
    expect(sample(text, "reprise_step_attempts_total", { ...wf, outcome: "failed" })).toBe(1);
    expect(sample(text, "reprise_step_attempts_total", { ...wf, outcome: "succeeded" })).toBe(2);
    expect(sample(text, "reprise_step_retries_total", wf)).toBe(1);
    expect(sample(text, "reprise_step_duration_seconds_count", { ...wf, outcome: "succeeded" })).toBe(2);
    expect(sample(text, "reprise_run_duration_seconds_count", { ...wf, status: "completed" })).toBe(1);
    // The step recovered: from its failed attempt to the one that succeeded, past the 20 ms delay.
    expect(sample(text, "reprise_time_to_recovery_seconds_count", wf)).toBe(1);
    expect(sample(text, "reprise_time_to_recovery_seconds_sum", wf)).toBeGreaterThanOrEqual(0.02);
    expect(sample(text, "reprise_leases_lost_total", wf)).toBe(0);
    // Read from the database when scraped: two runs wait in the queue no worker here runs.
    expect(sample(text, "reprise_queue_ready", { queue: "metered-backlog" })).toBe(2);
    expect(sample(text, "reprise_queue_lag_seconds", { queue: "metered-backlog" })).toBeGreaterThan(0);
    expect(sample(text, "reprise_queue_ready", { queue: "metered-q" })).toBe(0);
    // Counted by the alerts; declared from the start so that dashboards can rely on it.
    expect(text).toContain("# TYPE reprise_alerts_sent_total counter");

    expect((await fetch(worker.metricsUrl!.replace("/metrics", "/other"))).status).toBe(404);
    // The registry an application can serve from its own endpoint is the same one.
    expect(sample(await worker.metricsRegistry.metrics(), "reprise_step_retries_total", wf)).toBe(1);
  } finally {
    await worker.stop();
  }
  await expect(fetch(worker.metricsUrl!)).rejects.toThrow();
});

test("two workers in one process keep registries of their own; metrics: false counts nothing", async () => {
  const a = new Worker({ ...db.connection, workflows: [flaky], logger: silentLogger, scheduler: false });
  const b = new Worker({ ...db.connection, workflows: [flaky], logger: silentLogger, scheduler: false });
  const off = new Worker({ ...db.connection, workflows: [flaky], logger: silentLogger, scheduler: false, metrics: false });
  expect(a.metricsRegistry).not.toBe(b.metricsRegistry);
  expect(await a.metricsRegistry.metrics()).toContain("reprise_runs_started_total");
  expect(await b.metricsRegistry.metrics()).toContain("reprise_runs_started_total");
  expect((await off.metricsRegistry.metrics()).trim()).toBe("");
  await Promise.all([a.stop(), b.stop(), off.stop()]);
});
