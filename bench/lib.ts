import pg from "pg";

export const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** Median and spread of repeated measurements. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

// Every pg query call is one network round trip (node-postgres does not pipeline): count
// them to report round trips per step, as the peers' harness does.
let queryCount = 0;
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  queryCount++;
  return (original as (...a: unknown[]) => unknown).apply(this, args);
} as typeof original;
export const queries = () => queryCount;

/** Transaction ids consumed (each is a commit that waits for a WAL flush) and WAL bytes, read on a private connection. */
export class ServerCounters {
  private readonly client: pg.Client;
  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url });
  }
  async open(): Promise<void> {
    await this.client.connect();
  }
  async read(): Promise<{ xid: number; wal: number }> {
    const before = queryCount;
    const { rows } = await this.client.query<{ xid: string; wal: string }>(
      "SELECT txid_snapshot_xmax(txid_current_snapshot())::text AS xid, (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS wal",
    );
    queryCount = before; // the probe is not one of the measured round trips
    return { xid: Number(rows[0]!.xid), wal: Number(rows[0]!.wal) };
  }
  async close(): Promise<void> {
    await this.client.end();
  }
}
