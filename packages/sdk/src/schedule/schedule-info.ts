import { TERMINAL_STATUSES } from "../run-status.js";
import type { Duration } from "../duration.js";
import type { RunStatus } from "../run-info.js";
import type { ScheduleSpec } from "../schedule-spec.js";
import type { AnyWorkflow } from "../workflow-types.js";
import type { Catchup, Overlap } from "./resolve-spec.js";
import type { StoredSchedule, StoredSlot } from "@reprise/store";
import { timetableOf } from "./timetable.js";

/** Options of `client.schedules.create`: a {@link ScheduleSpec} plus what to run. */
export interface CreateScheduleOptions extends ScheduleSpec {
  /** The schedule's id; its runs are `sched:<id>:<slot ISO time>`. */
  id: string;
  /** The workflow to run: its definition (its input schema is checked now) or its name. */
  workflow: AnyWorkflow | string;
  /** @default the workflow's queue */
  queue?: string;
  /**
   * Create it paused.
   * @default false
   */
  paused?: boolean;
}

/**
 * Changes for `client.schedules.update`. Giving `cron` replaces `every` and the other way
 * round; `input: null` removes the fixed input.
 */
export interface SchedulePatch {
  cron?: string;
  every?: Duration;
  timezone?: string;
  catchup?: Catchup;
  catchupWindow?: Duration;
  overlap?: Overlap;
  input?: Record<string, unknown> | null;
  workflow?: AnyWorkflow | string;
  queue?: string | null;
  paused?: boolean;
}

/** A schedule as `client.schedules.list()` and `get()` describe it. */
export interface ScheduleInfo {
  id: string;
  workflowName: string;
  /** Set for a cron schedule. */
  cron?: string;
  /** Set for an interval schedule, in milliseconds. */
  every?: number;
  timezone: string;
  catchup: Catchup;
  /** Milliseconds. */
  catchupWindow: number;
  overlap: Overlap;
  input?: Record<string, unknown>;
  /** The queue its runs go to; absent: the workflow's. */
  queue?: string;
  /** `"code"`: declared with `workflow({ schedule })`, rewritten by every worker start. */
  source: "api" | "code";
  paused: boolean;
  /** The next slot; null while paused. */
  nextFireAt: Date | null;
  /** The latest slot the scheduler handled. */
  lastSlotAt?: Date;
  /** The run of the latest slot started (or triggered), as it is now. */
  lastRun?: { id: string; status: RunStatus | "pruned" };
  /** overlap `"buffer-one"`: the slot waiting for the last run to end. */
  bufferedSlotAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A slot a scheduler, backfill or trigger handled, with when its run was queued, started and ended. */
export interface ScheduleSlot {
  scheduleId: string;
  /** The slot's time: the run's `scheduledAt`. */
  slotAt: Date;
  /** `"skipped"` and `"buffered"` slots have no run (yet); `"invalid"`: the workflow refused the input. */
  outcome: "started" | "skipped" | "buffered" | "backfilled" | "triggered" | "invalid";
  runId?: string;
  reason?: string;
  runStatus?: RunStatus;
  queuedAt?: Date;
  /** When a worker first took the run. */
  startedAt?: Date;
  endedAt?: Date;
  /** `startedAt - slotAt` in milliseconds. */
  startDelayMs?: number;
}

/** A slot whose run started more than `lateBy` after it, has not started yet, or was never fired. */
export interface LateSlot {
  scheduleId: string;
  workflowName: string;
  slotAt: Date;
  runId?: string;
  startedAt?: Date;
  /** How long after the slot the run started, or has waited so far. */
  lateMs: number;
  /** `"not-fired"`: no scheduler created the slot's run (no worker for the workflow is running). */
  reason: "started-late" | "not-started" | "not-fired";
}

/** Options of `client.schedules.backfill`. */
export interface BackfillOptions {
  /** First slot time (inclusive): a Date, an ISO time, or `YYYY-MM-DD` in the schedule's zone. */
  from: Date | string;
  /** Last slot time (inclusive): a date `YYYY-MM-DD` means the whole of that day in the schedule's zone. */
  to: Date | string;
  /**
   * Runs created per statement.
   * @default 500
   */
  batchSize?: number;
  /** Called after each batch. */
  onProgress?: (progress: BackfillProgress) => void;
}

/** Counts of a backfill so far. */
export interface BackfillProgress {
  /** Slots in the range. */
  total: number;
  /** Slots handled so far. */
  done: number;
  /** Runs created. */
  created: number;
  /** Slots whose run existed already (fired by a scheduler, or an earlier backfill). */
  existed: number;
  /** Slots still in the future: left to the scheduler. */
  skipped: number;
}

/** What a backfill did. */
export interface BackfillResult extends BackfillProgress {
  scheduleId: string;
  from: Date;
  to: Date;
}


/** The public view of a stored schedule; `now` fills in the next slot of a schedule no tick has seen. */
export function toScheduleInfo(row: StoredSchedule, now: Date): ScheduleInfo {
  const info: ScheduleInfo = {
    id: row.id,
    workflowName: row.workflow,
    timezone: row.timezone,
    catchup: row.catchup as Catchup,
    catchupWindow: row.catchupWindowMs,
    overlap: row.overlap as Overlap,
    source: row.source === "code" ? "code" : "api",
    paused: row.paused,
    nextFireAt: row.paused ? null : (row.nextFireAt ?? timetableOf(row).next(now)),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
  if (row.cron !== null) info.cron = row.cron;
  if (row.everyMs !== null) info.every = row.everyMs;
  if (row.input !== null && row.input !== undefined) info.input = row.input as Record<string, unknown>;
  if (row.queue !== null) info.queue = row.queue;
  if (row.lastSlotAt) info.lastSlotAt = row.lastSlotAt;
  if (row.lastRunId) info.lastRun = { id: row.lastRunId, status: (row.lastRunStatus ?? "pruned") as RunStatus | "pruned" };
  if (row.bufferedAt) info.bufferedSlotAt = row.bufferedAt;
  return info;
}

export function toScheduleSlot(row: StoredSlot): ScheduleSlot {
  const slot: ScheduleSlot = { scheduleId: row.scheduleId, slotAt: row.slotAt, outcome: row.outcome as ScheduleSlot["outcome"] };
  if (row.runId) slot.runId = row.runId;
  if (row.reason) slot.reason = row.reason;
  if (row.runStatus) slot.runStatus = row.runStatus as RunStatus;
  if (row.queuedAt) slot.queuedAt = row.queuedAt;
  if (row.startedAt) {
    slot.startedAt = row.startedAt;
    slot.startDelayMs = row.startedAt.getTime() - row.slotAt.getTime();
  }
  if (row.endedAt && row.runStatus && TERMINAL_STATUSES.has(row.runStatus)) slot.endedAt = row.endedAt;
  return slot;
}
