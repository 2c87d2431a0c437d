import type pg from "pg";
import { isConnectionError } from "../errors.js";
import { appendEvent, type AppendArgs } from "../queries/append-event.js";
import { openStepTransaction, type StepTransaction } from "../step-transaction.js";

/** The lease a transactional step is fenced by. */
export interface StepLease {
  owner: string;
  runId: string;
  epoch: number;
}

/** The completion a transactional step's body asks to record, or undefined to roll back. */
export type StepCompletion = Omit<AppendArgs, "owner" | "runId" | "epoch"> | undefined;

/**
 * `committed`: the body's writes and its completion are durable together. `rolled-back`:
 * the body asked for nothing to be recorded. `lease-lost`: the run's lease moved on, and the
 * body's writes were rolled back with the unwritten completion.
 */
export type TransactionalStepOutcome = "committed" | "rolled-back" | "lease-lost";

/**
 * A step whose writes happen exactly once: BEGIN, the body's statements, its completion
 * appended with the same fence as every append (append-event: lease epoch and owner, FOR
 * KEY SHARE), COMMIT, all on one connection. The fence runs last, so the runs row is locked
 * only from the append to the commit, not while the body runs; from then on a claim cannot
 * take the run until this commits. A body that throws, a lost lease, a failed COMMIT and a
 * process that dies at any point before COMMIT all leave neither the writes nor the
 * completion: Postgres rolls back a transaction whose connection closes.
 *
 * The completion's seq is the caller's: a retry after an ambiguous COMMIT (the connection
 * dropped before the reply) reuses it, so a commit that did land makes the retry collide on
 * (run_id, seq) instead of recording the step twice.
 */
export async function transactionalStep(
  pool: pg.Pool,
  schema: string,
  lease: StepLease,
  body: (tx: StepTransaction) => Promise<StepCompletion>,
): Promise<TransactionalStepOutcome> {
  const client = await pool.connect();
  let broken = false;
  const onError = () => (broken = true);
  client.on("error", onError);
  const tx = openStepTransaction(client);
  try {
    await client.query("BEGIN");
    let outcome: TransactionalStepOutcome;
    try {
      const completion = await body(tx.context);
      tx.close();
      if (!completion) outcome = "rolled-back";
      else if (await appendEvent(client, schema, { ...lease, ...completion })) {
        await client.query("COMMIT");
        return "committed";
      } else outcome = "lease-lost";
    } catch (error) {
      tx.close();
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw error;
    }
    await client.query("ROLLBACK");
    return outcome;
  } catch (error) {
    if (isConnectionError(error)) broken = true;
    throw error;
  } finally {
    tx.close();
    client.off("error", onError);
    client.release(broken ? true : undefined);
  }
}
