import { Client } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forkWorker } from "../../../test-support/child-worker.js";
import { useTestSchema } from "../../../test-support/db.js";
import { attemptsOf } from "../../../test-support/history.js";
import { waitFor } from "../../../test-support/wait.js";
// @ts-expect-error a plain JS fixture, shared with the child process
import { createSideTables, slowRetryWorkflow } from "./fixtures/failure-workflows.mjs";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
const wf = slowRetryWorkflow(db.pool, db.schema);
beforeAll(async () => {
  await store.migrate();
  await createSideTables(db.pool, db.schema);
});
afterAll(() => store.close());

const fixture = new URL("./fixtures/failure-worker.mjs", import.meta.url);

/**
 * Starts a run of the slow-retry workflow (first attempt fails, retry after 3 s) on a worker
 * process, kills that process during the delay, and lets a worker in this process go on.
 */
async function killDuringRetryDelay(id: string, childOptions: object, expectStatus: string) {
  const handle = await client.start(wf, undefined, { id });
  const child = forkWorker(fixture, {
    DATABASE_URL: db.url,
    REPRISE_SCHEMA: db.schema,
    SCENARIO: "slow-retry",
    WORKER_OPTIONS: JSON.stringify(childOptions),
  });
  let killedAt: Date;
  try {
    const failed = await waitFor(async () => attemptsOf(await handle.history(), "flaky")[0], { what: `the first attempt to fail (${child.stderr()})` });
    expect(failed).toMatchObject({ attempt: 1, outcome: "failed", delayMs: 3000 });
    await waitFor(async () => (await handle.status()).status === expectStatus, { what: `the run to be ${expectStatus} during the delay` });
    await child.kill();
    killedAt = await store.now();
    expect(killedAt.getTime(), "the worker must die during the retry delay").toBeLessThan(failed.retryAt!);
  } finally {
    await child.kill();
  }

  const worker = new Worker({ store, workflows: [wf], leaseDuration: "1s", pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    expect(await handle.result({ timeout: "30s" })).toEqual({ attempt: 2, pid: process.pid });
  } finally {
    await worker.stop();
  }

  const attempts = attemptsOf(await handle.history(), "flaky");
  expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
    [1, "failed"],
    [2, "completed"],
  ]);
  // The retry waited for its recorded time, although the worker that recorded it was gone.
  expect(attempts[1]!.startedAt).toBeGreaterThanOrEqual(attempts[0]!.retryAt! - 15);
  const ran = await db.sql<{ attempt: number; pid: number }>(`SELECT attempt, pid FROM "${db.schema}".attempts WHERE run_id = $1 ORDER BY at`, [id]);
  expect(ran).toEqual([
    { attempt: 1, pid: child.pid },
    { attempt: 2, pid: process.pid },
  ]);
}

test("a worker killed while it waits out a 3 s retry delay: another worker performs the retry as attempt 2", async () => {
  // suspendAfter above the delay: the dying worker held the run and waited in process.
  await killDuringRetryDelay("retry-crash-in-process", { suspendAfter: "10s" }, "running");
});

test("a worker killed after it suspended a run for its 3 s retry delay: another worker performs the retry as attempt 2", async () => {
  await killDuringRetryDelay("retry-crash-suspended", { suspendAfter: "1s" }, "sleeping");
});
