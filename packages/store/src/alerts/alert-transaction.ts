import type { PoolClient } from "pg";
import { takeAlertInbox } from "../queries/take-alert-inbox.js";
import type { AlertLogLine, AlertRecord, InboxFact, LateSlotRef, NewAlert } from "./alert-records.js";
import { alertColumns, toAlertRecord, type AlertRow } from "./alert-row.js";
import type { AlertTransaction } from "./alert-store.js";

/** The {@link AlertTransaction} on the connection that holds the evaluation lock. */
export class PgAlertTransaction implements AlertTransaction {
  private savepoints = 0;

  constructor(
    private readonly client: PoolClient,
    /** The quoted schema. */
    private readonly s: string,
  ) {}

  takeInbox(rules: readonly string[], limit: number): Promise<InboxFact[]> {
    return takeAlertInbox(this.client, this.s, rules, limit);
  }

  async isolated<T>(fn: () => Promise<T>): Promise<T> {
    const name = `alert_fact_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const value = await fn();
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return value;
    } catch (error) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }

  /**
   * How each run had ended as of the event `(runId, seq)` is read from its own log — its
   * last RunCompleted, RunFailed, RunCancelled or RunRetried written by then — not from its
   * status now: a run's RunFailed is written before its failure hook runs and its status
   * moves only after, and a run may have been retried since. The runs are read newest
   * created first from (workflow, created_at), and each one's ending by a backward scan of
   * its events from the end, so the cost is about `limit` runs' last events.
   *
   * Times are compared in SQL against the rows themselves, never passed through JavaScript:
   * a Date keeps milliseconds, Postgres microseconds, and a truncated bound would leave out
   * the very run that failed.
   */
  async recentOutcomes(args: { workflow: string; runId: string; seq: number; limit: number }): Promise<string[]> {
    const { rows } = await this.client.query<{ kind: string }>(
      `WITH fact AS (
         SELECT r.created_at AS run_created_at, e.created_at AS at
         FROM ${this.s}.runs r JOIN ${this.s}.events e ON e.run_id = r.id AND e.seq = $3
         WHERE r.id = $2
       )
       SELECT o.kind FROM fact, ${this.s}.runs r
       CROSS JOIN LATERAL (
         SELECT e.kind FROM ${this.s}.events e
         WHERE e.run_id = r.id AND e.kind IN ('RunCompleted', 'RunFailed', 'RunCancelled', 'RunRetried') AND e.created_at <= fact.at
         ORDER BY e.seq DESC LIMIT 1
       ) o
       WHERE r.workflow = $1 AND r.created_at <= fact.run_created_at AND o.kind IN ('RunCompleted', 'RunFailed')
       ORDER BY r.created_at DESC, r.id DESC
       LIMIT $4`,
      [args.workflow, args.runId, args.seq, args.limit],
    );
    return rows.map((r) => (r.kind === "RunFailed" ? "failed" : "completed"));
  }

  async lastLogs(runId: string, limit: number): Promise<AlertLogLine[]> {
    const { rows } = await this.client.query<AlertLogLine>(
      `SELECT at, level, message, fields, step, attempt FROM (
         SELECT id, at, level, message, fields, step, attempt FROM ${this.s}.logs
         WHERE run_id = $1 ORDER BY id DESC LIMIT $2
       ) last ORDER BY id`,
      [runId, limit],
    );
    return rows;
  }

  async findOpen(rule: string, key: string, since: Date): Promise<{ id: string; count: number } | undefined> {
    const { rows } = await this.client.query<{ id: string; count: number }>(
      `SELECT id, count FROM ${this.s}.alerts
       WHERE rule = $1 AND key = $2 AND status <> 'resolved' AND first_seen_at >= $3
       ORDER BY first_seen_at DESC LIMIT 1`,
      [rule, key, since],
    );
    return rows[0] ? { id: String(rows[0].id), count: rows[0].count } : undefined;
  }

  async repeat(args: { id: string; seenAt: Date; runId: string }): Promise<void> {
    await this.client.query(
      `UPDATE ${this.s}.alerts SET count = count + 1, last_seen_at = greatest(last_seen_at, $2),
         resolve_after = greatest(resolve_after, (SELECT created_at FROM ${this.s}.runs WHERE id = $3))
       WHERE id = $1`,
      [args.id, args.seenAt, args.runId],
    );
  }

  async open(alert: NewAlert): Promise<AlertRecord> {
    const { rows } = await this.client.query<AlertRow>(
      `WITH a AS (
         INSERT INTO ${this.s}.alerts (rule, key, severity, workflow, step, run_id, error_name, message, attempt,
           last_log_lines, runbook_url, run_url, first_seen_at, last_seen_at, escalate_at, escalate_to,
           auto_resolve, resolve_after, resolve_notify)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $13,
           $13::timestamptz + $14 * interval '1 millisecond', $15, $16,
           coalesce((SELECT created_at FROM ${this.s}.runs WHERE id = $6), $17), $18)
         RETURNING ${alertColumns()}
       ), d AS (
         INSERT INTO ${this.s}.alert_deliveries (alert_id, channel, notification)
         SELECT a.id, c.name, 'opened' FROM a CROSS JOIN unnest($19::text[]) AS c(name)
       )
       SELECT * FROM a`,
      [
        alert.rule,
        alert.key,
        alert.severity,
        alert.workflow,
        alert.step ?? null,
        alert.runId,
        alert.errorName,
        alert.message,
        alert.attempt,
        JSON.stringify(alert.lastLogLines),
        alert.runbookUrl ?? null,
        alert.runUrl ?? null,
        alert.seenAt,
        alert.escalateAfterMs ?? null,
        alert.escalateTo,
        alert.autoResolve,
        alert.resolveAfter,
        alert.resolveNotify,
        alert.notify,
      ],
    );
    return toAlertRecord(rows[0]!);
  }

  async countLateSlots(rule: string, slots: readonly LateSlotRef[]): Promise<LateSlotRef[]> {
    if (slots.length === 0) return [];
    const { rows } = await this.client.query<{ schedule_id: string; slot_at: Date }>(
      `INSERT INTO ${this.s}.alert_late_slots (rule, schedule_id, slot_at)
       SELECT $1, s.schedule_id, s.slot_at FROM json_to_recordset($2::json) AS s(schedule_id text, slot_at timestamptz)
       ON CONFLICT DO NOTHING
       RETURNING schedule_id, slot_at`,
      [rule, JSON.stringify(slots.map((s) => ({ schedule_id: s.scheduleId, slot_at: s.slotAt.toISOString() })))],
    );
    return rows.map((r) => ({ scheduleId: r.schedule_id, slotAt: r.slot_at }));
  }

  async pruneLateSlots(rules: readonly string[], before: Date): Promise<void> {
    await this.client.query(`DELETE FROM ${this.s}.alert_late_slots WHERE rule = ANY($1::text[]) AND slot_at < $2`, [rules, before]);
  }

  async escalate(): Promise<AlertRecord[]> {
    const { rows } = await this.client.query<AlertRow>(
      `WITH e AS (
         UPDATE ${this.s}.alerts SET escalated_at = now()
         WHERE status = 'open' AND escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= now()
         RETURNING ${alertColumns()}
       ), d AS (
         INSERT INTO ${this.s}.alert_deliveries (alert_id, channel, notification)
         SELECT e.id, c.name, 'escalated' FROM e CROSS JOIN unnest(e.escalate_to) AS c(name)
       )
       SELECT * FROM e ORDER BY id`,
    );
    return rows.map(toAlertRecord);
  }

  /**
   * The runs an alert waits for are found through (workflow, created_at): only the
   * workflow's runs created since the alert's run are read, however long its history.
   */
  async autoResolve(): Promise<AlertRecord[]> {
    const { rows } = await this.client.query<AlertRow>(
      `WITH r AS (
         UPDATE ${this.s}.alerts a SET status = 'resolved', resolved_at = now()
         WHERE a.auto_resolve AND a.status <> 'resolved' AND EXISTS (
           SELECT 1 FROM ${this.s}.runs x
           WHERE x.workflow = a.workflow AND x.created_at >= coalesce(a.resolve_after, a.first_seen_at)
             AND x.status = 'completed' AND x.updated_at > a.last_seen_at)
         RETURNING ${alertColumns("a")}
       ), d AS (
         INSERT INTO ${this.s}.alert_deliveries (alert_id, channel, notification)
         SELECT r.id, c.name, 'resolved' FROM r CROSS JOIN unnest(r.resolve_notify) AS c(name)
       )
       SELECT * FROM r ORDER BY id`,
    );
    return rows.map(toAlertRecord);
  }

  async now(): Promise<Date> {
    const { rows } = await this.client.query<{ now: Date }>("SELECT now() AS now");
    return rows[0]!.now;
  }
}
