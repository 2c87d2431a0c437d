import { statement, type Queryable } from "../queryable.js";
import type { NewPayload } from "./save-payloads.js";

/**
 * Writes the large values of runs being created or signalled from outside a worker (a
 * start's input, a signal's payload, an emitted event's), in the transaction that creates
 * what refers to them: nobody sees the run or the signal before its value is there. Only
 * values of runs that exist are written (the foreign key would refuse the others).
 */
const SQL = `
INSERT INTO :schema.payloads (run_id, id, bytes, data)
SELECT p.run_id, p.id, octet_length(p.data), p.data
FROM unnest($1::text[], $2::text[], $3::text[]) AS p(run_id, id, data)`;

/** A value of a run, stored out of line. */
export interface RunPayload extends NewPayload {
  runId: string;
}

export async function insertPayloads(db: Queryable, schema: string, payloads: readonly RunPayload[]): Promise<void> {
  if (payloads.length === 0) return;
  await db.query({
    ...statement("insert_payloads", schema, SQL),
    values: [payloads.map((p) => p.runId), payloads.map((p) => p.id), payloads.map((p) => p.text)],
  });
}
