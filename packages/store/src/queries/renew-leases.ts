import { statement, type Queryable } from "../queryable.js";

/**
 * Extends every lease a worker holds in one statement per heartbeat, however many runs it
 * has in flight. Returns the leases it still holds, with any cancellation requested
 * meanwhile: a run missing from the answer was taken over and must stop.
 */
const SQL = `
UPDATE :schema.runs SET available_at = now() + $3 * interval '1 millisecond'
WHERE lease_owner = $1 AND id = ANY($2::text[])
RETURNING id, lease_epoch AS epoch, cancel_requested, now() AS db_now`;

/** A lease a heartbeat renewed, with the run's pending cancellation request, if any. */
export interface RenewedLease {
  id: string;
  epoch: number;
  cancelRequested: { reason?: string } | null;
}

export async function renewLeases(
  db: Queryable,
  schema: string,
  args: { owner: string; ids: readonly string[]; leaseMs: number },
): Promise<{ leases: RenewedLease[]; dbNow: Date | undefined }> {
  if (args.ids.length === 0) return { leases: [], dbNow: undefined };
  const { rows } = await db.query<{ id: string; epoch: number; cancel_requested: { reason?: string } | null; db_now: Date }>({
    ...statement("renew_leases", schema, SQL),
    values: [args.owner, args.ids, args.leaseMs],
  });
  return {
    leases: rows.map((r) => ({ id: r.id, epoch: r.epoch, cancelRequested: r.cancel_requested })),
    dbNow: rows[0]?.db_now,
  };
}
