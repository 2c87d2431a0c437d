import type { HistoryEvent, StepAttemptFailedPayload, StepCompletedPayload, StepFailedPayload } from "@reprise/sdk";

/** The payloads of one kind of event in a history, in order. */
export function payloadsOf<P>(history: readonly HistoryEvent[], kind: string): P[] {
  return history.filter((e) => e.kind === kind).map((e) => e.payload as P);
}

/** One try of a step, as the history records it. */
export interface RecordedAttempt {
  attempt: number;
  startedAt: number;
  outcome: "failed" | "completed" | "gave-up";
  delayMs?: number;
  retryAt?: number;
}

/** Every recorded try of the step named `name`, in order (a manual retry's tries included). */
export function attemptsOf(history: readonly HistoryEvent[], name: string): RecordedAttempt[] {
  const out: RecordedAttempt[] = [];
  for (const e of history) {
    if (e.name !== name) continue;
    if (e.kind === "StepAttemptFailed") {
      const p = e.payload as StepAttemptFailedPayload;
      out.push({ attempt: p.attempt, startedAt: Date.parse(p.startedAt), outcome: "failed", delayMs: p.delayMs, retryAt: Date.parse(p.retryAt) });
    } else if (e.kind === "StepCompleted") {
      const p = e.payload as StepCompletedPayload;
      out.push({ attempt: p.attempt, startedAt: Date.parse(p.startedAt), outcome: "completed" });
    } else if (e.kind === "StepFailed") {
      const p = e.payload as StepFailedPayload;
      out.push({ attempt: p.attempts, startedAt: Date.parse(p.startedAt!), outcome: "gave-up" });
    }
  }
  return out;
}

/** "Kind:name" of each event, for compact assertions on the shape of a history. */
export function shapeOf(history: readonly HistoryEvent[]): string[] {
  return history.map((e) => (e.name ? `${e.kind}:${e.name}` : e.kind));
}
