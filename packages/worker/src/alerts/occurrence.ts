import { ErrorCode, type AlertEvent, type SerializedError } from "@reprise/sdk";
import type { AlertLogLine, InboxFact } from "@reprise/store";

/** One thing an alert rule may fire on: a failure, a breaker that opened, a late slot. */
export interface Occurrence {
  event: AlertEvent;
  workflow: string;
  step: string | undefined;
  runId: string;
  /** The event it comes from, when it is one (a streak is counted as of that event). */
  seq: number | undefined;
  errorName: string;
  message: string;
  attempt: number;
  at: Date;
  /** What the alert is about beyond the workflow: a breaker, a schedule. Part of its key. */
  subject: { kind: "breaker" | "schedule"; name: string } | undefined;
}

/**
 * The kind of fact each rule listens to, as the log's triggers capture it for the rule
 * (migration 0005); `run.late` reads the schedules instead.
 */
export const FACT_KIND: Readonly<Record<AlertEvent, string | undefined>> = {
  "run.failed": "RunFailed",
  "step.failed": "StepFailed",
  "step.retrying": "StepAttemptFailed",
  "breaker.opened": "BreakerOpened",
  "run.late": undefined,
};

const EVENT_OF: ReadonlyMap<string, AlertEvent> = new Map(
  Object.entries(FACT_KIND).flatMap(([event, kind]) => (kind ? [[kind, event as AlertEvent] as const] : [])),
);

/** The step's own error under the wrappers a failure reaches the run in. */
const WRAPPERS: ReadonlySet<string> = new Set([ErrorCode.StepFailed, ErrorCode.ChildFailed]);
const MAX_DEPTH = 8;

/**
 * What an inbox fact says, or undefined when it cannot be an alert any more (its run was
 * pruned before the fact was evaluated).
 */
export function occurrenceOf(fact: InboxFact): Occurrence | undefined {
  const event = EVENT_OF.get(fact.kind);
  if (!event || fact.runId === null || fact.workflow === null) return undefined;
  const base = { event, workflow: fact.workflow, runId: fact.runId, seq: fact.seq ?? undefined, at: fact.at, subject: undefined };
  if (fact.kind === "BreakerOpened") {
    const failures = (fact.detail as { failures?: number } | null)?.failures;
    return {
      ...base,
      step: undefined,
      errorName: "CircuitOpenError",
      message: `circuit breaker "${fact.subject}" opened${failures ? ` after ${failures} consecutive failure${failures === 1 ? "" : "s"}` : ""}; calls through it fail fast until a trial succeeds`,
      attempt: fact.runAttempt ?? 1,
      subject: { kind: "breaker", name: fact.subject ?? "" },
    };
  }
  if (fact.payload === null) return undefined;
  const payload = fact.payload as { error?: SerializedError; attempt?: number; attempts?: number };
  const error = payload.error ?? { name: "Error", message: "(no error recorded)" };
  if (fact.kind === "StepAttemptFailed" || fact.kind === "StepFailed") {
    return { ...base, step: fact.name ?? undefined, errorName: error.name, message: error.message, attempt: payload.attempt ?? payload.attempts ?? 1 };
  }
  // RunFailed: the run's error is usually the StepFailedError (or ChildFailedError) that
  // ended it; the alert is about the error underneath, in the step that threw it.
  let root = error;
  let step = fact.failedName ?? undefined;
  let attempt: number | undefined;
  for (let depth = 0; depth < MAX_DEPTH && root.code !== undefined && WRAPPERS.has(root.code) && root.cause; depth++) {
    const data = root.data as { stepName?: string; attempts?: number } | undefined;
    if (root.code === ErrorCode.StepFailed) {
      step ??= data?.stepName;
      attempt ??= data?.attempts;
    }
    root = root.cause;
  }
  return { ...base, step, errorName: root.name, message: root.message, attempt: attempt ?? fact.runAttempt ?? 1 };
}

/** A log line as an alert shows it: `2026-11-22T06:00:01.250Z warn extract#2 the source answers 503 {"status":503}`. */
export function formatLogLine(line: AlertLogLine): string {
  const where = line.step ? ` ${line.step}#${line.attempt ?? 1}` : "";
  let fields = "";
  if (line.fields !== null && line.fields !== undefined && !(typeof line.fields === "object" && Object.keys(line.fields).length === 0)) {
    try {
      fields = ` ${JSON.stringify(line.fields)}`;
    } catch {
      fields = "";
    }
  }
  const text = `${line.at.toISOString()} ${line.level}${where} ${line.message}${fields}`;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}
