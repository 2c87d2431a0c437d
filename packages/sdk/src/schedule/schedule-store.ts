/**
 * The slice of `@reprise/store`'s `store.schedules` that `client.schedules` uses, declared
 * here so the sdk does not depend on the store's classes. The store's `Schedules` satisfies it.
 */
export interface ScheduleStore {
  /** @returns false when the id is taken. */
  create(row: ScheduleRowInput): Promise<boolean>;
  get(id: string): Promise<StoredScheduleRow | undefined>;
  list(filter?: { workflow?: string | undefined; limit?: number | undefined }): Promise<StoredScheduleRow[]>;
  /** @returns false when there is no such schedule. */
  replace(row: ScheduleRowInput, options: { retime: boolean }): Promise<boolean>;
  /** @returns false when there is no such schedule. */
  setPaused(id: string, paused: boolean): Promise<boolean>;
  /** @returns false when there was no such schedule. */
  delete(id: string): Promise<boolean>;
  recordSlots(slots: readonly SlotRecordInput[]): Promise<void>;
  recordTrigger(slot: { scheduleId: string; slotAt: Date; runId: string }): Promise<boolean>;
  slots(id: string, filter?: { from?: Date | undefined; to?: Date | undefined; limit?: number | undefined }): Promise<StoredSlotRow[]>;
  late(args: { lateByMs: number; since?: Date | undefined; now?: Date | undefined; limit?: number | undefined }): Promise<LateSlotRow[]>;
}

export interface ScheduleRowInput {
  id: string;
  workflow: string;
  queue: string | null;
  cron: string | null;
  everyMs: number | null;
  timezone: string;
  catchup: string;
  catchupWindowMs: number;
  overlap: string;
  /** JSON text. */
  input?: string | undefined;
}

export interface StoredScheduleRow extends Omit<ScheduleRowInput, "input"> {
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

export interface SlotRecordInput {
  scheduleId: string;
  slotAt: Date;
  runId: string | null;
  outcome: "started" | "skipped" | "buffered" | "backfilled" | "triggered" | "invalid";
  reason?: string | null | undefined;
}

export interface StoredSlotRow {
  scheduleId: string;
  slotAt: Date;
  runId: string | null;
  outcome: string;
  reason: string | null;
  recordedAt: Date;
  runStatus: string | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
}

export interface LateSlotRow {
  scheduleId: string;
  workflow: string;
  slotAt: Date;
  runId: string | null;
  startedAt: Date | null;
  lateMs: number;
  reason: "started-late" | "not-started" | "not-fired";
}
