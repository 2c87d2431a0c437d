/** A schedule's definition as it is written (the sdk validated it). */
export interface ScheduleRow {
  id: string;
  workflow: string;
  /** Null: the workflow's own queue. */
  queue: string | null;
  cron: string | null;
  everyMs: number | null;
  timezone: string;
  catchup: string;
  catchupWindowMs: number;
  overlap: string;
  /** JSON text of the fixed input, if any. */
  input?: string | undefined;
}

/** A schedule as the `schedules` table holds it, with the status of its last run. */
export interface StoredSchedule extends Omit<ScheduleRow, "input"> {
  input: unknown;
  source: string;
  paused: boolean;
  version: number;
  nextFireAt: Date | null;
  lastSlotAt: Date | null;
  lastRunId: string | null;
  lastRunStatus: string | null;
  bufferedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A handled slot with the times of its run. */
export interface StoredSlot {
  scheduleId: string;
  slotAt: Date;
  runId: string | null;
  outcome: string;
  reason: string | null;
  recordedAt: Date;
  /** Null when there is no run (skipped, buffered) or it was pruned. */
  runStatus: string | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
}

/** A slot whose run started late, has not started, or that no scheduler has fired yet. */
export interface LateSlot {
  scheduleId: string;
  workflow: string;
  slotAt: Date;
  /** Null for a slot no scheduler fired yet (`not-fired`). */
  runId: string | null;
  startedAt: Date | null;
  /** How long after the slot the run started, or has been waiting so far. */
  lateMs: number;
  reason: "started-late" | "not-started" | "not-fired";
}

/** A slot whose run started in time but had not ended `lateBy` after the slot (it ran long). */
export interface OverrunSlot {
  scheduleId: string;
  workflow: string;
  slotAt: Date;
  runId: string;
  startedAt: Date;
  /** Null while the run goes on. */
  endedAt: Date | null;
  /** How long after the slot the run ended, or has run so far. */
  lateMs: number;
}
