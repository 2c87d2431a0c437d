import { EventKind, type HistoryEvent, type RunCancelledPayload, type RunFailedPayload } from "../events.js";
import type { CallDescription } from "../divergence.js";
import { CancelledError, NonDeterminismError, ValidationError } from "../errors.js";
import { deserializeError } from "../error-codec.js";
import { fromJsonText } from "../json.js";
import type { AnyWorkflow } from "../workflow-types.js";
import { eventLoopTimers } from "./event-loop-timers.js";
import { Execution } from "./execution.js";
import type { Outcome, RecordedFailure } from "./outcome.js";
import { parseHistory, type ExportedHistory, type HistoryEventLike } from "./exported-history.js";
import type { ExecutionHost } from "./host.js";

/** Where a replay found the code and the history disagree. */
export interface Divergence {
  position: number;
  /** What the history holds at `position` (`RunCompleted` when the run ended there). */
  recorded: CallDescription | null;
  /** What the code did there (`RunCompleted` when it returned instead). */
  actual: CallDescription | null;
  /** What changed and what to do about it (`ctx.patched`, or a fork). */
  message: string;
}

/** How the recorded run ended, as far as its history goes. */
export type RecordedOutcome = "completed" | "failed" | "cancelled" | "unfinished";

/** What {@link replay} found. */
export interface ReplayReport {
  /**
   * `completed`/`failed`: the code reached the run's end (a cancelled or timed-out run is
   * `failed`, with the recorded error); `suspended`: the history ends before the code does
   * (the run is still going, or `until` stopped the replay); `diverged`: the code no longer
   * matches the history.
   */
  outcome: "completed" | "failed" | "suspended" | "diverged";
  /** The workflow's result, when it completed. */
  output?: unknown;
  /**
   * Why the run failed: the error the workflow threw on replay (for a recorded step failure,
   * a `StepFailedError` whose `cause` carries the recorded name, message and stack), or the
   * recorded error of a run that was timed out or cancelled. The `NonDeterminismError` when
   * it diverged.
   */
  error?: Error;
  divergence?: Divergence;
  /**
   * The recorded events the replay consumed, in the order it consumed them (call order, and
   * seq order within a call; run-level events where they fall). A replay that ran to the
   * run's end lists every event; one stopped by `until` ends with the last event at that
   * position; a diverged one ends with the events recorded at the diverging position.
   */
  events: HistoryEvent[];
  /** The last position the code consumed (-1 for none). */
  position: number;
  /** How the recorded run ended. */
  recordedOutcome: RecordedOutcome;
}

/** Options of {@link replay}. */
export interface ReplayOptions {
  /**
   * Stop after this position, as if the history ended there (to inspect the state mid-run):
   * the outcome is `suspended` unless the run ended at or before it.
   */
  until?: number;
  /** Called synchronously as each recorded event is consumed, in the order of `events`. */
  onEvent?: (event: HistoryEvent) => void;
  /**
   * Called just before a recorded failure (a step that failed for good, a failed child, a
   * timed-out signal wait) is thrown into the workflow. A `debugger` statement in it stops
   * there with the error in scope; `reprise replay --break-on-failure` does that.
   */
  onRecordedFailure?: (failure: RecordedFailure) => void;
  /**
   * Reads a value stored out of line, by the id its reference names (a history read with
   * `client.history(id, { values: "references" })`, whose large values are references).
   * Called only for the values the code reaches. Not needed for histories from
   * `client.history(id)`, which holds the values themselves.
   */
  loadPayload?: (id: string) => Promise<unknown>;
}

/** A host with no effects: every call the history cannot answer parks the replay. */
const replayHost = (clock: () => number, loadPayload: ((id: string) => Promise<unknown>) | undefined): ExecutionHost => ({
  ...eventLoopTimers,
  live: false,
  now: clock,
  persist: () => Promise.resolve(),
  end: () => Promise.resolve(),
  isRefusal: () => false,
  loadPayload: (id) =>
    loadPayload
      ? loadPayload(id)
      : Promise.reject(
          new ValidationError(
            `the history refers to a value stored out of line (payload ${id}): replay a history read with client.history(id), which holds the values, or pass loadPayload`,
          ),
        ),
  readSignal: () => Promise.resolve(null),
  startChild: () => Promise.reject(new Error("replay cannot start children")),
  transaction: () => Promise.reject(new Error("replay cannot run transactions")),
  childOutcome: () => Promise.resolve(null),
  saveHeartbeat: () => Promise.resolve(),
  breakerPermit: () => Promise.resolve({ allowed: true }),
  breakerReport: () => Promise.resolve(),
  print: () => undefined,
  reportError: () => undefined,
});

/**
 * Runs today's workflow code against a recorded history with no side effects: no step
 * function is called; every step returns or throws what was recorded, and signals, timers,
 * children and `ctx.now()`/`random()`/`ulid()` resolve from the history. Use it to debug a
 * failed run (breakpoints in the workflow are hit with the recorded values in scope) and, in
 * tests, to check that a code change does not break runs in flight (see `replayHistories`).
 *
 * ```ts
 * const report = await replay(pingService, await client.history(runId));
 * if (report.outcome === "diverged") console.log(report.divergence!.message);
 * ```
 *
 * @param history the run's events (`client.history()`), or an exported history file's JSON
 * @throws ValidationError when the history is malformed or of another workflow
 */
export async function replay(
  workflow: AnyWorkflow,
  history: readonly HistoryEventLike[] | ExportedHistory,
  options: ReplayOptions = {},
): Promise<ReplayReport> {
  const { until } = options;
  if (until !== undefined && (!Number.isInteger(until) || until < 0)) {
    throw new ValidationError(`until must be a position (an integer >= 0), got ${String(until)}`);
  }
  const parsed = parseHistory(history);
  if (parsed.workflowName !== workflow.name) {
    throw new ValidationError(`the history is of workflow "${parsed.workflowName}", not "${workflow.name}"`);
  }
  const events = parsed.events;
  const first = events[0]!;

  // A callback that throws must not be mistaken for the workflow's own failure: the replay
  // finishes, then rejects with it.
  let callbackError: { error: unknown } | undefined;
  const guarded = <A>(fn: ((arg: A) => void) | undefined) =>
    fn &&
    ((arg: A) => {
      try {
        fn(arg);
      } catch (error) {
        callbackError ??= { error };
      }
    });
  const onEvent = guarded(options.onEvent);
  const onRecordedFailure = guarded(options.onRecordedFailure);

  let lastTime = first.createdAt.getTime();
  const execution = new Execution({
    runId: parsed.runId,
    workflow,
    input: (first.payload as { input?: unknown }).input,
    history: events,
    host: replayHost(() => lastTime, options.loadPayload),
    suspendAfterMs: 0,
    ...(until === undefined ? {} : { until }),
    ...(onRecordedFailure ? { onRecordedFailure } : {}),
  });
  const index = execution.history;
  const recordedOutcome = recordedOutcomeOf(index.terminal);

  // Events that belong to a position are consumed when the code reaches that position. The
  // rest (RunStarted, patches, retries, hooks, the run's end, events a retry superseded) are
  // "floating": each is consumed once the replay passes its seq, so they keep their place.
  const bound = new Set<HistoryEvent>();
  for (let p = 0; p <= index.maxPosition; p++) for (const e of index.at(p)) bound.add(e);
  const floating = events.filter((e) => !bound.has(e));
  let nextFloating = 0;
  const consumed: HistoryEvent[] = [];
  const seen = new Set<HistoryEvent>();
  const consume = (event: HistoryEvent) => {
    if (seen.has(event)) return;
    seen.add(event);
    consumed.push(event);
    lastTime = Math.max(lastTime, event.createdAt.getTime());
    onEvent?.(event);
  };
  const passFloating = (beforeSeq: number) => {
    while (nextFloating < floating.length && floating[nextFloating]!.seq < beforeSeq) consume(floating[nextFloating++]!);
  };
  let reached = -1;
  passFloating(first.seq + 1);
  index.onRead = (position, recorded) => {
    if (until !== undefined && position > until) return;
    reached = Math.max(reached, position);
    for (const event of recorded) {
      passFloating(event.seq);
      consume(event);
    }
  };

  const outcome = await execution.run();
  const ending = conclude(outcome, index.terminal, until === undefined, parsed.runId);
  if (ending.outcome !== "suspended" && ending.outcome !== "diverged") passFloating(Infinity);
  if (callbackError) throw callbackError.error;
  return { ...ending, events: consumed, position: reached, recordedOutcome };
}

/** The report's outcome, output, error and divergence from how the execution ended. */
function conclude(
  outcome: Outcome,
  terminal: HistoryEvent | undefined,
  toTheEnd: boolean,
  runId: string,
): Pick<ReplayReport, "outcome" | "output" | "error" | "divergence"> {
  switch (outcome.status) {
    case "completed":
      return { outcome: "completed", output: fromJsonText(outcome.outputText) };
    case "failed":
      return { outcome: "failed", error: outcome.thrown ?? deserializeError(outcome.error) };
    case "diverged":
      return { outcome: "diverged", divergence: divergenceOf(outcome.error), error: outcome.error };
    default:
      break;
  }
  // The code is parked where the history ends. If the run ended there for a reason of its
  // own (a timeout, a cancellation, a divergence under another version of the code), that is
  // the outcome. A run whose recorded failure came from a step (RunFailed with a position)
  // but whose code now handles that failure is not failed: it would go on from here.
  if (toTheEnd && terminal?.kind === EventKind.RunFailed) {
    const payload = terminal.payload as RunFailedPayload;
    if (payload.position === undefined || payload.position === null) return { outcome: "failed", error: deserializeError(payload.error) };
  }
  if (toTheEnd && terminal?.kind === EventKind.RunCancelled) {
    const reason = (terminal.payload as RunCancelledPayload).reason;
    return { outcome: "failed", error: new CancelledError("the run was cancelled", { runId, ...(reason === undefined ? {} : { reason }) }) };
  }
  return { outcome: "suspended" };
}

function recordedOutcomeOf(terminal: HistoryEvent | undefined): RecordedOutcome {
  if (terminal?.kind === EventKind.RunCompleted) return "completed";
  if (terminal?.kind === EventKind.RunFailed) return "failed";
  if (terminal?.kind === EventKind.RunCancelled) return "cancelled";
  return "unfinished";
}

function divergenceOf(error: NonDeterminismError): Divergence {
  return { position: error.position, recorded: error.recorded, actual: error.actual, message: error.message };
}
