import { Client, replay, StepFailedError, workflow, type AnyWorkflow, type TransactionContext } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
// No unique key on run_id: a step whose writes landed twice shows as two rows.
const rows = `"${db.schema}".tx_rows`;
beforeAll(async () => {
  await store.migrate();
  await db.sql(`CREATE TABLE ${rows} (run_id text NOT NULL, note text, attempt int)`);
});
afterAll(() => store.close());

const rowsOf = (runId: string) => db.sql<{ note: string | null; attempt: number | null }>(`SELECT note, attempt FROM ${rows} WHERE run_id = $1 ORDER BY note`, [runId]);

async function withWorker<T>(workflows: AnyWorkflow[], fn: () => Promise<T>): Promise<T> {
  const worker = new Worker({ store, workflows, logger: silentLogger, migrate: false, pollInterval: "50ms" });
  await worker.start();
  try {
    return await fn();
  } finally {
    await worker.stop();
  }
}

test("a transaction step's row and its completion commit together, and replay returns the recorded result without running it", async () => {
  let calls = 0;
  const wf = workflow({ name: "tx-basic" }, async (ctx) => {
    const id = await ctx.transaction("insert", async (tx) => {
      calls++;
      const { rows: inserted } = await tx.query<{ note: string }>(`INSERT INTO ${rows} (run_id, note) VALUES ($1, 'query') RETURNING note`, [ctx.runId]);
      return inserted[0]!.note;
    });
    return ctx.step("after", () => `${id} then after`);
  });
  const output = await withWorker([wf], () => client.run(wf, undefined, { id: "tx-basic-1", timeout: "20s" }));
  expect(output).toBe("query then after");
  expect(await rowsOf("tx-basic-1")).toEqual([{ note: "query", attempt: null }]);

  const history = await client.history("tx-basic-1");
  expect(history.map((e) => `${e.kind}:${e.name ?? ""}`)).toEqual(["RunStarted:", "StepCompleted:insert", "StepCompleted:after", "RunCompleted:"]);
  expect(history[1]!.payload).toMatchObject({ result: "query", attempt: 1 });
  const report = await replay(wf, history);
  expect(report.outcome).toBe("completed");
  expect(report.output).toBe("query then after");
  expect(calls).toBe(1);
});

test("tx.kysely() writes in the step's transaction; a transaction of its own, or a COMMIT through tx.query, is refused", async () => {
  interface Tables {
    tx_rows: { run_id: string; note: string | null; attempt: number | null };
  }
  const refusals: string[] = [];
  const wf = workflow({ name: "tx-kysely", retry: { maxAttempts: 1 } }, async (ctx) =>
    ctx.transaction("insert", async (tx: TransactionContext) => {
      const k = tx.kysely<Tables>().withSchema(db.schema);
      await k.insertInto("tx_rows").values({ run_id: ctx.runId, note: "kysely", attempt: null }).execute();
      await k.transaction().execute(async () => undefined).catch((e: Error) => refusals.push(e.message));
      await tx.query("COMMIT").catch((e: Error) => refusals.push(e.message));
      await tx.query(`INSERT INTO ${rows} (run_id, note) VALUES ($1, 'a'); COMMIT`, [ctx.runId]).catch((e: Error) => refusals.push(e.message));
      const { rows: seen } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${rows} WHERE run_id = $1`, [ctx.runId]);
      return seen[0]!.n;
    }),
  );
  // The failed multi-statement query aborts the transaction in Postgres; the step is then
  // rolled back and fails (maxAttempts 1): nothing of it is stored.
  const handle = await client.start(wf, undefined, { id: "tx-kysely-1" });
  await withWorker([wf], () => handle.result({ timeout: "20s" }).catch((e: unknown) => e));
  expect(refusals[0]).toMatch(/cannot begin a transaction/);
  expect(refusals[1]).toMatch(/cannot run "COMMIT"/);
  expect(refusals[2]).toMatch(/multiple commands/);
  expect(await rowsOf("tx-kysely-1")).toEqual([]);

  // Without the refused statements, the Kysely write commits with the step.
  const ok = workflow({ name: "tx-kysely-ok" }, async (ctx) =>
    ctx.transaction("insert", async (tx) => {
      await tx.kysely<Tables>().withSchema(db.schema).insertInto("tx_rows").values({ run_id: ctx.runId, note: "kysely", attempt: null }).execute();
      return "done";
    }),
  );
  expect(await withWorker([ok], () => client.run(ok, undefined, { id: "tx-kysely-2", timeout: "20s" }))).toBe("done");
  expect(await rowsOf("tx-kysely-2")).toEqual([{ note: "kysely", attempt: null }]);
});

test("a transaction that throws is rolled back and retried: only the successful attempt's row remains", async () => {
  const wf = workflow({ name: "tx-retry" }, async (ctx) =>
    ctx.transaction(
      "insert",
      async (tx) => {
        const { rows: before } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${rows} WHERE run_id = $1`, [ctx.runId]);
        const attempt = before[0]!.n + 1; // every earlier attempt's row was rolled back: always 1
        await tx.query(`INSERT INTO ${rows} (run_id, note, attempt) VALUES ($1, 'try', $2)`, [ctx.runId, attempt]);
        if ((await client.history(ctx.runId)).filter((e) => e.kind === "StepAttemptFailed").length < 2) throw new Error("flaky");
        return attempt;
      },
      { retry: { maxAttempts: 3, initialDelay: "10ms", jitter: 0 } },
    ),
  );
  expect(await withWorker([wf], () => client.run(wf, undefined, { id: "tx-retry-1", timeout: "20s" }))).toBe(1);
  expect(await rowsOf("tx-retry-1")).toEqual([{ note: "try", attempt: 1 }]);
  const history = await client.history("tx-retry-1");
  expect(history.map((e) => e.kind)).toEqual(["RunStarted", "StepAttemptFailed", "StepAttemptFailed", "StepCompleted", "RunCompleted"]);
  expect(history[3]!.payload).toMatchObject({ attempt: 3, result: 1 });
});

test("a serialization failure runs the transaction again without counting an attempt", async () => {
  let calls = 0;
  const wf = workflow({ name: "tx-serialization", retry: { maxAttempts: 1 } }, async (ctx) =>
    ctx.transaction("insert", async (tx) => {
      calls++;
      await tx.query(`INSERT INTO ${rows} (run_id, note) VALUES ($1, 'serial')`, [ctx.runId]);
      if (calls === 1) await tx.query("DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$");
      return calls;
    }),
  );
  expect(await withWorker([wf], () => client.run(wf, undefined, { id: "tx-serial-1", timeout: "20s" }))).toBe(2);
  expect(await rowsOf("tx-serial-1")).toEqual([{ note: "serial", attempt: null }]);
  const kinds = (await client.history("tx-serial-1")).map((e) => e.kind);
  expect(kinds).toEqual(["RunStarted", "StepCompleted", "RunCompleted"]);
});

test("a result that is not JSON fails the step without retries, and its writes are rolled back", async () => {
  const wf = workflow({ name: "tx-unstorable" }, async (ctx) =>
    ctx.transaction("insert", async (tx) => {
      await tx.query(`INSERT INTO ${rows} (run_id, note) VALUES ($1, 'map')`, [ctx.runId]);
      return new Map([["a", 1]]);
    }),
  );
  const error = await withWorker([wf], () => client.run(wf, undefined, { id: "tx-unstorable-1", timeout: "20s" }).catch((e: unknown) => e));
  expect((error as Error).message).toMatch(/result of transaction "insert" is not JSON-serialisable: an instance of Map/);
  expect(await rowsOf("tx-unstorable-1")).toEqual([]);
  const kinds = (await client.history("tx-unstorable-1")).map((e) => e.kind);
  expect(kinds).toEqual(["RunStarted", "StepFailed", "RunFailed"]);
});

test("a transaction's step that failed for good is thrown into the workflow as StepFailedError, and replays the same way", async () => {
  const wf = workflow({ name: "tx-fallback", retry: { maxAttempts: 1 } }, async (ctx) => {
    try {
      return await ctx.transaction("insert", async () => {
        throw new Error("no");
      });
    } catch (error) {
      return error instanceof StepFailedError ? `fallback: ${error.cause.message}` : "wrong error";
    }
  });
  expect(await withWorker([wf], () => client.run(wf, undefined, { id: "tx-fallback-1", timeout: "20s" }))).toBe("fallback: no");
  const report = await replay(wf, await client.history("tx-fallback-1"));
  expect(report.output).toBe("fallback: no");
});

test("a worker that lost its lease while its transaction ran commits nothing of it; the run's next owner does", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let calls = 0;
  const wf = workflow({ name: "tx-fence" }, async (ctx) =>
    ctx.transaction("insert", async (tx) => {
      calls++;
      await tx.query(`INSERT INTO ${rows} (run_id, note) VALUES ($1, $2)`, [ctx.runId, `call ${calls}`]);
      if (calls === 1) await held; // worker A: stalls until its lease has moved on
      return `call ${calls}`;
    }),
  );
  const handle = await client.start(wf, undefined, { id: "tx-fence-1" });
  // A long lease (and heartbeat), so that A learns of the loss from the fence of its append.
  const workerA = new Worker({ store, workflows: [wf], logger: silentLogger, migrate: false, pollInterval: "50ms", leaseDuration: "60s" });
  await workerA.start();
  try {
    await waitFor(() => calls === 1, { what: "worker A to run the transaction" });
    // As if A had been partitioned for longer than its lease: another claim moved the epoch on.
    await db.sql(`UPDATE "${db.schema}".runs SET lease_epoch = lease_epoch + 1, lease_owner = 'ghost', available_at = now() + interval '1 hour' WHERE id = 'tx-fence-1'`);
  } finally {
    release();
    // Stopping waits for the run's execution, which ends once A's transaction has.
    await workerA.stop();
  }
  expect(await rowsOf("tx-fence-1")).toEqual([]);
  expect((await client.history("tx-fence-1")).map((e) => e.kind)).toEqual(["RunStarted"]);
  // The ghost's lease lapses; a new worker takes the run and its transaction commits once.
  await db.sql(`UPDATE "${db.schema}".runs SET available_at = now() - interval '1 second' WHERE id = 'tx-fence-1'`);
  expect(await withWorker([wf], () => handle.result({ timeout: "20s" }))).toBe("call 2");
  expect(await rowsOf("tx-fence-1")).toEqual([{ note: "call 2", attempt: null }]);
});

test("the store's transactional step with a stale lease rolls its writes back and appends nothing", async () => {
  const wf = workflow({ name: "tx-store-fence" }, async () => 1);
  await client.start(wf, undefined, { id: "tx-store-1" });
  const [claimed] = await store.claimRuns({ queue: "default", workflows: [wf.name], limit: 1, owner: "w1", leaseMs: 60_000 });
  const body = (note: string) => async (tx: TransactionContext) => {
    await tx.query(`INSERT INTO ${rows} (run_id, note) VALUES ('tx-store-1', $1)`, [note]);
    return { seq: 1, kind: "StepCompleted", position: 0, name: "insert", payload: `{"result":${JSON.stringify(note)},"attempt":1}` };
  };
  const stale = await store.transactionalStep({ owner: "w1", runId: "tx-store-1", epoch: claimed!.epoch - 1 }, body("stale epoch"));
  const stranger = await store.transactionalStep({ owner: "w2", runId: "tx-store-1", epoch: claimed!.epoch }, body("other owner"));
  const held = await store.transactionalStep({ owner: "w1", runId: "tx-store-1", epoch: claimed!.epoch }, body("current"));
  expect([stale, stranger, held]).toEqual(["lease-lost", "lease-lost", "committed"]);
  expect(await rowsOf("tx-store-1")).toEqual([{ note: "current", attempt: null }]);
  expect((await store.history("tx-store-1")).map((e) => [e.seq, e.kind])).toEqual([
    [0, "RunStarted"],
    [1, "StepCompleted"],
  ]);
  // The same seq again (a retry after a COMMIT whose reply was lost) collides instead of recording twice.
  await expect(store.transactionalStep({ owner: "w1", runId: "tx-store-1", epoch: claimed!.epoch }, body("again"))).rejects.toMatchObject({ code: "23505" });
  expect(await rowsOf("tx-store-1")).toEqual([{ note: "current", attempt: null }]);
});
