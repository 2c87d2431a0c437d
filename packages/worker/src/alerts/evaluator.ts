import { formatMillis, slotRunId } from "@reprise/sdk/engine";
import type { AlertTransaction, EvaluationLocks, LateSlot, OverrunSlot, RuleRegistration, Store } from "@reprise/store";
import type { WorkerLogger } from "../logger.js";
import { alertKey } from "./alert-key.js";
import type { AlertDraft, ResolvedAlertRule, ResolvedAlerts } from "./alerts-options.js";
import { FACT_KIND, formatLogLine, occurrenceOf, type Occurrence } from "./occurrence.js";

/** What one evaluation did. */
export interface EvaluationReport {
  /** Inbox facts taken. */
  facts: number;
  /** Alerts opened. */
  opened: number;
  /** Occurrences counted into an open alert. */
  repeated: number;
  escalated: number;
  resolved: number;
  /** A full batch was taken: more facts may be waiting. */
  full: boolean;
}

const DAY_MS = 86_400_000;
const MAX_LATE_CHECK_MS = 30_000;

/** What a worker registers for its rules, so that the triggers capture their facts. */
export function ruleRegistrations(rules: readonly ResolvedAlertRule[]): RuleRegistration[] {
  return rules.flatMap((r) => {
    const kind = FACT_KIND[r.on];
    return kind ? [{ id: r.id, kind }] : [];
  });
}

/**
 * Decides what facts mean under the rules, inside one evaluation transaction (see
 * `AlertStore.evaluate`), for the rules whose locks it holds: each fact either counts into
 * the open alert of its rule and key or opens a new alert with its `opened` deliveries.
 * Then late schedule slots (every so often), and, with the upkeep lock, escalations and
 * automatic resolutions. Nothing here is sent: deliveries are outbox rows, committed with
 * the decisions.
 */
export class AlertEvaluator {
  private readonly byId = new Map<string, ResolvedAlertRule>();
  private readonly lateRules: ResolvedAlertRule[];
  private readonly lateCheckMs: number;
  private lastLateCheck = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly alerts: ResolvedAlerts,
    private readonly logger: WorkerLogger,
    private readonly batchSize = 200,
  ) {
    for (const rule of alerts.rules) this.byId.set(rule.id, rule);
    this.lateRules = alerts.rules.filter((r) => r.on === "run.late");
    const minLateBy = Math.min(...this.lateRules.map((r) => r.lateByMs!));
    this.lateCheckMs = Math.max(alerts.intervalMs, Math.min(minLateBy / 4, MAX_LATE_CHECK_MS));
  }

  async evaluate(tx: AlertTransaction, locks: EvaluationLocks): Promise<EvaluationReport> {
    const report: EvaluationReport = { facts: 0, opened: 0, repeated: 0, escalated: 0, resolved: 0, full: false };
    const captured = [...locks.rules].filter((id) => {
      const rule = this.byId.get(id);
      return rule !== undefined && FACT_KIND[rule.on] !== undefined;
    });
    if (captured.length > 0) {
      const facts = await tx.takeInbox(captured, this.batchSize);
      report.facts = facts.length;
      report.full = facts.length >= this.batchSize;
      for (const fact of facts) {
        const rule = this.byId.get(fact.rule);
        const occurrence = occurrenceOf(fact);
        // Captured for another worker's rule of this id that listens to another kind (ids
        // should mean one rule everywhere): not ours to read as something else.
        if (!rule || !occurrence || occurrence.event !== rule.on) continue;
        await this.apply(tx, rule, occurrence, report);
      }
    }
    const late = this.lateRules.filter((r) => locks.rules.has(r.id));
    if (late.length > 0 && performance.now() - this.lastLateCheck >= this.lateCheckMs) {
      this.lastLateCheck = performance.now();
      await this.checkLate(tx, late, report);
    }
    if (locks.upkeep) {
      report.escalated = (await tx.escalate()).length;
      report.resolved = (await tx.autoResolve()).length;
    }
    return report;
  }

  /**
   * One rule on one occurrence, in a savepoint: a rule that cannot be applied (a runbook
   * function that throws is not that; a value Postgres refuses is) is reported and skipped
   * without undoing the others, and the fact is not retried forever.
   */
  private async apply(tx: AlertTransaction, rule: ResolvedAlertRule, o: Occurrence, report: EvaluationReport): Promise<void> {
    if (rule.workflows && !rule.workflows.has(o.workflow)) return;
    if (rule.on === "step.retrying" && o.attempt < rule.minAttempt) return;
    try {
      await tx.isolated(async () => {
        if (rule.consecutiveFailures !== undefined) {
          if (o.seq === undefined) return;
          const outcomes = await tx.recentOutcomes({ workflow: o.workflow, runId: o.runId, seq: o.seq, limit: rule.consecutiveFailures });
          if (outcomes.length < rule.consecutiveFailures || outcomes.some((status) => status !== "failed")) return;
        }
        const key = alertKey(rule, o);
        const open = await tx.findOpen(rule.id, key, new Date(o.at.getTime() - rule.dedupWindowMs));
        if (open) {
          await tx.repeat({ id: open.id, seenAt: o.at, runId: o.runId });
          report.repeated++;
          return;
        }
        const lastLogLines = this.alerts.logLines > 0 ? (await tx.lastLogs(o.runId, this.alerts.logLines)).map(formatLogLine) : [];
        const runUrl = this.alerts.dashboardUrl === undefined ? undefined : `${this.alerts.dashboardUrl}/runs/${encodeURIComponent(o.runId)}`;
        const draft: AlertDraft = {
          rule: rule.id,
          severity: rule.severity,
          status: "open",
          key,
          workflowName: o.workflow,
          ...(o.step === undefined ? {} : { stepName: o.step }),
          runId: o.runId,
          errorName: o.errorName,
          message: o.message,
          attempt: o.attempt,
          lastLogLines,
          ...(runUrl === undefined ? {} : { runUrl }),
          firstSeenAt: o.at,
          lastSeenAt: o.at,
          count: 1,
        };
        await tx.open({
          rule: rule.id,
          key,
          severity: rule.severity,
          workflow: o.workflow,
          step: o.step,
          runId: o.runId,
          errorName: o.errorName,
          message: o.message,
          attempt: o.attempt,
          lastLogLines,
          runbookUrl: this.runbook(draft),
          runUrl,
          seenAt: o.at,
          notify: rule.notify,
          escalateAfterMs: rule.escalateAfterMs,
          escalateTo: rule.escalateTo,
          autoResolve: rule.autoResolve,
          resolveNotify: rule.notifyOnResolve ? rule.notify : [],
          resolveAfter: o.at,
        });
        report.opened++;
      });
    } catch (error) {
      this.logger.error(`alert rule "${rule.id}" could not be applied to run ${o.runId}: ${(error as Error).message}`, { rule: rule.id, runId: o.runId });
    }
  }

  /** The runbook of a new alert; a runbook function that throws costs the alert its link, not the alert. */
  private runbook(draft: AlertDraft): string | undefined {
    if (!this.alerts.runbookUrl) return undefined;
    try {
      const url = this.alerts.runbookUrl(draft);
      return typeof url === "string" && url.length > 0 ? url : undefined;
    } catch (error) {
      this.logger.warn(`alerts.runbookUrl threw for rule "${draft.rule}": ${(error as Error).message}`);
      return undefined;
    }
  }

  /**
   * Late slots, from the schedules' lateness data: not fired, not started, or started but
   * not finished `lateBy` after the slot. Each slot counts once per rule (the inbox of late
   * slots is `alert_late_slots`, written in this transaction), however many checks see it.
   */
  private async checkLate(tx: AlertTransaction, rules: readonly ResolvedAlertRule[], report: EvaluationReport): Promise<void> {
    const now = await tx.now();
    let oldest = now.getTime();
    for (const lateByMs of new Set(rules.map((r) => r.lateByMs!))) {
      const since = new Date(now.getTime() - Math.max(DAY_MS, 2 * lateByMs));
      oldest = Math.min(oldest, since.getTime());
      const [late, overrun] = await Promise.all([
        this.store.schedules.late({ lateByMs, since, now }),
        this.store.schedules.overrun({ lateByMs, since, now }),
      ]);
      const slots = [...late.map((s) => lateOccurrence(s, now)), ...overrun.map((s) => overrunOccurrence(s, now))];
      for (const rule of rules.filter((r) => r.lateByMs === lateByMs)) {
        const mine = slots.filter((s) => !rule.workflows || rule.workflows.has(s.occurrence.workflow));
        const counted = await tx.countLateSlots(rule.id, mine.map((s) => s.slot));
        const isNew = new Set(counted.map((c) => `${c.scheduleId}\u0000${c.slotAt.getTime()}`));
        for (const { slot, occurrence } of mine) {
          if (isNew.has(`${slot.scheduleId}\u0000${slot.slotAt.getTime()}`)) await this.apply(tx, rule, occurrence, report);
        }
      }
    }
    await tx.pruneLateSlots(rules.map((r) => r.id), new Date(oldest));
  }
}

type LateOccurrence = { slot: { scheduleId: string; slotAt: Date }; occurrence: Occurrence };

function lateOccurrence(s: LateSlot, now: Date): LateOccurrence {
  const late = formatMillis(s.lateMs);
  const slot = s.slotAt.toISOString();
  const message =
    s.reason === "not-fired"
      ? `schedule "${s.scheduleId}": the slot of ${slot} was not fired ${late} after it was due (is a worker with a scheduler running workflow "${s.workflow}"?)`
      : s.reason === "not-started"
        ? `schedule "${s.scheduleId}": the run of the slot of ${slot} has not started ${late} after it was due`
        : `schedule "${s.scheduleId}": the run of the slot of ${slot} started ${late} after it was due`;
  return {
    slot: { scheduleId: s.scheduleId, slotAt: s.slotAt },
    occurrence: {
      event: "run.late",
      workflow: s.workflow,
      step: undefined,
      runId: s.runId ?? slotRunId(s.scheduleId, s.slotAt),
      seq: undefined,
      errorName: "RunLate",
      message,
      attempt: s.reason === "started-late" ? 1 : 0,
      at: now,
      subject: { kind: "schedule", name: s.scheduleId },
    },
  };
}

function overrunOccurrence(s: OverrunSlot, now: Date): LateOccurrence {
  const late = formatMillis(s.lateMs);
  const message = s.endedAt
    ? `schedule "${s.scheduleId}": the run of the slot of ${s.slotAt.toISOString()} finished ${late} after it was due`
    : `schedule "${s.scheduleId}": the run of the slot of ${s.slotAt.toISOString()} has not finished ${late} after it was due`;
  return {
    slot: { scheduleId: s.scheduleId, slotAt: s.slotAt },
    occurrence: {
      event: "run.late",
      workflow: s.workflow,
      step: undefined,
      runId: s.runId,
      seq: undefined,
      errorName: "RunLate",
      message,
      attempt: 1,
      at: now,
      subject: { kind: "schedule", name: s.scheduleId },
    },
  };
}
