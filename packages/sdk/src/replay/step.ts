import { EventKind, type HistoryEvent, type StepAttemptFailedPayload, type StepCompletedPayload, type StepFailedPayload } from "../events.js";
import { CircuitOpenError, StepFailedError, StepTimeoutError, ValidationError } from "../errors.js";
import { deserializeError, serializeError, toError } from "../error-codec.js";
import { toMillisOrUndefined } from "../duration.js";
import { toJsonText } from "../json.js";
import { decideRetry, resolveRetryPolicy } from "../retry.js";
import { parseWith } from "../schema.js";
import type { Logger, StepContext, StepOptions } from "../workflow-types.js";
import type { ExecutionCore as Execution } from "./execution-core.js";
import { markPosition } from "./failure-position.js";
import { findKind } from "./history-index.js";
import { LazyValue } from "./lazy-value.js";
import { payloadRefOf } from "../payload.js";
import type { StepAttemptScope } from "./host.js";

const STEP_KINDS: ReadonlySet<string> = new Set([
  EventKind.StepCompleted,
  EventKind.StepAttemptFailed,
  EventKind.StepFailed,
  EventKind.DeadLettered,
]);

type StepFn<T> = (ctx: StepContext) => T | Promise<T>;
/** `text` is the result's JSON text, `stored` where it goes (itself, or a reference to it out of line). */
type AttemptResult = { ok: true; text: string | undefined; stored: ReturnType<Execution["place"]> } | { ok: false; error: Error };

/**
 * `ctx.step` at a given position: the recorded result if there is one, else the function
 * runs (retried per policy) and its result is recorded.
 *
 * A recorded result stored out of line comes back as a {@link LazyValue}: it is loaded when
 * the workflow looks at it, not when the step is reached. A replay whose code hands the
 * step's promise to a later step that is recorded too never loads it.
 */
export function runStep<T>(ex: Execution, position: number, name: string, fn: StepFn<T>, options: StepOptions<T> = {}): Promise<T> {
  try {
    if (ex.settled) return ex.stranded();
    if (ex.stopsAt(position)) return ex.block(position, { wakeAt: null, kind: "frontier" });
    const recorded = ex.history.at(position);
    ex.expect(position, recorded, STEP_KINDS, { kind: EventKind.StepCompleted, name });

    const completed = findKind(recorded, EventKind.StepCompleted);
    if (completed) {
      const result = (completed.payload as StepCompletedPayload).result;
      if (!payloadRefOf(result)) return Promise.resolve(result as T);
      return LazyValue.of(() => ex.loadValue(result) as Promise<T>);
    }
    return continueStep(ex, position, name, fn, options, recorded);
  } catch (error) {
    // As from an async function: a divergence rejects the step's promise, it does not throw.
    return Promise.reject(error);
  }
}

/** A step not completed in the history: replays its failure, or runs it (again). */
async function continueStep<T>(
  ex: Execution,
  position: number,
  name: string,
  fn: StepFn<T>,
  options: StepOptions<T>,
  recorded: readonly HistoryEvent[],
): Promise<T> {
  const failed = findKind(recorded, EventKind.StepFailed);
  if (failed) {
    const { error, attempts } = failed.payload as StepFailedPayload;
    if (options.onFailure) {
      await ex.runHook(`step:${position}`, options.onFailure, ex.failureInfo(error, { stepName: name, attempt: attempts }));
    }
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

  const timeoutMs = toMillisOrUndefined(options.timeout);
  if (retryAt !== undefined) await ex.waitUntil(position, retryAt);

  for (;;) {
    if (ex.settled) return ex.stranded();
    // Everything recorded so far is durable before this step's side effects begin.
    await ex.flush();
    if (ex.settled) return ex.stranded();
    if (ex.handedBack) return ex.block(position, { wakeAt: null, kind: "handback" });
    const startedAt = new Date(ex.host.now()).toISOString();
    const started = ex.host.monotonic();
    const scope = ex.host.onStepAttempt?.(
      firstFailureAt === undefined ? { position, name, attempt, startedAt } : { position, name, attempt, startedAt, firstFailureAt },
    );
    let result: AttemptResult;
    ex.begin();
    try {
      result = await attemptOnce(ex, position, name, fn, options, attempt, timeoutMs, scope);
    } catch (error) {
      scope?.end({ outcome: "abandoned", durationMs: ex.host.monotonic() - started });
      throw error;
    } finally {
      ex.end();
    }
    const durationMs = Math.round((ex.host.monotonic() - started) * 1000) / 1000;
    // Cancelled, timed out or lease lost meanwhile: the late result is discarded.
    if (ex.settled) {
      scope?.end({ outcome: "abandoned", durationMs });
      return ex.stranded();
    }

    if (result.ok) {
      ex.record(EventKind.StepCompleted, position, name, { attempt, startedAt, durationMs }, { result: result.stored.text }, result.stored.outOfLine);
      scope?.end({ outcome: "succeeded", durationMs });
      return (result.text === undefined ? undefined : JSON.parse(result.text)) as T;
    }

    const error = serializeError(result.error);
    // Resolved only on failure: the success path stays as short as it can be.
    const policy = resolveRetryPolicy(ex.workflow.options.retry, options.retry);
    const decision = decideRetry(policy, result.error, attempt, options.retryIf);
    firstFailureAt ??= ex.host.now();
    scope?.end({ outcome: "failed", durationMs, retrying: decision.retry, error: result.error });
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
    const failure = markPosition(new StepFailedError(name, attempt, result.error), position);
    if (options.onFailure) {
      await ex.runHook(`step:${position}`, options.onFailure, ex.failureInfo(error, { stepName: name, attempt }));
    }
    throw failure;
  }
}

async function attemptOnce<T>(
  ex: Execution,
  position: number,
  name: string,
  fn: StepFn<T>,
  options: StepOptions<T>,
  attempt: number,
  timeoutMs: number | undefined,
  scope: StepAttemptScope | undefined,
): Promise<AttemptResult> {
  const breaker = options.breaker;
  if (breaker) {
    const permit = await ex.host.breakerPermit(breaker);
    if (!permit.allowed) return { ok: false, error: new CircuitOpenError(breaker.name, permit.retryAfterMs) };
  }
  const abort = new StepAbort(ex.abortController.signal);
  let cancelTimeout: (() => void) | undefined;
  try {
    const call = () => fn(stepContext(ex, position, name, attempt, abort));
    const work = Promise.resolve().then(scope ? () => scope.run(call) : call);
    let value: T;
    if (timeoutMs === undefined) {
      value = await work;
    } else {
      work.catch(() => undefined); // a late failure after the timeout is nobody's business
      value = await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          cancelTimeout = ex.host.setTimer(() => {
            const error = new StepTimeoutError(name, timeoutMs);
            abort.abort(error);
            reject(error);
          }, timeoutMs);
        }),
      ]);
    }
    const checked = parseWith(options.output, value, `output of step "${name}"`);
    const what = `result of step "${name}"`;
    const text = toJsonText(checked, what);
    // Too large to store is this attempt's failure (a SerializationError, not retried).
    const stored = ex.place(text, what);
    if (breaker) await ex.host.breakerReport(breaker, true);
    return { ok: true, text, stored };
  } catch (thrown) {
    const error = toError(thrown);
    // Our own refusals say nothing about the dependency behind the breaker.
    if (breaker && !(error instanceof ValidationError)) await ex.host.breakerReport(breaker, false).catch(() => undefined);
    return { ok: false, error };
  } finally {
    cancelTimeout?.();
    abort.dispose();
  }
}

/**
 * A step attempt's abort signal, made only if the step asks for it (most never do, and an
 * AbortController per step is measurable on the hot path). It follows the run's signal and
 * can be aborted on its own by the step's timeout.
 */
class StepAbort {
  private controller: AbortController | undefined;
  private ownReason: unknown;
  private finished = false;
  private readonly forward = () => this.controller?.abort(this.run.reason);

  constructor(private readonly run: AbortSignal) {}

  /**
   * Why this attempt may do nothing more durable (its timeout, the run's abort, or its end),
   * or undefined while it may. A timed-out attempt's function can go on running; it must
   * not overwrite the progress its successor saves.
   */
  get over(): unknown {
    if (this.ownReason !== undefined) return this.ownReason;
    if (this.run.aborted) return this.run.reason;
    return this.finished ? new Error("the attempt is over") : undefined;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ownReason !== undefined) this.controller.abort(this.ownReason);
      else if (this.run.aborted) this.controller.abort(this.run.reason);
      else this.run.addEventListener("abort", this.forward, { once: true });
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.ownReason = reason;
    this.controller?.abort(reason);
  }

  dispose(): void {
    this.finished = true;
    if (this.controller) this.run.removeEventListener("abort", this.forward);
  }
}

function stepContext(ex: Execution, position: number, name: string, attempt: number, abort: StepAbort): StepContext {
  let logger: Logger | undefined;
  return {
    get signal() {
      return abort.signal;
    },
    attempt,
    idempotencyKey: `${ex.runId}:${position}`,
    runId: ex.runId,
    stepName: name,
    // Built on first use: most steps never log, and this runs once per attempt.
    get log() {
      if (!logger) {
        const log = (level: "debug" | "info" | "warn" | "error") => (message: string, fields?: Record<string, unknown>) =>
          ex.log({ level, message, ...(fields ? { fields } : {}), position, step: name, attempt }, { live: true });
        logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
      }
      return logger;
    },
    lastHeartbeat: ex.heartbeats.get(position),
    async heartbeat(details?: unknown) {
      const over = abort.over;
      if (over !== undefined) throw toError(over);
      const text = toJsonText(details ?? null, `heartbeat of step "${name}"`) ?? "null";
      ex.heartbeats.set(position, JSON.parse(text));
      if (ex.host.live && !ex.settled) await ex.host.saveHeartbeat(position, text);
    },
  };
}

