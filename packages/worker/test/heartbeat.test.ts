import { Client, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { forkWorker } from "../../../test-support/child-worker.js";
import { useTestSchema } from "../../../test-support/db.js";
import { attemptsOf } from "../../../test-support/history.js";
import { waitFor } from "../../../test-support/wait.js";
// @ts-expect-error a plain JS fixture, shared with the child process
import { checkpointWorkflow, createSideTables } from "./fixtures/failure-workflows.mjs";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(async () => {
  await store.migrate();
  await createSideTables(db.pool, db.schema);
});
afterAll(() => store.close());

interface Seen {
  attempt: number;
  lastHeartbeat: unknown;
}

/** Imports rows in batches; every attempt but the last fails after a few batches. */
function importer(name: string, seen: Seen[]) {
  return workflow({ name }, async (ctx) => {
    const imported = await ctx.step(
      "import-rows",
      async ({ attempt, heartbeat, lastHeartbeat }) => {
        seen.push({ attempt, lastHeartbeat });
        let next = (lastHeartbeat as { nextRow?: number } | undefined)?.nextRow ?? 0;
        for (let batch = 0; batch < 2 && next < 600; batch++) {
          next += 100;
          await heartbeat({ nextRow: next });
        }
        if (next < 600) throw new Error(`connection reset after row ${next}`);
        return next;
      },
      { retry: { maxAttempts: 5, initialDelay: "50ms", jitter: 0 } },
    );
    // Another step has no heartbeat of its own.
    const other = await ctx.step("report", ({ lastHeartbeat }) => ({ lastHeartbeat: lastHeartbeat ?? null }));
    return { imported, other };
  });
}

test("an attempt that saves heartbeats and then fails: the next attempt reads the last one as lastHeartbeat", async () => {
  const seen: Seen[] = [];
  const wf = importer("import-in-process", seen);
  const worker = new Worker({ store, workflows: [wf], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    expect(await client.run(wf, undefined, { timeout: "20s" })).toEqual({ imported: 600, other: { lastHeartbeat: null } });
  } finally {
    await worker.stop();
  }
  expect(seen).toEqual([
    { attempt: 1, lastHeartbeat: undefined },
    { attempt: 2, lastHeartbeat: { nextRow: 200 } },
    { attempt: 3, lastHeartbeat: { nextRow: 400 } },
  ]);
});

test("heartbeats survive a suspension: the attempt after a long retry delay, on a fresh claim, reads them from the database", async () => {
  const seen: Seen[] = [];
  const wf = importer("import-suspended", seen);
  // Every retry delay (50 ms) is longer than suspendAfter: each attempt runs on a fresh claim.
  const worker = new Worker({ store, workflows: [wf], pollInterval: "50ms", suspendAfter: "10ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    const handle = await client.start(wf, undefined);
    expect(await handle.result({ timeout: "20s" })).toEqual({ imported: 600, other: { lastHeartbeat: null } });
    expect(attemptsOf(await handle.history(), "import-rows").map((a) => a.outcome)).toEqual(["failed", "failed", "completed"]);
  } finally {
    await worker.stop();
  }
  expect(seen.map((s) => s.lastHeartbeat)).toEqual([undefined, { nextRow: 200 }, { nextRow: 400 }]);
});

test("a worker process killed in the middle of a long step: the step runs again on another worker from its last heartbeat", async () => {
  const wf = checkpointWorkflow(db.pool, db.schema);
  const handle = await client.start(wf, undefined, { id: "checkpoint-1" });
  const child = forkWorker(new URL("./fixtures/failure-worker.mjs", import.meta.url), {
    DATABASE_URL: db.url,
    REPRISE_SCHEMA: db.schema,
    SCENARIO: "checkpoint",
  });
  try {
    await waitFor(
      async () => (await db.sql(`SELECT 1 FROM "${db.schema}".heartbeats WHERE run_id = 'checkpoint-1' AND details = '{"done": 4}'`)).length === 1,
      { what: `the first worker to save its fourth heartbeat (${child.stderr()})` },
    );
  } finally {
    await child.kill();
  }
  const worker = new Worker({ store, workflows: [wf], leaseDuration: "1s", pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    expect(await handle.result({ timeout: "20s" })).toEqual({ resumedFrom: 4 });
  } finally {
    await worker.stop();
  }
  const ran = await db.sql<{ attempt: number; pid: number; last_heartbeat: unknown }>(
    `SELECT attempt, pid, last_heartbeat FROM "${db.schema}".attempts WHERE run_id = 'checkpoint-1' ORDER BY at`,
  );
  // The crash recorded no failure, so it is attempt 1 again; it starts where the dead one got to.
  expect(ran).toEqual([
    { attempt: 1, pid: child.pid, last_heartbeat: null },
    { attempt: 1, pid: process.pid, last_heartbeat: { done: 4 } },
  ]);
});

test("an attempt that timed out can no longer save heartbeats: its late saves are refused and do not overwrite its successor's", async () => {
  const seen: Seen[] = [];
  const refused: unknown[] = [];
  let secondStarted!: () => void;
  const second = new Promise<void>((resolve) => (secondStarted = resolve));
  let zombieDone!: () => void;
  const zombie = new Promise<void>((resolve) => (zombieDone = resolve));
  const wf = workflow({ name: "zombie-heartbeat" }, async (ctx) =>
    ctx.step(
      "sync",
      async ({ attempt, heartbeat, lastHeartbeat }) => {
        seen.push({ attempt, lastHeartbeat });
        if (attempt === 1) {
          await heartbeat({ cursor: "a1" });
          // Ignores its timeout and, while attempt 2 runs, goes on saving progress.
          await second;
          await heartbeat({ cursor: "stale, from timed-out attempt 1" }).catch((e: unknown) => refused.push(e));
          zombieDone();
          return "late";
        }
        if (attempt === 2) {
          await heartbeat({ cursor: "a2" });
          secondStarted();
          await zombie;
          throw new Error("connection reset");
        }
        return "done";
      },
      { timeout: "150ms", retry: { maxAttempts: 3, initialDelay: "10ms", jitter: 0 } },
    ),
  );
  const worker = new Worker({ store, workflows: [wf], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
  try {
    expect(await client.run(wf, undefined, { timeout: "20s" })).toBe("done");
  } finally {
    await worker.stop();
  }
  expect(seen).toEqual([
    { attempt: 1, lastHeartbeat: undefined },
    { attempt: 2, lastHeartbeat: { cursor: "a1" } },
    { attempt: 3, lastHeartbeat: { cursor: "a2" } },
  ]);
  expect(refused).toHaveLength(1);
  expect(refused[0]).toMatchObject({ name: "StepTimeoutError" });
});
