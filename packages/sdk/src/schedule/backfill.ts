import { ValidationError } from "../errors.js";
import { findWorkflow } from "../workflow.js";
import type { BackfillOptions, BackfillProgress, BackfillResult } from "./schedule-info.js";
import type { StoredSchedule } from "@reprise/store";
import type { ScheduleClientHost } from "./schedule-host.js";
import { scheduledInput, slotRun } from "./slot-run.js";
import { timetableOf } from "./timetable.js";
import { formatInZone, parseScheduleTime } from "./zoned-time.js";

/** A backfill enumerates its slots first (for the progress total); beyond this, split the range. */
export const MAX_BACKFILL_SLOTS = 100_000;

/**
 * Creates the runs of a schedule's slots in a range: one `startRuns` statement and one slot
 * record statement per batch, whatever the batch size. The run ids are the slots' own, so a
 * second backfill over the same range, or a scheduler firing the same slots, creates nothing.
 */
export async function backfill(host: ScheduleClientHost, row: StoredSchedule, options: BackfillOptions): Promise<BackfillResult> {
  const id = row.id;
  const from = parseScheduleTime(options?.from, row.timezone, "start", "backfill --from");
  const to = parseScheduleTime(options?.to, row.timezone, "end", "backfill --to");
  if (to < from) {
    // In the words the caller used: a date as typed, a time in the schedule's zone.
    const said = (given: unknown, at: Date) => (typeof given === "string" ? given : formatInZone(at, row.timezone));
    throw new ValidationError(`backfill of schedule "${id}": --to ${said(options.to, to)} is before --from ${said(options.from, from)}`);
  }
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new ValidationError(`backfill batchSize must be an integer from 1 to 10000, got ${String(options.batchSize)}`);
  }
  const table = timetableOf(row);
  const tooMany = () => new ValidationError(`backfill of schedule "${id}": the range has more than ${MAX_BACKFILL_SLOTS} slots; split it`);
  // Enumerating a cron timetable costs tens of microseconds a slot: a range far too large
  // (every minute for ten years) is refused from the spacing of its first slots.
  const probe = table.between(from, to, 101);
  if (probe.length > 100 && (to.getTime() - from.getTime()) / ((probe[100]!.getTime() - probe[0]!.getTime()) / 100) > 2 * MAX_BACKFILL_SLOTS) throw tooMany();
  const slots = probe.length > 100 ? table.between(from, to, MAX_BACKFILL_SLOTS + 1) : probe;
  if (slots.length > MAX_BACKFILL_SLOTS) throw tooMany();
  const now = await host.call((s) => s.now());
  const due = slots.filter((slot) => slot <= now);
  const wf = findWorkflow(row.workflow);
  // Every slot's input differs only in scheduledAt: if the workflow refuses one, it refuses all.
  const inputs = due.map((slot) => scheduledInput(row.input, slot, wf, `input of schedule "${id}"`));
  const progress: BackfillProgress = { total: slots.length, done: 0, created: 0, existed: 0, skipped: slots.length - due.length };
  for (let i = 0; i < due.length; i += batchSize) {
    const batch = due.slice(i, i + batchSize);
    const runs = batch.map((slot, j) => slotRun(row, slot, inputs[i + j], wf));
    const created = await host.call((s) => s.startRuns(runs));
    await host.call((s) =>
      s.schedules.recordSlots(runs.map((run, j) => ({ scheduleId: id, slotAt: batch[j]!, runId: run.id, outcome: "backfilled" as const }))),
    );
    progress.created += created.size;
    progress.existed += batch.length - created.size;
    progress.done += batch.length;
    options.onProgress?.({ ...progress });
  }
  progress.done = progress.total;
  if (due.length === 0 || progress.skipped > 0) options.onProgress?.({ ...progress });
  return { scheduleId: id, from, to, ...progress };
}
