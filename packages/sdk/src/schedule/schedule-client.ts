import type { ScheduleRow, StoredSchedule } from "@reprise/store";
import { toMillis, type Duration } from "../duration.js";
import { ScheduleExistsError, ScheduleNotFoundError, ValidationError } from "../errors.js";
import { toJsonText } from "../json.js";
import type { RunHandle } from "../run-handle.js";
import type { ScheduleSpec } from "../schedule-spec.js";
import { findWorkflow } from "../workflow.js";
import type { AnyWorkflow } from "../workflow-types.js";
import { backfill } from "./backfill.js";
import { checkScheduleId, resolveScheduleSpec, type ResolvedScheduleSpec } from "./resolve-spec.js";
import {
  toScheduleInfo,
  toScheduleSlot,
  type BackfillOptions,
  type BackfillResult,
  type CreateScheduleOptions,
  type LateSlot,
  type ScheduleInfo,
  type SchedulePatch,
  type ScheduleSlot,
} from "./schedule-info.js";
import type { ScheduleClientHost } from "./schedule-host.js";
import { scheduledInput, slotRun } from "./slot-run.js";

/**
 * `client.schedules`: creates and steers schedules stored in Postgres. The slots themselves
 * are fired by workers (every worker runs a scheduler for the workflows it has).
 *
 * ```ts
 * await client.schedules.create({ id: "hourly-sync", workflow: syncOrders, cron: "@hourly", timezone: "Europe/Berlin" });
 * await client.schedules.backfill("hourly-sync", { from: "2026-01-01", to: "2026-01-07" });
 * ```
 */
export class ScheduleClient {
  constructor(private readonly host: ScheduleClientHost) {}

  /**
   * Creates a schedule. Its first slot is the first one after the next scheduler tick.
   * @throws ValidationError (bad cron, unknown time zone, bad input); ScheduleExistsError
   */
  async create(options: CreateScheduleOptions): Promise<ScheduleInfo> {
    checkScheduleId(options?.id);
    const { workflow: wf, id, queue, paused, ...spec } = options;
    const row = toRow(id, wf, queue, resolveScheduleSpec(spec, `schedule "${id}"`));
    const created = await this.host.call((s) => s.schedules.create(row));
    if (!created) throw new ScheduleExistsError(id);
    if (paused) await this.host.call((s) => s.schedules.setPaused(id, true));
    return this.get(id);
  }

  /** @throws ScheduleNotFoundError */
  async get(id: string): Promise<ScheduleInfo> {
    const [row, now] = await this.host.call((s) => Promise.all([s.schedules.get(id), s.now()]));
    if (!row) throw new ScheduleNotFoundError(id);
    return toScheduleInfo(row, now);
  }

  /** Every schedule (of one workflow), by id. */
  async list(filter: { workflow?: string } = {}): Promise<ScheduleInfo[]> {
    const [rows, now] = await this.host.call((s) => Promise.all([s.schedules.list(filter), s.now()]));
    return rows.map((r) => toScheduleInfo(r, now));
  }

  /**
   * Changes a schedule. A new timetable (cron, interval or time zone) starts at the next tick.
   * A schedule declared in code is rewritten from the code at the next worker start.
   *
   * @throws ScheduleNotFoundError; ValidationError
   */
  async update(id: string, patch: SchedulePatch): Promise<ScheduleInfo> {
    const current = await this.stored(id);
    const spec: ScheduleSpec = {
      timezone: patch.timezone ?? current.timezone,
      catchup: patch.catchup ?? (current.catchup as ScheduleSpec["catchup"]),
      catchupWindow: patch.catchupWindow ?? current.catchupWindowMs,
      overlap: patch.overlap ?? (current.overlap as ScheduleSpec["overlap"]),
    };
    if (patch.cron !== undefined) spec.cron = patch.cron;
    else if (patch.every !== undefined) spec.every = patch.every;
    else if (current.cron !== null) spec.cron = current.cron;
    else spec.every = current.everyMs!;
    const input = patch.input === undefined ? current.input : patch.input;
    if (input !== null && input !== undefined) spec.input = input as Record<string, unknown>;
    const resolved = resolveScheduleSpec(spec, `schedule "${id}"`);
    const queue = patch.queue === undefined ? (patch.workflow === undefined ? current.queue : undefined) : patch.queue;
    const row = toRow(id, patch.workflow ?? current.workflow, queue ?? undefined, resolved);
    const retime = row.cron !== current.cron || row.everyMs !== current.everyMs || row.timezone !== current.timezone;
    if (!(await this.host.call((s) => s.schedules.replace(row, { retime })))) throw new ScheduleNotFoundError(id);
    if (patch.paused !== undefined) await this.host.call((s) => s.schedules.setPaused(id, patch.paused!));
    return this.get(id);
  }

  /** Stops firing slots until `resume`. @throws ScheduleNotFoundError */
  async pause(id: string): Promise<void> {
    if (!(await this.host.call((s) => s.schedules.setPaused(id, true)))) throw new ScheduleNotFoundError(id);
  }

  /**
   * Fires slots again, from the first one after the next tick: slots that came due while it
   * was paused are not caught up (backfill them if they should run).
   * @throws ScheduleNotFoundError
   */
  async resume(id: string): Promise<void> {
    if (!(await this.host.call((s) => s.schedules.setPaused(id, false)))) throw new ScheduleNotFoundError(id);
  }

  /** Deletes the schedule and its slot records; runs it started stay. @throws ScheduleNotFoundError */
  async delete(id: string): Promise<void> {
    if (!(await this.host.call((s) => s.schedules.delete(id)))) throw new ScheduleNotFoundError(id);
  }

  /**
   * Runs the schedule's workflow now, with `scheduledAt` = now (the database's clock), also
   * when it is paused. The run becomes the one the overlap policy looks at.
   * @throws ScheduleNotFoundError; ValidationError when the workflow refuses the input
   */
  async trigger<O = unknown>(id: string): Promise<RunHandle<O>> {
    const [row, now] = await this.host.call((s) => Promise.all([s.schedules.get(id), s.now()]));
    if (!row) throw new ScheduleNotFoundError(id);
    const wf = findWorkflow(row.workflow);
    const run = slotRun(row, now, scheduledInput(row.input, now, wf, `input of schedule "${id}"`), wf);
    const runId = run.id;
    await this.host.call((s) => s.startRuns([run]));
    await this.host.call((s) => s.schedules.recordTrigger({ scheduleId: id, slotAt: now, runId }));
    return this.host.handle<O>(runId);
  }

  /**
   * Creates one run per slot from `from` to `to` (both inclusive), in batches of one
   * statement each. Idempotent: a slot whose run exists (fired by a scheduler, or an earlier
   * backfill) is counted as `existed` and left alone. Slots after now are `skipped`: the
   * scheduler fires them. Runs start at once, side by side: the overlap policy does not apply.
   *
   * @throws ScheduleNotFoundError; ValidationError on a bad range or input
   */
  async backfill(id: string, options: BackfillOptions): Promise<BackfillResult> {
    const row = await this.stored(id);
    return backfill(this.host, row, options);
  }

  /** The slots handled (newest first), with when each run was queued, started and ended. */
  async slots(id: string, filter: { from?: Date; to?: Date; limit?: number } = {}): Promise<ScheduleSlot[]> {
    const rows = await this.host.call((s) => s.schedules.slots(id, filter));
    return rows.map(toScheduleSlot);
  }

  /**
   * Slots (since `since`, default a day ago) whose run started more than `lateBy` after the
   * slot, has not started that long after it, or was never fired. Oldest first.
   */
  async late(options: { lateBy: Duration; since?: Date; limit?: number }): Promise<LateSlot[]> {
    const lateByMs = toMillis(options.lateBy);
    const rows = await this.host.call((s) => s.schedules.late({ lateByMs, since: options.since, limit: options.limit }));
    return rows.map((r) => {
      const late: LateSlot = { scheduleId: r.scheduleId, workflowName: r.workflow, slotAt: r.slotAt, lateMs: r.lateMs, reason: r.reason };
      if (r.runId) late.runId = r.runId;
      if (r.startedAt) late.startedAt = r.startedAt;
      return late;
    });
  }

  private async stored(id: string): Promise<StoredSchedule> {
    const row = await this.host.call((s) => s.schedules.get(id));
    if (!row) throw new ScheduleNotFoundError(id);
    return row;
  }
}

function toRow(id: string, wf: AnyWorkflow | string, queue: string | undefined, spec: ResolvedScheduleSpec): ScheduleRow {
  const name = typeof wf === "string" ? wf : wf?.name;
  if (typeof name !== "string" || name.length === 0) throw new ValidationError(`schedule "${id}": workflow must be a workflow() or its name`);
  // Given the definition, a fixed input the workflow refuses fails now, not at 3 am.
  if (typeof wf !== "string") scheduledInput(spec.input, new Date(), wf, `input of schedule "${id}"`);
  return scheduleRow(id, name, queue ?? (typeof wf === "string" ? null : wf.queue), spec);
}

/** The row a resolved schedule is stored as (its fixed input checked to be JSON). */
export function scheduleRow(id: string, workflow: string, queue: string | null, spec: ResolvedScheduleSpec): ScheduleRow {
  return {
    id,
    workflow,
    queue,
    cron: spec.cron ?? null,
    everyMs: spec.everyMs ?? null,
    timezone: spec.timezone,
    catchup: spec.catchup,
    catchupWindowMs: spec.catchupWindowMs,
    overlap: spec.overlap,
    input: spec.input === undefined ? undefined : toJsonText(spec.input, `input of schedule "${id}"`),
  };
}
