import { statement, type Queryable } from "../queryable.js";

/**
 * Writes a running run's values that are too large to sit in its events (see migration
 * 0010), before the events that refer to them, fenced by the run's lease like every append.
 * A value is sent as a text parameter exactly as the sdk serialised it: no JSON or array
 * escaping, no parse on the server. Several values of one flush go in one statement as
 * text arrays. An orphan (the worker died before its event was appended) is never read and
 * goes with its run; ids are unique per value, so a worker that lost its lease and a new
 * owner never write the same row.
 */
const ONE = `
INSERT INTO :schema.payloads (run_id, id, bytes, data)
SELECT r.id, $4, octet_length($5::text), $5::text FROM :schema.runs r
WHERE r.id = $1 AND r.lease_epoch = $2 AND r.lease_owner = $3`;

const MANY = `
INSERT INTO :schema.payloads (run_id, id, bytes, data)
SELECT r.id, p.id, octet_length(p.data), p.data
FROM :schema.runs r, unnest($4::text[], $5::text[]) AS p(id, data)
WHERE r.id = $1 AND r.lease_epoch = $2 AND r.lease_owner = $3`;

/** A value stored out of line: its id (unique within the run) and its JSON text. */
export interface NewPayload {
  id: string;
  text: string;
}

/** @returns false when the lease no longer holds (nothing was written). */
export async function savePayloads(
  db: Queryable,
  schema: string,
  args: { runId: string; owner: string; epoch: number; payloads: readonly NewPayload[] },
): Promise<boolean> {
  if (args.payloads.length === 0) return true;
  const one = args.payloads.length === 1 ? args.payloads[0]! : undefined;
  const { rowCount } = await db.query(
    one
      ? { ...statement("save_payload", schema, ONE), values: [args.runId, args.epoch, args.owner, one.id, one.text] }
      : {
          ...statement("save_payloads", schema, MANY),
          values: [args.runId, args.epoch, args.owner, args.payloads.map((p) => p.id), args.payloads.map((p) => p.text)],
        },
  );
  return rowCount === args.payloads.length;
}
