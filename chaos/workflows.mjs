// The chaos workflows, plain JS so that the worker processes and the harness that replays
// their histories load the very same functions. Every step function first records its
// execution in a table of the harness (committed before it returns): that table, not the
// code under test, is what says how often each step ran and when.
import { NonRetryableError, SignalTimeoutError, workflow } from "@reprise/sdk";

/** Retries outlast a Postgres restart: a step whose own INSERT fails is tried again. */
const RETRY = { maxAttempts: 30, initialDelay: "50ms", backoff: "exponential", maxDelay: "1s", jitter: 0.2 };

/** A zero-based position from a step's idempotency key (`${runId}:${position}`). */
function positionOf(stepCtx) {
  return Number(stepCtx.idempotencyKey.slice(stepCtx.idempotencyKey.lastIndexOf(":") + 1));
}

/**
 * @param {{ query(text: string, values?: unknown[]): Promise<unknown> }} pool where executions are recorded
 * @param {string} table the execution counter table, schema-qualified and quoted
 */
export function chaosWorkflows(pool, table) {
  /**
   * Records one execution of a step. `invoked_at` is this process's clock on entry, before
   * any await: a frozen worker that resumes later shows up at the time it really ran the step.
   */
  const record = async (stepCtx, phase, value, workMs = 0) => {
    const invokedAt = new Date();
    await pool.query(
      `INSERT INTO ${table} (run_id, position, step, attempt, phase, pid, txid, invoked_at) VALUES ($1, $2, $3, $4, $5, $6, txid_current(), $7)`,
      [stepCtx.runId, positionOf(stepCtx), stepCtx.stepName, stepCtx.attempt, phase, process.pid, invokedAt],
    );
    // The step's own work, after its execution is on record: a worker killed meanwhile
    // leaves a step that ran and was not recorded, which runs again (allowed) elsewhere.
    if (workMs > 0) await new Promise((r) => setTimeout(r, workMs));
    return value;
  };

  const leaf = workflow({ name: "chaos-leaf", queue: "chaos", retry: RETRY }, async (ctx, input) => {
    const n = await ctx.step("leaf", (s) => record(s, 0, input.n));
    return n * 2;
  });

  /**
   * Every durable call: M sequential steps, a sleep, parallel steps, a signal wait with a
   * timeout, a child, a map with a dead letter, a step that fails its first attempt.
   * `phase` grows along the workflow: a phase starts only once every step of the phases
   * before it is recorded, so an execution of an earlier phase after a later one began
   * means a recorded result was lost.
   */
  const main = workflow({ name: "chaos", queue: "chaos", retry: RETRY }, async (ctx, input) => {
    let sum = 0;
    for (let i = 0; i < input.steps; i++) sum += await ctx.step(`step-${i}`, (s) => record(s, i, i, input.workMs));
    let phase = input.steps;
    await ctx.sleep(input.sleepMs);
    const parallel = await Promise.all([0, 1, 2].map((j) => ctx.step(`parallel-${j}`, (s) => record(s, phase, j, input.workMs))));
    phase++;
    let signal = null;
    try {
      signal = await ctx.waitForSignal("go", { timeout: input.signalTimeoutMs });
    } catch (error) {
      if (!(error instanceof SignalTimeoutError)) throw error;
    }
    const child = await ctx.child(leaf, { n: sum });
    const items = Array.from({ length: input.items }, (_, i) => i);
    const itemPhase = phase++;
    const mapped = await ctx.map(
      "item",
      items,
      async (item, _index, s) => {
        await record(s, itemPhase, item, input.workMs);
        if (item === input.poison) throw new NonRetryableError(`poisoned item ${item}`);
        return item * item;
      },
      { concurrency: 2, onItemFailure: "dead-letter" },
    );
    const flakyPhase = phase++;
    const flaky = await ctx.step("flaky", async (s) => {
      await record(s, flakyPhase, s.attempt);
      if (s.attempt === 1) throw new Error("the first attempt of flaky fails");
      return s.attempt > 1;
    });
    return { sum, parallel, signal, child, results: mapped.results, dead: mapped.deadLettered.map((d) => d.index), flaky };
  });

  return { main, leaf, all: [main, leaf] };
}

/** What a run of `main` must return for `input` (a signal payload is `{ n }` or none). */
export function expectedOutput(input, signal) {
  const sum = (input.steps * (input.steps - 1)) / 2;
  const items = Array.from({ length: input.items }, (_, i) => i);
  return {
    sum,
    parallel: [0, 1, 2],
    signal,
    child: sum * 2,
    results: items.map((i) => (i === input.poison ? null : i * i)),
    dead: items.filter((i) => i === input.poison),
    flaky: true,
  };
}

/** The execution counter table's definition. */
export const EXECUTIONS_DDL = (table) => `
CREATE TABLE IF NOT EXISTS ${table} (
  id          bigserial PRIMARY KEY,
  run_id      text NOT NULL,
  position    int NOT NULL,
  step        text NOT NULL,
  attempt     int NOT NULL,
  phase       int NOT NULL,
  pid         int NOT NULL,
  txid        bigint NOT NULL,
  invoked_at  timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`;
