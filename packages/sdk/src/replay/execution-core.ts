import { EventKind, type HistoryEvent, type NewEvent } from "../events.js";
import { CancelledError, NonDeterminismError } from "../errors.js";
import { serializeError, toError, type SerializedError } from "../error-codec.js";
import type { CallDescription } from "../divergence.js";
import { rawJsonFields, storableText } from "../json.js";
import { DEFAULT_PAYLOAD_LIMITS, payloadRefOf, placeValue, type OutOfLineValue, type PayloadLimits } from "../payload.js";
import type { AnyWorkflow, FailureHook, FailureInfo, WorkflowContext } from "../workflow-types.js";
import { callFailureHook } from "./failure-hook.js";
import { HistoryIndex, recordedCall } from "./history-index.js";
import type { ExecutionHost, LogEntry } from "./host.js";
import type { Outcome, RecordedFailure } from "./outcome.js";
import { SignalInbox } from "./signal-inbox.js";
import { sleepFor } from "./sleep-for.js";

/** A wait that only a later claim of the run can end. */
export interface BlockedWait {
  wakeAt: number | null;
  kind: "timer" | "signal" | "child" | "frontier" | "handback";
}

export interface ExecutionOptions {
  runId: string;
  workflow: AnyWorkflow;
  input: unknown;
  /** The recorded events, in seq order, starting with `RunStarted`. */
  history: readonly HistoryEvent[];
  host: ExecutionHost;
  /** Waits up to this long stay in the process; longer ones suspend the run. */
  suspendAfterMs: number;
  /** The run's deadline (ms since epoch) when the workflow has a timeout. */
  deadline?: number;
  timeoutMs?: number;
  /** The run's attempt (1 + manual retries), for failure hooks. */
  attempt?: number;
  /**
   * A failure hook (the workflow's or a step's `onFailure`) is given up, and logged as
   * failed, after this long.
   * @default 60000
   */
  hookTimeoutMs?: number;
  /** Last heartbeat details per step position, from earlier attempts. */
  heartbeats?: ReadonlyMap<number, unknown>;
  /** Replay only: stop after this position, as if the history ended there. */
  until?: number;
  /** Replay only: called just before a recorded failure is thrown into the workflow. */
  onRecordedFailure?: (failure: RecordedFailure) => void;
  /** Values over `inlineLimit` are stored out of line, over `maxSize` refused. @default 256 KiB, 64 MiB */
  payloads?: PayloadLimits;
}

const DEFAULT_HOOK_TIMEOUT_MS = 60_000;

/**
 * A promise that never settles, new for each caller: whoever awaits it is parked, and is
 * garbage once nothing else refers to it. (One shared promise would hold a reaction for
 * every branch ever parked on it — each suspended run's whole execution, forever.)
 */
const never = (): Promise<never> => new Promise<never>(() => {});

/**
 * What every durable call of one execution works with: positions in call order, the
 * buffered events and their flush, in-process waits and suspension, matching the history,
 * and failure hooks. `ctx.step`, `ctx.sleep` and the rest (context.ts, step.ts, map.ts) are
 * written against this; {@link Execution} adds the run's start and end. Pure: all I/O, the
 * clock and the timers go through the {@link ExecutionHost}.
 *
 * Events are buffered and made durable before the next side effect (a step function, a
 * child start, a suspension, the end of the run), so a step's completion costs one append,
 * shared with whatever else was recorded since.
 */
export abstract class ExecutionCore {
  readonly runId: string;
  readonly workflow: AnyWorkflow;
  /** The run's input: a reference to it while it is stored out of line and not loaded yet. */
  input: unknown;
  readonly history: HistoryIndex;
  readonly host: ExecutionHost;
  readonly suspendAfterMs: number;
  readonly attempt: number;
  readonly hookTimeoutMs: number;
  /** Aborted on cancellation, timeout and lease loss. */
  readonly abortController = new AbortController();
  readonly heartbeats: Map<number, unknown>;
  /** The run's signal inbox as this execution reads it. */
  readonly signals: SignalInbox;
  readonly until: number | undefined;
  readonly payloads: PayloadLimits;
  abstract readonly ctx: WorkflowContext;
  private readonly onRecordedFailure: ((failure: RecordedFailure) => void) | undefined;

  private nextPosition = 0;
  private nextSeq: number;
  private pending: NewEvent[] = [];
  private pendingLogs: LogEntry[] = [];
  protected flushing: Promise<void> | undefined;
  private inflight = 0;
  private readonly blocked = new Map<number, BlockedWait>();
  private quiescenceCheck = false;
  protected settledWith: Outcome | undefined;
  private resolveOutcome!: (outcome: Outcome) => void;
  protected readonly outcome = new Promise<Outcome>((resolve) => (this.resolveOutcome = resolve));
  private readonly patchDecisions = new Map<string, boolean>();
  protected readonly deadline: number | undefined;
  private handingBack = false;
  /** Cuts in-process waits short when the run is handed back. */
  private readonly waitAbort = new AbortController();

  constructor(options: ExecutionOptions) {
    this.runId = options.runId;
    this.workflow = options.workflow;
    this.input = options.input;
    this.history = new HistoryIndex(options.history);
    this.host = options.host;
    this.suspendAfterMs = options.suspendAfterMs;
    this.attempt = options.attempt ?? 1;
    this.hookTimeoutMs = options.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    this.deadline = options.deadline;
    this.heartbeats = new Map(options.heartbeats ?? []);
    this.until = options.until;
    this.onRecordedFailure = options.onRecordedFailure;
    this.payloads = options.payloads ?? DEFAULT_PAYLOAD_LIMITS;
    this.nextSeq = this.history.nextSeq;
    this.signals = new SignalInbox(this.history.signalCursors);
  }

  /** The events buffered since the last flush; the caller appends them with the outcome. */
  takePending(): { events: NewEvent[]; logs: LogEntry[] } {
    const taken = { events: this.pending, logs: this.pendingLogs };
    this.pending = [];
    this.pendingLogs = [];
    return taken;
  }

  /**
   * The log lines recorded since the last flush, taken so that the host can write them
   * before the next one (a step that runs for long); the next flush no longer carries them.
   */
  takeLogs(): LogEntry[] {
    const logs = this.pendingLogs;
    if (logs.length > 0) this.pendingLogs = [];
    return logs;
  }

  get settled(): boolean {
    return this.settledWith !== undefined;
  }

  /**
   * The seq the next event of this run gets: past everything recorded so far, including
   * what this execution already flushed (the history it started from knows none of that).
   */
  get nextEventSeq(): number {
    return this.nextSeq;
  }

  /** True once `handBack()` was called: no new step may start. */
  get handedBack(): boolean {
    return this.handingBack;
  }

  /**
   * Asks the run to stop at its next durable call (a graceful worker shutdown): steps in
   * flight finish and are recorded, then the run suspends so that another worker goes on.
   */
  handBack(): void {
    if (this.settledWith || this.handingBack) return;
    this.handingBack = true;
    this.waitAbort.abort();
    this.checkQuiescent();
  }

  /** Stops at once: the lease is gone, so nothing may be recorded any more. */
  abort(reason: Error): void {
    if (this.settledWith) return;
    this.abortController.abort(reason);
    this.pending = [];
    this.pendingLogs = [];
    this.settle({ status: "aborted", reason });
  }

  // ---- positions, events, flushing -------------------------------------------------

  /** Takes the next position in call order. */
  takePosition(count = 1): number {
    const position = this.nextPosition;
    this.nextPosition += count;
    return position;
  }

  /** The position the next durable call will take. */
  get positionsTaken(): number {
    return this.nextPosition;
  }

  /** True while the code is still walking through positions the history has recorded. */
  isReplaying(): boolean {
    return this.nextPosition <= this.history.maxPosition;
  }

  /** Takes the next seq for an event appended outside the buffer (a transaction step's completion). */
  takeSeq(): number {
    return this.nextSeq++;
  }

  /**
   * Buffers a new event; `rawFields` are spliced in as already-serialised JSON text, and
   * `outOfLine` holds the values they refer to (see {@link place}), written before it.
   */
  record(
    kind: EventKind,
    position: number | null,
    name: string | null,
    fields: object,
    rawFields?: Record<string, string | undefined>,
    outOfLine?: OutOfLineValue,
  ): void {
    const payload = rawFields ? rawJsonFields(fields, rawFields) : JSON.stringify(fields);
    this.pending.push({ seq: this.nextSeq++, kind, position, name, payload, ...(outOfLine ? { outOfLine: [outOfLine] } : {}) });
  }

  /**
   * Where a value's JSON text goes: as it is, or (over the inline limit) out of line, its
   * event holding a reference. @throws SerializationError over the size limit
   */
  place(text: string | undefined, what: string): { text: string | undefined; outOfLine?: OutOfLineValue } {
    return placeValue(text, this.payloads, what);
  }

  /**
   * A recorded value as the workflow sees it: loaded through the host if it is stored out
   * of line (only now that the code reached it). A value that cannot be loaded ends the
   * run (see `loadFailed`); the caller is parked.
   */
  async loadValue(value: unknown): Promise<unknown> {
    const ref = payloadRefOf(value);
    if (!ref) return value;
    if (this.settledWith) return this.stranded();
    this.begin();
    try {
      return await this.host.loadPayload(ref.id);
    } catch (error) {
      this.loadFailed(toError(error), ref.id);
      return this.stranded();
    } finally {
      this.end();
    }
  }

  /** A value stored out of line could not be read: the run cannot go on. */
  protected abstract loadFailed(error: Error, id: string): void;

  /** Makes everything buffered durable. Rejects (and ends the run) if the log refuses it. */
  flush(): Promise<void> {
    if (!this.host.live || this.settledWith) return Promise.resolve();
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.length === 0 && this.pendingLogs.length === 0) return Promise.resolve();
    const { events, logs } = this.takePending();
    this.begin();
    const flushing = this.host.persist(events, logs).then(
      () => {
        if (this.flushing === flushing) this.flushing = undefined;
        this.end();
      },
      (error: unknown) => {
        if (this.flushing === flushing) this.flushing = undefined;
        this.end();
        this.persistFailed(toError(error), events[0]?.seq);
        throw error;
      },
    );
    this.flushing = flushing;
    return flushing;
  }

  /**
   * The log did not take a flush. A refusal (a value the database will not store that got
   * past validation) fails the run after what is durable: walking away would leave it to be
   * claimed again and its step run again, forever. Anything else (the lease is gone) stops
   * the run with nothing more recorded.
   */
  protected abstract persistFailed(error: Error, firstSeq: number | undefined): void;

  /** Drops what is buffered and numbers the next event `seq` (after a refused flush). */
  protected rewindTo(seq: number): void {
    this.pending = [];
    this.pendingLogs = [];
    this.nextSeq = seq;
  }

  /** Records a log line; silent while replaying recorded positions unless `live` (a step running now). */
  log(entry: Omit<LogEntry, "at">, options: { live?: boolean } = {}): void {
    if (this.settledWith || (!options.live && this.isReplaying()) || !this.host.live) return;
    // A log line must never fail the append it rides in: what Postgres cannot store is replaced.
    const full: LogEntry = { at: new Date(this.host.now()).toISOString(), ...entry, message: storableText(String(entry.message)) };
    if (entry.fields !== undefined) full.fields = storableFields(entry.fields);
    this.pendingLogs.push(full);
    this.host.print(full, this.runId, this.workflow.name);
  }

  // ---- blocking and suspension ----------------------------------------------------

  /** Counts an operation the workflow is waiting on in this process (a step, a read, a short wait). */
  begin(): void {
    this.inflight++;
  }

  end(): void {
    this.inflight--;
    this.checkQuiescent();
  }

  /**
   * Parks the calling branch until a later claim replays the run: when nothing else is in
   * flight, the run suspends. The returned promise never settles.
   */
  block(position: number, wait: BlockedWait): Promise<never> {
    this.blocked.set(position, wait);
    this.checkQuiescent();
    return never();
  }

  /** A promise for a branch that must not go on (the run has ended under it). */
  stranded(): Promise<never> {
    return never();
  }

  private checkQuiescent(): void {
    if (this.settledWith || this.inflight > 0 || this.blocked.size === 0 || this.quiescenceCheck) return;
    this.quiescenceCheck = true;
    // Let every branch run as far as it can (all microtasks) before deciding.
    this.host.defer(() => {
      this.quiescenceCheck = false;
      if (this.settledWith || this.inflight > 0 || this.blocked.size === 0) return;
      if (this.handingBack) {
        this.settle({ status: "suspended", wakeAt: this.host.now(), waiting: "sleeping", handedBack: true });
        return;
      }
      let wakeAt: number | null = null;
      let waiting: "sleeping" | "waiting" = "sleeping";
      for (const wait of this.blocked.values()) {
        if (wait.kind === "signal" || wait.kind === "child") waiting = "waiting";
        if (wait.wakeAt !== null && (wakeAt === null || wait.wakeAt < wakeAt)) wakeAt = wait.wakeAt;
      }
      if (this.deadline !== undefined && (wakeAt === null || this.deadline < wakeAt)) wakeAt = this.deadline;
      this.settle({ status: "suspended", wakeAt, waiting });
    });
  }

  /**
   * Waits until `at`: in the process when it is near, else by suspending the run.
   * Rejects with the abort reason if the run is aborted meanwhile.
   */
  async waitUntil(position: number, at: number, kind: "timer" = "timer"): Promise<void> {
    const delay = at - this.host.now();
    if (delay <= 0) return;
    if (!this.host.live || delay > this.suspendAfterMs || this.handingBack) return this.block(position, { wakeAt: at, kind });
    this.begin();
    try {
      // The wake-up time is durable before the wait: a crash during it must neither lose
      // the timer nor start it over.
      await this.flush();
      const signal = AbortSignal.any([this.abortController.signal, this.waitAbort.signal]);
      // Until the clock says it is due: a timer may fire a millisecond early.
      for (let left = at - this.host.now(); left > 0; left = at - this.host.now()) await sleepFor(this.host, left, signal);
    } catch (error) {
      if (this.handingBack && !this.abortController.signal.aborted) return this.block(position, { wakeAt: at, kind });
      throw error;
    } finally {
      this.end();
    }
  }

  // ---- matching the history --------------------------------------------------------

  /**
   * Checks that the history's first event at `position` is one of `kinds` with `name`;
   * otherwise the run diverged.
   */
  expect(position: number, recorded: readonly HistoryEvent[], kinds: ReadonlySet<string>, actual: CallDescription): void {
    const first = recorded[0];
    if (!first) {
      // Nothing recorded here: fine, unless the run completed without making this call.
      // (A run that failed or was cancelled may well have stopped short of it.)
      const terminal = this.history.terminal;
      if (terminal?.kind === EventKind.RunCompleted) this.diverge(position, { kind: terminal.kind, name: null }, actual);
      return;
    }
    if (!kinds.has(first.kind) || (first.name ?? null) !== actual.name) {
      this.diverge(position, recordedCall(recorded)!, actual);
    }
  }

  /** Ends the run as diverged. Nothing recorded in this execution is appended. */
  diverge(position: number, recorded: CallDescription | null, actual: CallDescription | null): never {
    const error = new NonDeterminismError({ runId: this.runId, position, recorded, actual });
    if (!this.settledWith) {
      // Nothing this execution recorded is kept: only the failure itself is appended.
      this.pending = [];
      this.pendingLogs = [];
      this.abortController.abort(error);
      this.record(EventKind.RunFailed, null, null, { error: serializeError(error) });
      this.settle({ status: "diverged", error });
    }
    throw error;
  }

  /** True when a replay with `until` must not go past this position. */
  stopsAt(position: number): boolean {
    return this.until !== undefined && position > this.until;
  }

  /**
   * A synchronous call (`ctx.now()`, …) past `until`: it cannot park like an awaited one, so
   * the replay ends here and the call throws into code whose outcome no longer counts.
   */
  stopHere(position: number): never {
    this.blocked.set(position, { wakeAt: null, kind: "frontier" });
    this.settle({ status: "suspended", wakeAt: null, waiting: "sleeping" });
    throw new CancelledError("the replay stopped here (until)", { runId: this.runId });
  }

  /** Returns `error` to be thrown for a recorded failure, after telling the replay's observer. */
  rethrowRecorded<E extends Error>(error: E, failure: Omit<RecordedFailure, "error">): E {
    this.onRecordedFailure?.({ ...failure, error });
    return error;
  }

  /** Throws (or strands the caller) once the execution has ended. */
  assertActive(): void {
    const settled = this.settledWith;
    if (!settled) return;
    if (settled.status === "diverged") throw settled.error;
    throw new CancelledError("the run is no longer executing here", { runId: this.runId });
  }

  // ---- versioning ------------------------------------------------------------------

  patched(id: string): boolean {
    const decided = this.patchDecisions.get(id);
    if (decided !== undefined) return decided;
    let value: boolean;
    if (this.history.patches.has(id)) value = true;
    else if (this.isReplaying()) value = false;
    else {
      value = true;
      this.record(EventKind.MarkerRecorded, null, `patch:${id}`, {});
    }
    this.patchDecisions.set(id, value);
    return value;
  }

  // ---- hooks -----------------------------------------------------------------------

  /**
   * Runs a failure hook once (`step:<position>` or `run`), within `hookTimeoutMs`, after
   * what is buffered is durable; `HookCompleted` is recorded so that a crash after it does
   * not run it again. A hook that throws is logged and changes nothing. The step hooks and
   * the run's hook all come through here.
   */
  async runHook(key: string, hook: FailureHook, info: FailureInfo): Promise<void> {
    if (!this.host.live || this.history.hooksDone.has(key)) return;
    await this.flush();
    this.begin();
    let error: SerializedError | undefined;
    try {
      error = await callFailureHook(hook, info, this.hookTimeoutMs, this.host);
    } finally {
      this.end();
    }
    this.recordHook(key, error);
    await this.flush();
  }

  /** Logs a hook's failure and records that the hook ran. */
  protected recordHook(key: string, error: SerializedError | undefined): void {
    if (error) {
      this.host.reportError(`onFailure hook (${key}) of run ${this.runId} threw: ${error.message}`, { runId: this.runId, workflowName: this.workflow.name });
    }
    this.record(EventKind.HookCompleted, null, null, error ? { hook: key, ok: false, error } : { hook: key, ok: true });
  }

  /** The failure info a hook receives for this run. */
  failureInfo(error: SerializedError, extra: { stepName?: string; attempt?: number } = {}): FailureInfo {
    return {
      runId: this.runId,
      workflowName: this.workflow.name,
      ...(extra.stepName === undefined ? {} : { stepName: extra.stepName }),
      attempt: extra.attempt ?? this.attempt,
      error,
      input: this.input,
    };
  }

  protected settle(outcome: Outcome): void {
    if (this.settledWith) return;
    this.settledWith = outcome;
    this.resolveOutcome(outcome);
  }
}

/** Log fields as JSON Postgres can store: strings made storable, what JSON cannot hold named. */
function storableFields(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(fields, (_key, value: unknown) => (typeof value === "string" ? storableText(value) : typeof value === "bigint" ? String(value) : value))) as Record<string, unknown>;
  } catch (error) {
    return { unserialisable: (error as Error).message };
  }
}
