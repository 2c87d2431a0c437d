import type { SerializedError } from "./error-codec.js";
import type { OutOfLineValue } from "./payload.js";

/**
 * The kinds of event in a run's log. The names are the contract between versions:
 * kinds are added, never repurposed.
 */
export const EventKind = {
  RunStarted: "RunStarted",
  StepCompleted: "StepCompleted",
  StepAttemptFailed: "StepAttemptFailed",
  StepFailed: "StepFailed",
  TimerStarted: "TimerStarted",
  TimerFired: "TimerFired",
  SignalReceived: "SignalReceived",
  SignalConsumed: "SignalConsumed",
  /**
   * A signal wait without a timeout parked the run: the run reached this position (a wait
   * with a timeout records TimerStarted instead), which `ctx.patched` must know on replay.
   */
  SignalWaitStarted: "SignalWaitStarted",
  ChildStarted: "ChildStarted",
  ChildCompleted: "ChildCompleted",
  ChildFailed: "ChildFailed",
  MarkerRecorded: "MarkerRecorded",
  DeadLettered: "DeadLettered",
  RunRetried: "RunRetried",
  RunForked: "RunForked",
  CancelRequested: "CancelRequested",
  RunCompleted: "RunCompleted",
  RunFailed: "RunFailed",
  RunCancelled: "RunCancelled",
  /** A failure hook ran (so that it never runs twice after a crash). */
  HookCompleted: "HookCompleted",
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** One recorded event of a run, as `client.history()` returns it. */
export interface HistoryEvent {
  /** Present in exported histories and in `client.history()`. */
  runId?: string;
  seq: number;
  kind: EventKind;
  position?: number | null;
  name?: string | null;
  payload: unknown;
  createdAt: Date;
}

/** An event the engine wants appended; `seq` is assigned by the engine. */
export interface NewEvent {
  seq: number;
  kind: EventKind;
  position: number | null;
  name: string | null;
  /** The payload as JSON text (already validated), so it is serialised exactly once. */
  payload: string;
  /** Values the payload refers to, stored out of line: written before the event. */
  outOfLine?: readonly OutOfLineValue[];
}

// Payload shapes, per kind. Fields are added over time, never renamed.

/** The payload of a `RunStarted` event. */
export interface RunStartedPayload {
  workflow: string;
  input?: unknown;
  queue: string;
  fingerprint?: string;
  parentId?: string;
  timeoutMs?: number;
  /** The emitted event that started the run. */
  event?: string;
}

/** The payload of a `StepCompleted` event. */
export interface StepCompletedPayload {
  result?: unknown;
  attempt: number;
  startedAt: string;
  durationMs: number;
}

/** The payload of a `StepAttemptFailed` event. */
export interface StepAttemptFailedPayload {
  error: SerializedError;
  attempt: number;
  startedAt: string;
  durationMs: number;
  /** When the next attempt may run (database clock, ISO). */
  retryAt: string;
  delayMs: number;
}

/** The payload of a `StepFailed` event. */
export interface StepFailedPayload {
  error: SerializedError;
  attempts: number;
  startedAt?: string;
  durationMs?: number;
}

/** The payload of a `TimerStarted` event: a `ctx.sleep` or `sleepUntil`, or a `waitForSignal` timeout. */
export interface TimerStartedPayload {
  wakeAt: string;
  /** Set when the timer is a `waitForSignal` timeout rather than a sleep. */
  signal?: boolean;
}

/** The payload of a `SignalConsumed` event. */
export interface SignalConsumedPayload {
  signalId: string;
  payload?: unknown;
  sentAt?: string;
}

/** The payload of a `ChildStarted` event. */
export interface ChildStartedPayload {
  childId: string;
  workflow: string;
}

/** The payload of a `ChildCompleted` event. */
export interface ChildCompletedPayload {
  childId: string;
  output?: unknown;
}

/** The payload of a `ChildFailed` event. */
export interface ChildFailedPayload {
  childId: string;
  error: SerializedError;
  status: "failed" | "cancelled";
}

/** The payload of a `MarkerRecorded` event: the value `ctx.now()`, `random()` or `ulid()` returned (none for a `ctx.patched` marker). */
export interface MarkerPayload {
  value?: unknown;
}

/** The payload of a `DeadLettered` event. */
export interface DeadLetteredPayload {
  map: string;
  index: number;
  item?: unknown;
  error: SerializedError;
}

/** The payload of a `RunRetried` event. */
export interface RunRetriedPayload {
  /** The seq of the terminal event this retry reopens. */
  reopens: number;
  /** The position whose failure ended the run, when a step or child did. */
  position?: number;
  previousStatus: "failed" | "cancelled";
}

/** The payload of a `RunForked` event. */
export interface RunForkedPayload {
  from: string;
  fromPosition: number;
}

/** The payload of a `CancelRequested` event. */
export interface CancelRequestedPayload {
  reason?: string;
}

/** The payload of a `RunCompleted` event. */
export interface RunCompletedPayload {
  output?: unknown;
}

/** The payload of a `RunFailed` event. */
export interface RunFailedPayload {
  error: SerializedError;
  /** The position of the step or child whose failure ended the run, if one did. */
  position?: number;
}

/** The payload of a `RunCancelled` event. */
export interface RunCancelledPayload {
  reason?: string;
}

/** The payload of a `HookCompleted` event. */
export interface HookCompletedPayload {
  /** `run` or `step:<position>`. */
  hook: string;
  ok: boolean;
  error?: SerializedError;
}

/** Kinds that end a run. */
export const TERMINAL_KINDS: ReadonlySet<string> = new Set([EventKind.RunCompleted, EventKind.RunFailed, EventKind.RunCancelled]);
