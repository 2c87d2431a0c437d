import type { ClaimedDelivery } from "../alerts/alert-records.js";
import { alertColumns, deliveryColumns, toAlertRecord, toDeliveryRecord, type AlertRow, type DeliveryRow } from "../alerts/alert-row.js";
import { statement, type Queryable } from "../queryable.js";

/**
 * Claims due deliveries for a worker's channels: up to $2 per channel, so that a channel
 * with a backlog (or one that keeps failing) takes no turn from the others. FOR UPDATE
 * SKIP LOCKED lets workers claim side by side without waiting on each other.
 *
 * The claim is a lease: next_attempt_at moves to the lease's end, so the row leaves the
 * due index while it is in flight and becomes due again by itself if the worker dies
 * mid-delivery — another worker then sends it again, with the same idempotency key.
 * `attempts` counts claims, so a delivery that kills its workers still gives up in the end.
 */
const SQL = `
WITH due AS (
  SELECT d.id FROM unnest($1::text[]) AS c(name)
  CROSS JOIN LATERAL (
    SELECT id FROM :schema.alert_deliveries
    WHERE status = 'pending' AND channel = c.name AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ) d
), claimed AS (
  UPDATE :schema.alert_deliveries d
  SET locked_by = $3, next_attempt_at = now() + $4 * interval '1 millisecond', attempts = d.attempts + 1
  FROM due WHERE d.id = due.id
  RETURNING ${deliveryColumns("d")}
)
SELECT ${deliveryColumns("c")}, row_to_json(a) AS alert
FROM claimed c
JOIN LATERAL (SELECT ${alertColumns()} FROM :schema.alerts WHERE id = c.alert_id) a ON true
ORDER BY c.id`;

type Row = DeliveryRow & { alert: Omit<AlertRow, "first_seen_at" | "last_seen_at"> & Record<string, unknown> };

const DATES = ["first_seen_at", "last_seen_at", "escalate_at", "escalated_at", "acknowledged_at", "resolved_at"] as const;

export async function claimAlertDeliveries(
  db: Queryable,
  schema: string,
  args: { owner: string; channels: readonly string[]; perChannel: number; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  if (args.channels.length === 0) return [];
  const { rows } = await db.query<Row>({
    ...statement("claim_alert_deliveries", schema, SQL),
    values: [args.channels, args.perChannel, args.owner, args.leaseMs],
  });
  return rows.map((r) => {
    // row_to_json gives timestamps as text.
    const alert = { ...r.alert } as Record<string, unknown>;
    for (const column of DATES) alert[column] = alert[column] === null ? null : new Date(alert[column] as string);
    return { ...toDeliveryRecord(r), alert: toAlertRecord(alert as unknown as AlertRow) };
  });
}
