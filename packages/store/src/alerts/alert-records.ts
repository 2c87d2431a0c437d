/**
 * A fact from the alert inbox (a failure event, or a breaker that opened) for one rule, with what
 * evaluating it needs of its event and its run. Null fields: the fact has none (a breaker
 * has no event), or the run was pruned before the fact was evaluated.
 */
export interface InboxFact {
  id: string;
  /** The rule it waits for. */
  rule: string;
  /** `StepAttemptFailed`, `StepFailed`, `RunFailed` or `BreakerOpened`. */
  kind: string;
  runId: string | null;
  seq: number | null;
  /** BreakerOpened: the breaker's name. */
  subject: string | null;
  /** BreakerOpened: `{ failures }`. */
  detail: unknown;
  /** When it happened: the event's time, or the breaker's opening. */
  at: Date;
  /** The event's position and name (a step's name). */
  position: number | null;
  name: string | null;
  payload: unknown;
  /** RunFailed: the name of the call at the payload's `position` (the step or child that failed the run). */
  failedName: string | null;
  workflow: string | null;
  /** The run's attempt (1 + manual retries). */
  runAttempt: number | null;
}

/** An alert as the `alerts` table holds it. */
export interface AlertRecord {
  id: string;
  rule: string;
  key: string;
  severity: string;
  status: string;
  workflow: string;
  step: string | null;
  runId: string;
  errorName: string;
  message: string;
  attempt: number;
  lastLogLines: string[];
  runbookUrl: string | null;
  runUrl: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  count: number;
  escalateAt: Date | null;
  escalateTo: string[];
  escalatedAt: Date | null;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  autoResolve: boolean;
  resolveNotify: string[];
  resolvedAt: Date | null;
}

/** What a new alert is written with (the evaluator decided it). */
export interface NewAlert {
  rule: string;
  key: string;
  severity: string;
  workflow: string;
  step: string | undefined;
  runId: string;
  errorName: string;
  message: string;
  attempt: number;
  lastLogLines: readonly string[];
  runbookUrl: string | undefined;
  runUrl: string | undefined;
  seenAt: Date;
  /** Channels told now (one `opened` delivery each). */
  notify: readonly string[];
  /** Escalate this long after `seenAt` unless acknowledged. */
  escalateAfterMs: number | undefined;
  escalateTo: readonly string[];
  autoResolve: boolean;
  /** Channels told when it is resolved. */
  resolveNotify: readonly string[];
  /** autoResolve counts runs created from the alert's run on; without that run, from this time. */
  resolveAfter: Date;
}

/** One notification of an alert to one channel: a row of the outbox. */
export interface DeliveryRecord {
  id: string;
  alertId: string;
  channel: string;
  /** `opened`, `escalated` or `resolved`. */
  notification: string;
  /** The same for every attempt of this delivery, by whichever worker. */
  idempotencyKey: string;
  /** `pending`, `delivered` or `failed` (gave up). */
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** A delivery a worker claimed, with its alert as it is now. */
export interface ClaimedDelivery extends DeliveryRecord {
  alert: AlertRecord;
}

/** A schedule slot a run.late rule looks at. */
export interface LateSlotRef {
  scheduleId: string;
  slotAt: Date;
}

/** How a claimed delivery went. */
export type DeliveryOutcome =
  | { outcome: "delivered" }
  | { outcome: "retry"; error: string; retryInMs: number }
  | { outcome: "failed"; error: string };

/** A rule a worker has, and the fact kind it listens to (`StepAttemptFailed`, `StepFailed`, `RunFailed`, `BreakerOpened`; none for `run.late`). */
export interface RuleRegistration {
  id: string;
  kind: string;
}

/** What an evaluation holds: the locks of these rules, and of the shared upkeep (escalation, resolution). */
export interface EvaluationLocks {
  rules: ReadonlySet<string>;
  upkeep: boolean;
}

/** A run's log line as an alert quotes it. */
export interface AlertLogLine {
  at: Date;
  level: string;
  message: string;
  fields: unknown;
  step: string | null;
  attempt: number | null;
}
