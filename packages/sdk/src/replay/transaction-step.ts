import { EventKind, type NewEvent, type StepAttemptFailedPayload, type StepCompletedPayload, type StepFailedPayload } from "../events.js";
import { StepFailedError } from "../errors.js";
import { deserializeError, serializeError, toError } from "../error-codec.js";
import { rawJsonFields, toJsonText } from "../json.js";
import { checkSize } from "../payload.js";
import { decideRetry, resolveRetryPolicy } from "../retry.js";
import type { TransactionContext, TransactionOptions } from "../workflow-types.js";
import type { ExecutionCore as Execution } from "./execution-core.js";
import { markPosition } from "./failure-position.js";
import { findKind } from "./history-index.js";

// Recorded like a step: a transaction step's history is a step's history, so replay (and a
// change between ctx.step and ctx.transaction under the same name) reads it the same way.
const KINDS: ReadonlySet<string> = new Set([EventKind.StepCompleted, EventKind.StepAttemptFailed, EventKind.StepFailed]);

type TransactionFn<T> = (tx: TransactionContext) => Promise<T>;

/**
 * `ctx.transaction` at a given position: the recorded result if there is one; else `fn`
 * runs in a database transaction whose commit also records `StepCompleted` (the host's
 * `transaction`), so its writes to Reprise's database happen exactly once. A failed attempt
 * was rolled back; it is recorded as `StepAttemptFailed` outside the transaction and
 * retried per the step's policy.
 */
export async function runTransaction<T>(ex: Execution, position: number, name: string, fn: TransactionFn<T>, options: TransactionOptions = {}): Promise<T> {
  if (ex.settled) return ex.stranded();
  if (ex.stopsAt(position)) return ex.block(position, { wakeAt: null, kind: "frontier" });
  const recorded = ex.history.at(position);
  ex.expect(position, recorded, KINDS, { kind: EventKind.StepCompleted, name });

  const completed = findKind(recorded, EventKind.StepCompleted);
  if (completed) return (completed.payload as StepCompletedPayload).result as T;
  const failed = findKind(recorded, EventKind.StepFailed);
  if (failed) {
    const { error, attempts } = failed.payload as StepFailedPayload;
    const rethrown = markPosition(new StepFailedError(name, attempts, deserializeError(error)), position);
    throw ex.rethrowRecorded(rethrown, { position, call: "step", name, event: failed });
  }

  let attempt = 1;
  let retryAt: number | undefined;
  let firstFailureAt: number | undefined;
  for (const event of recorded) {
    if (event.kind !== EventKind.StepAttemptFailed) continue;
    const payload = event.payload as StepAttemptFailedPayload;
    attempt = Math.max(attempt, payload.attempt + 1);
    retryAt = Date.parse(payload.retryAt);
    if (firstFailureAt === undefined) {
      const failedAt = Date.parse(payload.startedAt) + (payload.durationMs ?? 0);
      firstFailureAt = Number.isFinite(failedAt) ? failedAt : new Date(event.createdAt).getTime();
    }
  }
  if (!ex.host.live) return ex.block(position, { wakeAt: null, kind: "frontier" });
  if (retryAt !== undefined) await ex.waitUntil(position, retryAt);

  for (;;) {
    if (ex.settled) return ex.stranded();
    // Everything recorded so far is durable before the transaction begins.
    await ex.flush();
    if (ex.settled) return ex.stranded();
    if (ex.handedBack) return ex.block(position, { wakeAt: null, kind: "handback" });
    const startedAt = new Date(ex.host.now()).toISOString();
    const started = ex.host.monotonic();
    // Observed like a step attempt (metrics, spans, the steps in flight).
    const scope = ex.host.onStepAttempt?.(
      firstFailureAt === undefined ? { position, name, attempt, startedAt } : { position, name, attempt, startedAt, firstFailureAt },
    );
    let text: string | undefined;
    let seq: number | undefined;
    let committed = false;
    let failure: Error | undefined;
    ex.begin();
    try {
      committed = await ex.host.transaction({
        run: async (tx) => (scope ? scope.run(() => fn(tx)) : fn(tx)),
        complete: (value): NewEvent | undefined => {
          // The run ended while the function ran (cancelled, timed out, lease lost): roll back.
          if (ex.settled) return undefined;
          const what = `result of transaction "${name}"`;
          text = toJsonText(value, what);
          // Recorded in the transaction's own commit, so inline (not out of line), within the size limit.
          if (text !== undefined) checkSize(text, ex.payloads, what);
          // One seq per attempt, however often the host runs it: a commit that landed
          // unacknowledged makes its retry collide rather than record the step twice.
          seq ??= ex.takeSeq();
          const durationMs = Math.round((ex.host.monotonic() - started) * 1000) / 1000;
          return { seq, kind: EventKind.StepCompleted, position, name, payload: rawJsonFields({ attempt, startedAt, durationMs }, { result: text }) };
        },
      });
    } catch (thrown) {
      failure = toError(thrown);
    } finally {
      ex.end();
    }
    const durationMs = Math.round((ex.host.monotonic() - started) * 1000) / 1000;
    if (committed) {
      scope?.end({ outcome: "succeeded", durationMs });
      if (ex.settled) return ex.stranded();
      return (text === undefined ? undefined : JSON.parse(text)) as T;
    }
    if (ex.settled || !failure) {
      scope?.end({ outcome: "abandoned", durationMs });
      return ex.stranded();
    }

    const error = serializeError(failure);
    const policy = resolveRetryPolicy(ex.workflow.options.retry, options.retry);
    const decision = decideRetry(policy, failure, attempt, undefined);
    firstFailureAt ??= ex.host.now();
    scope?.end({ outcome: "failed", durationMs, retrying: decision.retry, error: failure });
    if (decision.retry) {
      const retryAtMs = ex.host.now() + decision.delayMs;
      ex.record(EventKind.StepAttemptFailed, position, name, {
        error,
        attempt,
        startedAt,
        durationMs,
        retryAt: new Date(retryAtMs).toISOString(),
        delayMs: Math.round(decision.delayMs),
      });
      // Durable before the wait, so a crash during it neither loses the retry nor resets the count.
      await ex.flush();
      attempt++;
      await ex.waitUntil(position, retryAtMs);
      continue;
    }
    ex.record(EventKind.StepFailed, position, name, { error, attempts: attempt, startedAt, durationMs });
    throw markPosition(new StepFailedError(name, attempt, failure), position);
  }
}
