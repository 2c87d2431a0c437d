import { sql, type Kysely } from "kysely";
import type { Pool } from "pg";
import type { Database } from "../schema.js";
import { claimAlertDeliveries } from "../queries/claim-alert-deliveries.js";
import type { AlertRecord, ClaimedDelivery, DeliveryOutcome, DeliveryRecord, EvaluationLocks, RuleRegistration } from "./alert-records.js";
import { ALERT_COLUMNS, alertColumns, DELIVERY_COLUMNS, toAlertRecord, toDeliveryRecord, type AlertRow } from "./alert-row.js";
import type { AlertFilter, AlertStore, AlertTransaction } from "./alert-store.js";
import { PgAlertTransaction } from "./alert-transaction.js";

/** How long a rule stays registered without a worker saying it has it (as in migration 0005), and facts are kept. */
const RULE_TTL = "interval '1 day'";

const ID = /^\d{1,18}$/;

/** The {@link AlertStore} on node-postgres (private: reached as `store.alerts`). */
export class PgAlerts implements AlertStore {
  constructor(
    private readonly pool: Pool,
    private readonly db: Kysely<Database>,
    /** The quoted schema. */
    private readonly s: string,
    /** The schema's name, for its locks. */
    private readonly schema: string,
  ) {}

  /**
   * Facts left unevaluated for a day are dropped: the inbox of a rule that no worker has any
   * more holds at most one day of its facts, and then capture for it stops.
   */
  async register(rules: readonly RuleRegistration[]): Promise<void> {
    await this.pool.query(
      `WITH seen AS (
         INSERT INTO ${this.s}.alert_rules (id, kind, seen_at)
         SELECT r.id, r.kind, now() FROM json_to_recordset($1::json) AS r(id text, kind text)
         ON CONFLICT (id, kind) DO UPDATE SET seen_at = now()
       ), gone AS (
         DELETE FROM ${this.s}.alert_rules WHERE seen_at < now() - ${RULE_TTL}
       )
       DELETE FROM ${this.s}.alert_inbox WHERE created_at < now() - ${RULE_TTL}`,
      [JSON.stringify(rules)],
    );
  }

  /**
   * One evaluator at a time per rule, by transaction-level advisory locks taken without
   * waiting: it decides dedup, counts and streaks of its rules in the order facts became
   * visible, with no race between workers (alerts, and the late slots counted, belong to one
   * rule), and a crashed evaluator's locks go with its connection. Workers that find a rule
   * held skip it until their next tick.
   */
  async evaluate<T>(
    rules: readonly string[],
    fn: (tx: AlertTransaction, locks: EvaluationLocks) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = await this.pool.connect();
    let broken = false;
    const onError = () => (broken = true);
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      try {
        // One lock per rule, and one for the upkeep any evaluator does for everyone
        // (escalations, automatic resolutions): two of those at once would only wait on
        // each other's rows.
        const { rows } = await client.query<{ name: string | null; held: boolean }>(
          `SELECT name, pg_try_advisory_xact_lock(hashtextextended($2 || name, 0)) AS held FROM unnest($1::text[]) AS l(name)
           UNION ALL
           SELECT NULL, pg_try_advisory_xact_lock(hashtextextended($3, 0))`,
          [rules, `reprise-alerts-rule:${this.schema}:`, `reprise-alerts-upkeep:${this.schema}`],
        );
        const held = new Set(rows.filter((r) => r.held && r.name !== null).map((r) => r.name!));
        const upkeep = rows.some((r) => r.held && r.name === null);
        if (held.size === 0 && !upkeep) {
          await client.query("ROLLBACK");
          return { ran: false };
        }
        const value = await fn(new PgAlertTransaction(client, this.s), { rules: held, upkeep });
        await client.query("COMMIT");
        return { ran: true, value };
      } catch (error) {
        await client.query("ROLLBACK").catch(() => (broken = true));
        throw error;
      }
    } finally {
      client.off("error", onError);
      client.release(broken ? true : undefined);
    }
  }

  claimDeliveries(args: { owner: string; channels: readonly string[]; perChannel: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
    return claimAlertDeliveries(this.pool, this.s, args);
  }

  /** Fenced by the claim: a worker whose lease lapsed and was taken over writes nothing. */
  async finishDelivery(args: { id: string; owner: string } & DeliveryOutcome): Promise<boolean> {
    const fence = `WHERE id = $1 AND locked_by = $2 AND status = 'pending'`;
    let result;
    if (args.outcome === "delivered") {
      result = await this.pool.query(
        `UPDATE ${this.s}.alert_deliveries SET status = 'delivered', delivered_at = now(), locked_by = NULL ${fence}`,
        [args.id, args.owner],
      );
    } else if (args.outcome === "retry") {
      result = await this.pool.query(
        `UPDATE ${this.s}.alert_deliveries SET next_attempt_at = now() + $3 * interval '1 millisecond', last_error = $4, locked_by = NULL ${fence}`,
        [args.id, args.owner, args.retryInMs, args.error],
      );
    } else {
      result = await this.pool.query(
        `UPDATE ${this.s}.alert_deliveries SET status = 'failed', last_error = $3, locked_by = NULL ${fence}`,
        [args.id, args.owner, args.error],
      );
    }
    return (result.rowCount ?? 0) > 0;
  }

  async list(filter: AlertFilter = {}): Promise<AlertRecord[]> {
    let query = this.db.selectFrom("alerts").select(ALERT_COLUMNS);
    if (filter.status) query = query.where("status", "=", filter.status);
    const rows = await query
      .orderBy("id", "desc")
      .limit(Math.min(Math.max(filter.limit ?? 100, 1), 10_000))
      .execute();
    return rows.map(toAlertRecord);
  }

  async get(id: string): Promise<AlertRecord | undefined> {
    if (!ID.test(id)) return undefined;
    const row = await this.db.selectFrom("alerts").select(ALERT_COLUMNS).where("id", "=", id).executeTakeFirst();
    return row ? toAlertRecord(row) : undefined;
  }

  async deliveries(alertIds: readonly string[]): Promise<DeliveryRecord[]> {
    const ids = alertIds.filter((id) => ID.test(id));
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom("alert_deliveries").select(DELIVERY_COLUMNS).where("alert_id", "in", ids).orderBy("id").execute();
    return rows.map(toDeliveryRecord);
  }

  async acknowledge(id: string, by: string | undefined): Promise<AlertRecord | undefined> {
    if (!ID.test(id)) return undefined;
    const row = await this.db
      .updateTable("alerts")
      .set({ status: "acknowledged", acknowledged_by: by ?? null, acknowledged_at: sql<Date>`now()` })
      .where("id", "=", id)
      .where("status", "=", "open")
      .returning(ALERT_COLUMNS)
      .executeTakeFirst();
    return row ? toAlertRecord(row) : this.get(id);
  }

  async resolve(id: string): Promise<AlertRecord | undefined> {
    if (!ID.test(id)) return undefined;
    const { rows } = await this.pool.query<AlertRow>(
      `WITH r AS (
         UPDATE ${this.s}.alerts SET status = 'resolved', resolved_at = now()
         WHERE id = $1 AND status <> 'resolved'
         RETURNING ${alertColumns()}
       ), d AS (
         INSERT INTO ${this.s}.alert_deliveries (alert_id, channel, notification)
         SELECT r.id, c.name, 'resolved' FROM r CROSS JOIN unnest(r.resolve_notify) AS c(name)
       )
       SELECT * FROM r`,
      [id],
    );
    return rows[0] ? toAlertRecord(rows[0]) : this.get(id);
  }
}
