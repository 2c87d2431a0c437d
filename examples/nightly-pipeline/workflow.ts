import { formatInZone, workflow } from "@reprise/sdk";
import { z } from "zod";

const ZONE = "America/New_York";

/**
 * A nightly ETL job, Airflow-style: the run scheduled at 02:00 New York time processes the
 * day before (its "data interval"). `scheduledAt` is the slot's time, so a backfilled or
 * late run processes the day it was scheduled for, not the day it happens to run.
 *
 * Each stage is a durable step: if `load` fails, a retry (or `reprise runs retry <id>`)
 * runs only `load` again, with the rows `extract` and `transform` recorded.
 */
export const nightlyPipeline = workflow(
  {
    name: "nightly-pipeline",
    // Scheduled runs receive { scheduledAt, ...schedule.input }; the schema makes it a Date
    // (the stored input is JSON, and is parsed by this schema on every execution).
    input: z.object({ scheduledAt: z.coerce.date(), source: z.string() }),
    schedule: {
      cron: "0 2 * * *",
      timezone: ZONE,
      catchup: "latest", // after downtime, run the most recent missed night only
      overlap: "skip", // a night still running when the next one comes: skip the next
      input: { source: "orders" },
    },
    retry: { maxAttempts: 5, initialDelay: "2s" },
  },
  async (ctx, { scheduledAt, source }) => {
    const day = dayBefore(scheduledAt);
    ctx.log.info(`processing ${source} for ${day}`, { scheduledAt: scheduledAt.toISOString() });
    const rows = await ctx.step("extract", () => extract(source, day));
    const clean = await ctx.step("transform", () => transform(rows));
    const loaded = await ctx.step("load", () => load(day, clean));
    return { day, extracted: rows.length, loaded: loaded.rows, revenue: loaded.revenue };
  },
);

/** The calendar day before the slot, in the schedule's zone: `2026-01-06` for the 2026-01-07 02:00 run. */
export function dayBefore(scheduledAt: Date): string {
  const local = formatInZone(scheduledAt, ZONE).slice(0, 10);
  const [y, m, d] = local.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

interface Order {
  id: string;
  amountCents: number;
  status: "paid" | "refunded" | "test";
}

/** Stands in for a query against the source system: the same day always yields the same rows. */
async function extract(source: string, day: string): Promise<Order[]> {
  let seed = [...`${source}:${day}`].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32;
  await new Promise((r) => setTimeout(r, 200));
  return Array.from({ length: 20 + Math.floor(next() * 20) }, (_, i) => ({
    id: `${day}-${i}`,
    amountCents: Math.round(500 + next() * 20_000),
    status: next() < 0.1 ? "refunded" : next() < 0.05 ? "test" : "paid",
  }));
}

function transform(rows: Order[]): Order[] {
  return rows.filter((r) => r.status !== "test");
}

/** Stands in for a warehouse write keyed by day, so loading a day twice overwrites it. */
async function load(day: string, rows: Order[]): Promise<{ rows: number; revenue: number }> {
  await new Promise((r) => setTimeout(r, 200));
  const revenue = rows.reduce((sum, r) => sum + (r.status === "paid" ? r.amountCents : -r.amountCents), 0) / 100;
  warehouse.set(day, { rows: rows.length, revenue });
  return warehouse.get(day)!;
}

const warehouse = new Map<string, { rows: number; revenue: number }>();
