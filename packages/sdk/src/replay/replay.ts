import { EventKind, type HistoryEvent, type RunCancelledPayload, type RunFailedPayload, type RunStartedPayload } from "../events.js";
import { CancelledError, NonDeterminismError, ValidationError, deserializeError, type CallDescription } from "../errors.js";
import type { Workflow } from "../workflow.js";
import { Execution } from "./execution.js";
import type { ExecutionHost } from "./host.js";

/** Where a replay found the code and the history disagree. */
export interface Divergence {
  position: number;
  recorded: CallDescription | null;
  actual: CallDescription | null;
  /** What changed and what to do about it. */
  message: string;
}

/** What {@link replay} found. */
export interface ReplayReport {
  /**
   * `completed`/`failed`: the code reached the run's end; `suspended`: the history ends
   * before the run does (it is still running, or `until` stopped it); `diverged`: the code
   * no longer matches the history.
   */
  outcome: "completed" | "failed" | "suspended" | "diverged";
  output?: unknown;
  error?: Error;
  divergence?: Divergence;
  /** The recorded events the replay consumed, in order. */
  events: HistoryEvent[];
  /** The last position the code reached. */
  position: number;
}

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Stop after this position, as if the history ended there (to inspect the state mid-run). */
  until?: number;
  /** Called as each recorded event is consumed, in seq order. */
  onEvent?: (event: HistoryEvent) => void;
}

/** A host with no effects: every call the history cannot answer parks the replay. */
const replayHost = (clock: () => number): ExecutionHost => ({
  live: false,
  now: clock,
  persist: () => Promise.resolve(),
  readSignal: () => Promise.resolve(null),
  startChild: () => Promise.reject(new Error("replay cannot start children")),
  childOutcome: () => Promise.resolve(null),
  saveHeartbeat: () => Promise.resolve(),
  breakerPermit: () => Promise.resolve({ allowed: true }),
  breakerReport: () => Promise.resolve(),
  print: () => undefined,
});

/**
 * Runs today's workflow code against a recorded history with no side effects: no step
 * function is called; every step returns or throws what was recorded. Use it to debug a
 * failed run (breakpoints in the workflow hit with the recorded values in scope) and, in
 * tests, to check that a code change does not break runs in flight.
 *
 * ```ts
 * const report = await replay(pingService, await client.history(runId));
 * if (report.outcome === "diverged") console.log(report.divergence!.message);
 * ```
 */
export async function replay(workflow: Workflow<any, any>, history: readonly LooseEvent[], options: ReplayOptions = {}): Promise<ReplayReport> {
  const events = [...history].map(normalizeEvent).sort((a, b) => a.seq - b.seq);
  const first = events[0];
  if (!first || first.kind !== EventKind.RunStarted) {
    throw new ValidationError("a history must start with its RunStarted event");
  }
  const started = first.payload as RunStartedPayload;
  if (started.workflow !== workflow.name) {
    throw new ValidationError(`the history is of workflow "${started.workflow}", not "${workflow.name}"`);
  }
  const runId = first.runId ?? "replay";

  // Events are reported in seq order as the replay reaches them: reading a position
  // releases every event up to the last one recorded there.
  const consumed: HistoryEvent[] = [];
  let cursor = 0;
  const release = (uptoSeq: number) => {
    while (cursor < events.length && events[cursor]!.seq <= uptoSeq) {
      const event = events[cursor++]!;
      consumed.push(event);
      options.onEvent?.(event);
    }
  };
  release(first.seq);

  let lastTime = first.createdAt.getTime();
  const execution = new Execution({
    runId,
    workflow,
    input: started.input,
    history: events,
    host: replayHost(() => lastTime),
    suspendAfterMs: 0,
    ...(options.until === undefined ? {} : { until: options.until }),
  });
  let reached = -1;
  execution.history.onRead = (position, recorded) => {
    if (options.until !== undefined && position > options.until) return;
    reached = Math.max(reached, position);
    const last = recorded[recorded.length - 1];
    if (last) {
      release(last.seq);
      lastTime = last.createdAt.getTime();
    }
  };
  const outcome = await execution.run();

  switch (outcome.status) {
    case "completed":
      release(Number.MAX_SAFE_INTEGER);
      return { outcome: "completed", output: outcome.output, events: consumed, position: reached };
    case "failed":
      release(Number.MAX_SAFE_INTEGER);
      return { outcome: "failed", error: deserializeError(outcome.error), events: consumed, position: reached };
    case "diverged":
      return { outcome: "diverged", divergence: divergenceOf(outcome.error), error: outcome.error, events: consumed, position: reached };
    default: {
      // The code stopped where the history ends. If the run ended there for a reason of its
      // own (a timeout, a cancellation), that is the outcome.
      const terminal = execution.history.terminal;
      if (options.until === undefined && terminal?.kind === EventKind.RunFailed) {
        release(Number.MAX_SAFE_INTEGER);
        return { outcome: "failed", error: deserializeError((terminal.payload as RunFailedPayload).error), events: consumed, position: reached };
      }
      if (options.until === undefined && terminal?.kind === EventKind.RunCancelled) {
        release(Number.MAX_SAFE_INTEGER);
        const reason = (terminal.payload as RunCancelledPayload).reason;
        return { outcome: "failed", error: new CancelledError("the run was cancelled", reason === undefined ? {} : { reason }), events: consumed, position: reached };
      }
      return { outcome: "suspended", events: consumed, position: reached };
    }
  }
}

function divergenceOf(error: NonDeterminismError): Divergence {
  return { position: error.position, recorded: error.recorded, actual: error.actual, message: error.message };
}

type LooseEvent = Omit<HistoryEvent, "createdAt"> & { createdAt: Date | string };

/** Accepts events as `client.history()` returns them or as they come back from JSON. */
function normalizeEvent(event: LooseEvent): HistoryEvent {
  const createdAt = event.createdAt instanceof Date ? event.createdAt : new Date(event.createdAt);
  return { ...event, position: event.position ?? null, name: event.name ?? null, createdAt };
}
