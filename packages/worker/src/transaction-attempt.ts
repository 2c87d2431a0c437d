import type { TransactionAttempt } from "@reprise/sdk/engine";
import { isConnectionError, isUniqueViolation, type StepCompletion } from "@reprise/store";
import { LeaseLostError } from "./errors.js";
import type { WorkerRuntime } from "./runtime.js";

// serialization_failure, deadlock_detected: the transaction was rolled back by Postgres and
// running it again is the remedy (its function included), not a failed attempt.
const RETRY_NOW = new Set(["40001", "40P01"]);

/** The run an attempt belongs to: its lease, and how to stop it when the lease is gone. */
interface LeasedRun {
  readonly id: string;
  readonly epoch: number;
  leaseLost(error: Error): void;
}

/**
 * One attempt of `ctx.transaction` on this worker: the store's transactional step (BEGIN,
 * the function, the fenced completion, COMMIT), run again while Postgres asks for it
 * (serialization failure, deadlock) or while its own statements lose the connection. The
 * engine's seq stays the same across those runs, so if a COMMIT landed but its reply was
 * lost, the next run collides on (run_id, seq) and the run stops here, to be resumed from
 * the log, instead of recording the step twice. A lease that is gone stops the run.
 *
 * A connection error thrown by the function itself (its own I/O, or our connection dying
 * under its query) is the attempt's failure: the transaction never committed, so the
 * engine's retry policy may run it again safely.
 */
export async function transactionAttempt(runtime: WorkerRuntime, task: LeasedRun, attempt: TransactionAttempt): Promise<boolean> {
  const started = Date.now();
  let delay = 10;
  for (;;) {
    let fromFunction = false;
    try {
      const outcome = await runtime.store.transactionalStep({ owner: runtime.workerId, runId: task.id, epoch: task.epoch }, async (tx): Promise<StepCompletion> => {
        fromFunction = true;
        const value = await attempt.run(tx);
        fromFunction = false;
        const event = attempt.complete(value);
        return event && { seq: event.seq, kind: event.kind, position: event.position, name: event.name, payload: event.payload };
      });
      if (outcome === "lease-lost") throw lost(task, new LeaseLostError(task.id));
      return outcome === "committed";
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      if (isUniqueViolation(error) && !fromFunction) throw lost(task, new LeaseLostError(task.id, "its history changed under this worker"));
      const again = hasCode(error, RETRY_NOW) || (!fromFunction && isConnectionError(error));
      if (!again) throw error;
      if (Date.now() - started > runtime.leaseMs) {
        if (isConnectionError(error)) throw lost(task, new LeaseLostError(task.id, "the database stayed unreachable longer than the lease"));
        throw error;
      }
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 1_000);
    }
  }
}

function lost(task: LeasedRun, error: LeaseLostError): LeaseLostError {
  task.leaseLost(error);
  return error;
}

/** True when `error` or one of its causes carries one of these SQLSTATEs (a function may wrap what tx.query threw). */
function hasCode(error: unknown, codes: ReadonlySet<string>): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | null, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === "string" && codes.has(e.code)) return true;
  }
  return false;
}
