import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../test-support/db.js";
import { dev, prefectRetry } from "./index.js";
import { executions } from "./workflow.js";

const db = useTestSchema();
// The CLI the demo runs finds the test's schema here.
process.env.REPRISE_SCHEMA = db.schema;
const client = new Client(db.connection);
afterAll(() => client.close());

test("the prefect-retry demo fails at ping, is retried with the CLI, and create-payload runs once", async () => {
  const worker = new Worker({ ...db.connection, workflows: [prefectRetry], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
  const lines: string[] = [];
  try {
    await dev({ client, databaseUrl: db.url, log: (line) => lines.push(line) }, { dir: mkdtempSync(join(tmpdir(), "prefect-retry-")), payloadMs: 100 });
  } finally {
    await worker.stop();
  }
  const text = lines.join("\n");
  const [runId] = [...executions.keys()];
  expect(executions.get(runId!)).toEqual({ "create-payload": 1, ping: 4 });
  expect(text).toContain(`Run ${runId} failed: step "ping" gave up after 3 attempts.`);
  expect(text).toContain(`run ${runId} queued again`);
  expect(text).toMatch(/completed: pong from https:\/\/status\.example\.com\/health with probe-\w+/);
  expect(text).toContain("create-payload ran 1 time in all; ping ran 4 times");
  expect(await client.status(runId!)).toMatchObject({ status: "completed", attempt: 2 });
});
