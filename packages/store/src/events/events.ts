import { sql, type Kysely } from "kysely";
import type { Pool } from "pg";
import { emitEvent, type EmitArgs } from "../queries/emit-event.js";
import { insertPayloads, type RunPayload } from "../queries/insert-payloads.js";
import type { Queryable } from "../queryable.js";
import type { Database } from "../schema.js";
import { withTransaction } from "../transaction.js";
import type { EventFilter, EventStore, EventTarget, StoredEvent, StoredEventRun } from "./event-store.js";

const LIST_PAYLOAD_LIMIT = 256 * 1024;

/** The {@link EventStore} on node-postgres and kysely (private: reached as `store.events`). */
export class PgEvents implements EventStore {
  constructor(
    private readonly pool: Pool,
    private readonly db: Kysely<Database>,
    /** The quoted schema. */
    private readonly s: string,
    private readonly channel: string,
  ) {}

  async prepare(name: string, id: string): Promise<{ targets: EventTarget[]; existing: { name: string; payload: unknown } | undefined }> {
    const [targets, existing] = await Promise.all([
      this.db
        .selectFrom("triggers as t")
        .innerJoin("workflows as w", "w.name", "t.workflow")
        .select(["w.name", "w.queue", "w.priority", "w.timeout_ms", "w.fingerprint", "w.has_input_schema"])
        .where("t.event", "=", name)
        .orderBy("w.name")
        .execute(),
      this.db.selectFrom("emitted_events").select(["name", "payload"]).where("id", "=", id).executeTakeFirst(),
    ]);
    return {
      targets: targets.map((t) => ({
        workflow: t.name,
        queue: t.queue,
        priority: t.priority,
        timeoutMs: t.timeout_ms,
        fingerprint: t.fingerprint,
        hasInputSchema: t.has_input_schema,
      })),
      existing: existing ? { name: existing.name, payload: existing.payload } : undefined,
    };
  }

  async emit(args: EmitArgs, payloads: readonly RunPayload[] = []): Promise<{ newEvent: boolean; created: Set<string>; runs: StoredEventRun[] }> {
    const run = async (db: Queryable) => {
      const outcome = await emitEvent(db, this.s, this.channel, args);
      // Only values of runs this emission created: the others exist with their own input.
      await insertPayloads(db, this.s, payloads.filter((p) => outcome.created.has(p.runId)));
      return outcome;
    };
    const outcome = payloads.length > 0 ? await withTransaction(this.pool, run) : await run(this.pool);
    return { ...outcome, runs: (await this.runsOf([args.id])).get(args.id) ?? [] };
  }

  async list(filter: EventFilter = {}): Promise<StoredEvent[]> {
    const maxBytes = filter.maxPayloadBytes ?? LIST_PAYLOAD_LIMIT;
    let query = this.db
      .selectFrom("emitted_events")
      .select(["id", "name", "payload_bytes", "source", "emitted_at"])
      .select(sql<unknown>`CASE WHEN payload_bytes <= ${maxBytes} THEN payload END`.as("payload"));
    if (filter.name) query = query.where("name", "=", filter.name);
    if (filter.after) {
      const after = filter.after;
      query = query.where(({ eb, refTuple, selectFrom }) =>
        eb(refTuple("emitted_at", "id"), "<", selectFrom("emitted_events as a").select(["a.emitted_at", "a.id"]).where("a.id", "=", after) as never),
      );
    }
    const rows = await query
      .orderBy("emitted_at", "desc")
      .orderBy("id", "desc")
      .limit(Math.min(Math.max(filter.limit ?? 50, 1), 1000))
      .execute();
    const runs = await this.runsOf(rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      ...(r.payload_bytes <= maxBytes ? { payload: r.payload } : {}),
      payloadBytes: Number(r.payload_bytes),
      source: r.source as "client" | "sql",
      emittedAt: r.emitted_at,
      runs: runs.get(r.id) ?? [],
    }));
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const row = await this.db.selectFrom("emitted_events").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      name: row.name,
      payload: row.payload,
      payloadBytes: Number(row.payload_bytes),
      source: row.source as "client" | "sql",
      emittedAt: row.emitted_at,
      runs: (await this.runsOf([id])).get(id) ?? [],
    };
  }

  /** What each event started, with each run's status now. */
  private async runsOf(ids: readonly string[]): Promise<Map<string, StoredEventRun[]>> {
    const out = new Map<string, StoredEventRun[]>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .selectFrom("event_runs as l")
      .leftJoin("runs as r", "r.id", "l.run_id")
      .select(["l.event_id", "l.workflow", "l.run_id", "l.error", "r.status"])
      .where("l.event_id", "in", ids)
      .orderBy("l.event_id")
      .orderBy("l.workflow")
      .execute();
    for (const r of rows) {
      const list = out.get(r.event_id) ?? [];
      list.push({ workflow: r.workflow, runId: r.run_id, error: r.error, status: r.status });
      out.set(r.event_id, list);
    }
    return out;
  }
}
