import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Client } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";
// @ts-expect-error a plain JS fixture, shared with the child process
import { countingWorkflow } from "./fixtures/counting-workflow.mjs";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
afterAll(() => store.close());

test("a run whose worker process is SIGKILLed mid-run resumes on another worker without re-running completed steps", async () => {
  await store.migrate();
  await db.sql(`CREATE TABLE "${db.schema}".executions (run_id text, step int, pid int)`);
  const wf = countingWorkflow(db.pool, db.schema);
  const client = new Client({ store, migrate: false });
  const handle = await client.start(wf, undefined, { id: "crash-1" });

  const child = fork(fileURLToPath(new URL("./fixtures/crash-worker.mjs", import.meta.url)), {
    env: { ...process.env, DATABASE_URL: db.url, REPRISE_SCHEMA: db.schema },
    stdio: "ignore",
  });
  const completed = async () =>
    (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".events WHERE run_id = 'crash-1' AND kind = 'StepCompleted'`))[0]!.n;
  await waitFor(async () => (await completed()) >= 3, { what: "three steps recorded by the first worker" });
  child.kill("SIGKILL");
  await once(child, "exit");
  const recordedAtKill = await completed();

  const worker = new Worker({ store, workflows: [wf], leaseDuration: "1s", pollInterval: "100ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    expect(await handle.result({ timeout: "30s" })).toEqual([0, 1, 2, 3, 4, 5]);
  } finally {
    await worker.stop();
  }

  const runs = await db.sql<{ step: number; n: number; pids: number[] }>(
    `SELECT step, count(*)::int AS n, array_agg(DISTINCT pid) AS pids FROM "${db.schema}".executions GROUP BY step ORDER BY step`,
  );
  for (const { step, n, pids } of runs) {
    if (step < recordedAtKill) {
      expect(n, `step ${step} was recorded before the kill`).toBe(1);
      expect(pids).toEqual([child.pid]);
    } else if (step === recordedAtKill) {
      expect(n, "the step in flight at the kill may run twice").toBeLessThanOrEqual(2);
    } else {
      expect(n).toBe(1);
      expect(pids).toEqual([process.pid]);
    }
  }
  const perPosition = await db.sql<{ position: number; n: number }>(
    `SELECT position, count(*)::int AS n FROM "${db.schema}".events WHERE run_id = 'crash-1' AND kind = 'StepCompleted' GROUP BY position`,
  );
  expect(perPosition).toHaveLength(6);
  expect(perPosition.every((p) => p.n === 1)).toBe(true);
});
