import type { ScheduleAdvance, SlotRecord } from "../queries/advance-schedules.js";
import type { ClaimedSchedule } from "../queries/claim-schedules.js";
import type { DeclaredOutcome } from "../queries/sync-declared-schedules.js";
import type { LateSlot, OverrunSlot, ScheduleRow, StoredSchedule, StoredSlot } from "./schedule-row.js";

/** Filters of {@link ScheduleStore.slots}. */
export interface SlotFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  /** @default 100 */
  limit?: number | undefined;
}

/**
 * The schedules of one schema (`store.schedules`): definitions and cursors, the slots
 * fired, the scheduler's claim and advance, and lateness. Knows nothing of cron: the sdk
 * computes slots, this stores them.
 */
export interface ScheduleStore {
  /** Claims the schedules a tick must look at (see claim-schedules.ts). */
  claim(args: { now: Date | undefined; workflows: readonly string[]; limit: number; owner: string; leaseMs: number }): Promise<{
    schedules: ClaimedSchedule[];
    tickAt: Date | undefined;
  }>;
  /** Moves the cursors of claimed schedules and records their slots, in one statement. */
  advance(owner: string, advances: readonly ScheduleAdvance[], slots: readonly SlotRecord[]): Promise<Set<string>>;
  /** Writes the schedules declared in code (see sync-declared-schedules.ts). */
  syncDeclared(rows: readonly ScheduleRow[]): Promise<Map<string, DeclaredOutcome>>;
  /** @returns false when a schedule with this id exists (nothing is changed). */
  create(row: ScheduleRow): Promise<boolean>;
  /** A schedule, or undefined when there is no such schedule. */
  get(id: string): Promise<StoredSchedule | undefined>;
  /** Schedules (of one workflow) by id, at most `limit` (default 1000). */
  list(filter?: { workflow?: string | undefined; limit?: number | undefined }): Promise<StoredSchedule[]>;
  /** @returns false when there is no such schedule. */
  replace(row: ScheduleRow, options: { retime: boolean }): Promise<boolean>;
  /** @returns false when there is no such schedule. */
  setPaused(id: string, paused: boolean): Promise<boolean>;
  /** @returns false when there was no such schedule. */
  delete(id: string): Promise<boolean>;
  /** Records slots handled outside a tick (a backfill); a slot that already has a run keeps it. */
  recordSlots(slots: readonly SlotRecord[]): Promise<void>;
  /** @returns false when the slot was handled already. */
  recordTrigger(slot: { scheduleId: string; slotAt: Date; runId: string }): Promise<boolean>;
  /** A schedule's handled slots, newest first, with when each run was queued, started and ended. */
  slots(id: string, filter?: SlotFilter): Promise<StoredSlot[]>;
  /** Slots whose run started, or has not started, more than `lateByMs` after the slot; oldest first. */
  late(args: { lateByMs: number; since?: Date | undefined; now?: Date | undefined; limit?: number | undefined }): Promise<LateSlot[]>;
  /**
   * Slots since `since` whose run started within `lateByMs` of the slot but had not ended
   * `lateByMs` after it (what {@link late} leaves out of "not finished in time"); oldest first.
   */
  overrun(args: { lateByMs: number; since?: Date | undefined; now?: Date | undefined; limit?: number | undefined }): Promise<OverrunSlot[]>;
}
