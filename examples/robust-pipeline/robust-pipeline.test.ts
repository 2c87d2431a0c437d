import { Client } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../test-support/db.js";
import { dev, robustPipeline } from "./index.js";
import { alerts } from "./workflow.js";

const db = useTestSchema();
const client = new Client(db.connection);
afterAll(() => client.close());

test("the robust-pipeline demo: retries and a resumed checkpoint, a fallback to the cache, a deadline with an alert", async () => {
  const worker = new Worker({ ...db.connection, workflows: [robustPipeline], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
  const lines: string[] = [];
  try {
    await dev({ client, log: (line) => lines.push(line) });
  } finally {
    await worker.stop();
  }
  const runs = (await client.listRuns({ workflow: "robust-pipeline" })).reverse();
  expect(runs.map((r) => r.status)).toEqual(["completed", "completed", "failed"]);
  const [flaky, down, slow] = runs;

  expect(flaky!.output).toMatchObject({ source: "live", rows: 1200, model: { epochs: 5, resumedAfterEpoch: 2 } });
  expect(down!.output).toMatchObject({ source: "cache", rows: 1150, model: { resumedAfterEpoch: 0 } });
  expect(slow!.error).toMatchObject({ name: "WorkflowTimeoutError" });

  const text = lines.join("\n");
  expect(text).toContain('attempt 1 failed: StepTimeoutError: step "extract" timed out after 1000ms -> retry in 200ms');
  expect(text).toContain("attempt 2 failed: Error: 503 Service Unavailable from the warehouse API -> retry in 400ms");
  expect(text).toContain("attempt 4 failed: Error: 503 Service Unavailable from the warehouse API -> gave up");
  expect(text).toContain("train        attempt 1 failed: Error: CUDA out of memory in epoch 3 -> retry in");
  expect(alerts).toEqual([
    `step extract of run ${down!.id} gave up after 4 attempts: Error: 503 Service Unavailable from the warehouse API`,
    `pipeline run ${slow!.id} failed: WorkflowTimeoutError: run ${slow!.id} timed out: it did not finish within 10000ms of its start`,
  ]);
});
