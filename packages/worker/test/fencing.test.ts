import { Client, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
beforeAll(() => store.migrate());
afterAll(() => store.close());

test("an append with a stale lease epoch is refused and writes nothing", async () => {
  const wf = workflow({ name: "fence-sql" }, async (ctx) => ctx.step("a", () => 1));
  const client = new Client({ store, migrate: false });
  await client.start(wf, undefined, { id: "fence-sql-1" });
  const [claimed] = await store.claimRuns({ queue: "default", workflows: ["fence-sql"], limit: 1, owner: "w1", leaseMs: 60_000 });
  expect(claimed!.id).toBe("fence-sql-1");
  // Another worker takes the run over (as after the lease expired): the epoch moves on.
  await db.sql(`UPDATE "${db.schema}".runs SET available_at = now() - interval '1 second' WHERE id = 'fence-sql-1'`);
  const [taken] = await store.claimRuns({ queue: "default", workflows: ["fence-sql"], limit: 1, owner: "w2", leaseMs: 60_000 });
  expect(taken!.epoch).toBe(claimed!.epoch + 1);

  const stale = await store.commitRuns({
    owner: "w1",
    leases: [{ id: "fence-sql-1", epoch: claimed!.epoch }],
    events: [{ runId: "fence-sql-1", seq: 1, kind: "StepCompleted", position: 0, name: "a", payload: '{"result":1,"attempt":1}' }],
    moves: [],
    logs: [],
  });
  expect(stale.size).toBe(0);
  const current = await store.commitRuns({
    owner: "w2",
    leases: [{ id: "fence-sql-1", epoch: taken!.epoch }],
    events: [{ runId: "fence-sql-1", seq: 1, kind: "StepCompleted", position: 0, name: "a", payload: '{"result":2,"attempt":1}' }],
    moves: [],
    logs: [],
  });
  expect([...current]).toEqual(["fence-sql-1"]);
  const events = await store.history("fence-sql-1");
  expect(events.map((e) => [e.seq, e.kind, (e.payload as { result?: number }).result])).toEqual([
    [0, "RunStarted", undefined],
    [1, "StepCompleted", 2],
  ]);
});

test("a worker whose lease expired cannot append, and its in-flight step sees its signal aborted", async () => {
  let abortedOnA = false;
  let releaseA!: () => void;
  const aIsStuck = new Promise<void>((resolve) => (releaseA = resolve));
  let calls = 0;
  const wf = workflow({ name: "fence-worker" }, async (ctx) => {
    const first = await ctx.step("slow", async ({ signal }) => {
      calls++;
      if (calls === 1) {
        // Worker A: hangs until its lease is gone, then ignores the abort and returns anyway.
        signal.addEventListener("abort", () => {
          abortedOnA = true;
          releaseA();
        });
        await aIsStuck;
        return "from-A";
      }
      return "from-B";
    });
    return ctx.step("after", () => `${first} then after`);
  });
  const workerA = new Worker({ ...db.connection, workflows: [wf], leaseDuration: "2s", heartbeatInterval: "100ms", pollInterval: "100ms", logger: silentLogger, migrate: false });
  const client = new Client({ store, migrate: false });
  const handle = await client.start(wf, undefined, { id: "fence-worker-1" });
  await workerA.start();
  await waitFor(() => calls === 1, { what: "worker A to start the step" });

  // As if A had been partitioned for longer than its lease: a claim by someone else moved
  // the epoch on, and that claimer's lease has lapsed too, so worker B picks the run up.
  await db.sql(
    `UPDATE "${db.schema}".runs SET lease_epoch = lease_epoch + 1, lease_owner = 'ghost', available_at = now() - interval '1 second' WHERE id = 'fence-worker-1'`,
  );
  const workerB = new Worker({ ...db.connection, workflows: [wf], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await workerB.start();
  try {
    expect(await handle.result({ timeout: "20s" })).toBe("from-B then after");
    await waitFor(() => abortedOnA, { what: "worker A's step signal to be aborted" });
  } finally {
    releaseA();
    await workerB.stop();
    await workerA.stop();
  }
  const kinds = (await client.history("fence-worker-1")).map((e) => `${e.kind}:${e.name ?? ""}`);
  expect(kinds).toEqual(["RunStarted:", "StepCompleted:slow", "StepCompleted:after", "RunCompleted:"]);
  const results = (await client.history("fence-worker-1")).filter((e) => e.kind === "StepCompleted").map((e) => (e.payload as { result: string }).result);
  expect(results).toEqual(["from-B", "from-B then after"]);
});
