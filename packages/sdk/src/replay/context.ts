import { toMillis, type Duration } from "../duration.js";
import {
  EventKind,
  type ChildCompletedPayload,
  type ChildFailedPayload,
  type ChildStartedPayload,
  type MarkerPayload,
  type SignalConsumedPayload,
  type TimerStartedPayload,
} from "../events.js";
import { ChildFailedError, NonRetryableError, SignalTimeoutError } from "../errors.js";
import { deserializeError } from "../error-codec.js";
import { monotonicIds } from "../ids.js";
import { toJsonText, unstorableIn } from "../json.js";
import { parseWith, type Schema } from "../schema.js";
import type { ChildOptions, Logger, WaitForSignalOptions, WorkflowContext, WorkflowRef } from "../workflow-types.js";
import type { ExecutionCore as Execution } from "./execution-core.js";
import { markPosition } from "./failure-position.js";
import type { InboxSignal } from "./host.js";
import { findKind } from "./history-index.js";
import { runMap } from "./map.js";
import { runStep } from "./step.js";
import { runTransaction } from "./transaction-step.js";

const TIMER_KINDS: ReadonlySet<string> = new Set([EventKind.TimerStarted, EventKind.TimerFired]);
const SIGNAL_KINDS: ReadonlySet<string> = new Set([EventKind.TimerStarted, EventKind.SignalWaitStarted, EventKind.SignalConsumed, EventKind.TimerFired]);
const CHILD_KINDS: ReadonlySet<string> = new Set([EventKind.ChildStarted, EventKind.ChildCompleted, EventKind.ChildFailed]);
const MARKER_KINDS: ReadonlySet<string> = new Set([EventKind.MarkerRecorded]);
const SLEEP = "sleep";

/** Builds the `ctx` object a workflow function receives. */
export function createWorkflowContext(ex: Execution): WorkflowContext {
  const newUlid = monotonicIds();
  const log = (level: "debug" | "info" | "warn" | "error") => (message: string, fields?: Record<string, unknown>) =>
    ex.log({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };

  return {
    runId: ex.runId,
    workflowName: ex.workflow.name,
    signal: ex.abortController.signal,
    log: logger,
    step: (name, fn, options) => runStep(ex, ex.takePosition(), checkName(name, "step"), fn, options),
    transaction: (name, fn, options) => runTransaction(ex, ex.takePosition(), checkName(name, "transaction"), fn, options),
    sleep: (duration: Duration) => sleepUntil(ex, ex.takePosition(), (now) => now + toMillis(duration)),
    sleepUntil: (at: Date) => {
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError(`sleepUntil needs a valid Date, got ${String(at)}`);
      return sleepUntil(ex, ex.takePosition(), () => at.getTime());
    },
    waitForSignal: <T>(name: string, options?: WaitForSignalOptions<T>) =>
      waitForSignal<T>(ex, ex.takePosition(), checkName(name, "signal"), options ?? {}),
    child: <I, O, In>(wf: WorkflowRef<I, O, In>, input: In, options?: ChildOptions) => child<I, O, In>(ex, ex.takePosition(), wf, input, options ?? {}),
    map: (name, items, fn, options) => runMap(ex, checkName(name, "map"), items, fn, options ?? {}),
    now: () => new Date(marker(ex, "now", () => new Date(ex.host.now()).toISOString()) as string),
    random: () => marker(ex, "random", () => Math.random()) as number,
    ulid: () => marker(ex, "ulid", () => newUlid(ex.host.now())) as string,
    patched: (id: string) => ex.patched(checkName(id, "patch")),
  };
}

/** A name is stored with every event of its call: one Postgres would refuse must never get that far. */
function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 200) {
    throw new TypeError(`${what} name must be a non-empty string of at most 200 characters, got ${JSON.stringify(name)}`);
  }
  const unstorable = unstorableIn(name);
  if (unstorable) throw new TypeError(`${what} name ${JSON.stringify(name)} cannot be stored: it holds ${unstorable}`);
  return name;
}

/** `ctx.now()`, `ctx.random()`, `ctx.ulid()`: generated once, then read back from the log. */
function marker(ex: Execution, name: string, make: () => unknown): unknown {
  ex.assertActive();
  const position = ex.takePosition();
  if (ex.stopsAt(position)) ex.stopHere(position);
  const recorded = ex.history.at(position);
  ex.expect(position, recorded, MARKER_KINDS, { kind: EventKind.MarkerRecorded, name });
  if (recorded[0]) return (recorded[0].payload as MarkerPayload).value;
  const value = make();
  ex.record(EventKind.MarkerRecorded, position, name, { value });
  return value;
}

async function sleepUntil(ex: Execution, position: number, wakeAtFrom: (now: number) => number): Promise<void> {
  if (ex.settled) return ex.stranded();
  if (ex.stopsAt(position)) return ex.block(position, { wakeAt: null, kind: "frontier" });
  const recorded = ex.history.at(position);
  ex.expect(position, recorded, TIMER_KINDS, { kind: EventKind.TimerStarted, name: SLEEP });
  if (findKind(recorded, EventKind.TimerFired)) return;
  // A replay goes no further than the history: a timer it did not record firing has not fired.
  if (!ex.host.live) return ex.block(position, { wakeAt: null, kind: "frontier" });
  const started = findKind(recorded, EventKind.TimerStarted);
  let wakeAt: number;
  if (started) {
    wakeAt = Date.parse((started.payload as TimerStartedPayload).wakeAt);
  } else {
    wakeAt = wakeAtFrom(ex.host.now());
    ex.record(EventKind.TimerStarted, position, SLEEP, { wakeAt: new Date(wakeAt).toISOString() });
  }
  await ex.waitUntil(position, wakeAt);
  if (ex.settled) return ex.stranded();
  ex.record(EventKind.TimerFired, position, SLEEP, {});
}

async function waitForSignal<T>(ex: Execution, position: number, name: string, options: WaitForSignalOptions<T>): Promise<T> {
  if (ex.settled) return ex.stranded();
  if (ex.stopsAt(position)) return ex.block(position, { wakeAt: null, kind: "frontier" });
  const schema = (options.schema ?? ex.workflow.options.signals?.[name]) as Schema<T> | undefined;
  const what = `payload of signal "${name}"`;
  const recorded = ex.history.at(position);
  ex.expect(position, recorded, SIGNAL_KINDS, { kind: EventKind.SignalConsumed, name });

  const consumed = findKind(recorded, EventKind.SignalConsumed);
  if (consumed) return parseWith(schema, await ex.loadValue((consumed.payload as SignalConsumedPayload).payload), what);
  const timer = findKind(recorded, EventKind.TimerStarted);
  const timeoutMs = timer
    ? (timer.payload as TimerStartedPayload & { timeoutMs?: number }).timeoutMs ?? 0
    : options.timeout === undefined
      ? undefined
      : toMillis(options.timeout);
  const fired = findKind(recorded, EventKind.TimerFired);
  if (fired) throw ex.rethrowRecorded(new SignalTimeoutError(name, timeoutMs ?? 0), { position, call: "signal", name, event: fired });
  if (!ex.host.live) return ex.block(position, { wakeAt: null, kind: "frontier" });

  let deadline = timer ? Date.parse((timer.payload as TimerStartedPayload).wakeAt) : undefined;
  if (!timer && timeoutMs !== undefined) {
    deadline = ex.host.now() + timeoutMs;
    ex.record(EventKind.TimerStarted, position, name, { wakeAt: new Date(deadline).toISOString(), signal: true, timeoutMs });
  }
  // Reads for one name go in call order, so parallel waits take signals first-in first-out.
  // Once a wait parks the run, later waits on that name park too without reading: a signal
  // that lands meanwhile is the parked wait's, and it reads first when the run resumes.
  const read = await ex.signals.inTurn(name, async (): Promise<InboxSignal | "timeout" | null> => {
    let found: InboxSignal | null = null;
    if (!ex.signals.isParked(name)) {
      ex.begin();
      try {
        found = await ex.host.readSignal(name, ex.signals.cursor(name));
      } finally {
        ex.end();
      }
    }
    // Whether the wait timed out is decided by when the signal arrived, not by how late a
    // worker got to the run: one sent after the deadline stays in the inbox for a later wait.
    if (found && deadline !== undefined && Date.parse(found.sentAt) > deadline) found = null;
    if (found) {
      ex.signals.consumed(name, found.id);
      return found;
    }
    if (deadline !== undefined && deadline <= ex.host.now()) return "timeout";
    ex.signals.park(name);
    return null;
  });
  if (ex.settled) return ex.stranded();
  if (read === "timeout") {
    ex.record(EventKind.TimerFired, position, name, {});
    throw new SignalTimeoutError(name, timeoutMs ?? 0);
  }
  if (read) {
    // A payload stored out of line stays there: the event holds the signal's reference to it.
    ex.record(EventKind.SignalConsumed, position, name, { signalId: read.id, payload: read.payload, sentAt: read.sentAt });
    return parseWith(schema, await ex.loadValue(read.payload), what);
  }
  // The run stops here until signalled: a wait with no timer leaves a trace of that, so
  // that a replay knows the run got this far (ctx.patched before it keeps the old branch).
  if (!timer && deadline === undefined && !findKind(recorded, EventKind.SignalWaitStarted)) {
    ex.record(EventKind.SignalWaitStarted, position, name, {});
  }
  return ex.block(position, { wakeAt: deadline ?? null, kind: "signal" });
}

async function child<I, O, In>(ex: Execution, position: number, wf: WorkflowRef<I, O, In>, input: In, options: ChildOptions): Promise<O> {
  if (ex.settled) return ex.stranded();
  if (ex.stopsAt(position)) return ex.block(position, { wakeAt: null, kind: "frontier" });
  const recorded = ex.history.at(position);
  ex.expect(position, recorded, CHILD_KINDS, { kind: EventKind.ChildStarted, name: wf.name });

  const done = findKind(recorded, EventKind.ChildCompleted);
  if (done) return (await ex.loadValue((done.payload as ChildCompletedPayload).output)) as O;
  const failed = findKind(recorded, EventKind.ChildFailed);
  if (failed) {
    const { childId, error } = failed.payload as ChildFailedPayload;
    const rethrown = markPosition(new ChildFailedError(childId, wf.name, deserializeError(error)), position);
    throw ex.rethrowRecorded(rethrown, { position, call: "child", name: wf.name, event: failed });
  }

  const started = findKind(recorded, EventKind.ChildStarted);
  let childId: string;
  if (started) {
    childId = (started.payload as ChildStartedPayload).childId;
  } else {
    const parsed = wf.parseInput(input);
    childId = options.id ?? `${ex.runId}-${position}`;
    if (!ex.host.live) return ex.block(position, { wakeAt: null, kind: "frontier" });
    const what = `input of child workflow "${wf.name}"`;
    const stored = ex.place(toJsonText(parsed, what), what);
    // Starting the child is a side effect: what came before it is durable first.
    await ex.flush();
    if (ex.settled) return ex.stranded();
    if (ex.handedBack) return ex.block(position, { wakeAt: null, kind: "handback" });
    ex.begin();
    let existing: { parentId: string | null; workflow: string };
    try {
      existing = await ex.host.startChild({
        id: childId,
        workflow: wf.name,
        queue: options.queue ?? wf.queue,
        priority: options.priority ?? wf.options.priority ?? 0,
        input: stored.text,
        ...(stored.outOfLine ? { outOfLine: stored.outOfLine } : {}),
        parentId: ex.runId,
        fingerprint: wf.fingerprint,
        timeoutMs: wf.timeoutMs,
      });
    } finally {
      ex.end();
    }
    if (ex.settled) return ex.stranded();
    if (existing.parentId !== ex.runId || existing.workflow !== wf.name) {
      throw new NonRetryableError(
        `child id "${childId}" already belongs to another run (workflow ${existing.workflow}, parent ${existing.parentId ?? "none"})`,
      );
    }
    ex.record(EventKind.ChildStarted, position, wf.name, { childId, workflow: wf.name });
  }
  if (!ex.host.live) return ex.block(position, { wakeAt: null, kind: "frontier" });

  ex.begin();
  let outcome;
  try {
    outcome = await ex.host.childOutcome(childId);
  } finally {
    ex.end();
  }
  if (ex.settled) return ex.stranded();
  if (!outcome) return ex.block(position, { wakeAt: null, kind: "child" });
  if (outcome.status === "completed") {
    const what = `output of child run ${childId}`;
    const output = ex.place(toJsonText(outcome.output, what), what);
    ex.record(EventKind.ChildCompleted, position, wf.name, { childId }, { output: output.text }, output.outOfLine);
    return outcome.output as O;
  }
  ex.record(EventKind.ChildFailed, position, wf.name, { childId, error: outcome.error, status: outcome.status });
  throw markPosition(new ChildFailedError(childId, wf.name, deserializeError(outcome.error)), position);
}
