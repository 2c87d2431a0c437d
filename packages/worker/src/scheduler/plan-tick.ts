import { type AnyWorkflow } from "@reprise/sdk";
import { TERMINAL_STATUSES, scheduledInput, slotRun, timetableOf, type Timetable } from "@reprise/sdk/engine";
import type { ClaimedSchedule, NewRun, ScheduleAdvance, SlotRecord } from "@reprise/store";

/**
 * Under catch-up `"none"`, a slot the scheduler sees more than this long after its time
 * counts as missed (no scheduler ran then) and is skipped; a slot seen sooner is on time.
 */
export const ON_TIME_MS = 60_000;

/** Catch-up `"all"` starts at most this many slots of one schedule per tick; the next tick goes on. */
export const MAX_SLOTS_PER_TICK = 1_000;

/** What one tick does, for all the schedules it claimed. */
export interface TickPlan {
  runs: NewRun[];
  advances: ScheduleAdvance[];
  slots: SlotRecord[];
  /** Runs to cancel (overlap `"cancel-other"`), after the new runs exist. */
  cancels: { runId: string; scheduleId: string; slotAt: Date }[];
  /** Per schedule, the first slot the catch-up policy passed over (no scheduler ran in time). */
  missed: Map<string, Date>;
  /** Schedules that could not be planned (a row written around the sdk's checks); looked at again in a minute. */
  errors: { scheduleId: string; error: Error }[];
}

/** A schedule that cannot be planned is looked at again after this, not on every tick. */
export const RETRY_BROKEN_MS = 60_000;

/**
 * Decides, in memory, what a tick does with each claimed schedule at time `now`: which
 * slots start (and with which run ids and inputs), which are skipped or buffered by the
 * overlap policy, which runs are cancelled, and where each cursor moves.
 *
 * - A buffered slot (`"buffer-one"`) whose blocking run has ended starts first.
 * - A schedule without a cursor (new, re-timed, resumed) starts at the first slot after `now`.
 * - Due slots (cursor <= slot <= now) are chosen by the catch-up policy: `"all"` every slot
 *   inside `catchupWindow`, `"latest"` the latest one inside it, `"none"` the latest one if
 *   it is on time (seen within a minute, or `catchupWindow` if shorter), else nothing.
 * - The chosen slots are started together; the overlap policy applies against the run that
 *   was still going before them: `"allow"` starts them, `"skip"` records them as skipped,
 *   `"buffer-one"` keeps the first one waiting (if none waits yet) and skips the rest,
 *   `"cancel-other"` cancels that run and starts them.
 */
export function planTick(claimed: readonly ClaimedSchedule[], now: Date, workflows: ReadonlyMap<string, AnyWorkflow>): TickPlan {
  const plan: TickPlan = { runs: [], advances: [], slots: [], cancels: [], missed: new Map(), errors: [] };
  for (const s of claimed) {
    const mark = { runs: plan.runs.length, slots: plan.slots.length, cancels: plan.cancels.length };
    try {
      planSchedule(s, now, workflows.get(s.workflow), plan);
    } catch (error) {
      plan.runs.length = mark.runs;
      plan.slots.length = mark.slots;
      plan.cancels.length = mark.cancels;
      plan.missed.delete(s.id);
      plan.errors.push({ scheduleId: s.id, error: error as Error });
      plan.advances.push({
        id: s.id,
        version: s.version,
        nextFireAt: new Date(now.getTime() + RETRY_BROKEN_MS),
        lastSlotAt: s.lastSlotAt,
        lastRunId: s.lastRunId,
        bufferedAt: s.bufferedAt,
      });
    }
  }
  return plan;
}

function planSchedule(s: ClaimedSchedule, now: Date, wf: AnyWorkflow | undefined, plan: TickPlan): void {
  const table = timetableOf(s);
  let running = s.lastRunId !== null && s.lastRunStatus !== null && !TERMINAL_STATUSES.has(s.lastRunStatus);
  let lastRunId = s.lastRunId;
  let lastSlotAt = s.lastSlotAt;
  let bufferedAt = s.bufferedAt;

  /** Adds the slot's run to the plan; false when the workflow refuses the input. */
  const start = (slot: Date): boolean => {
    let input: string | undefined;
    try {
      input = scheduledInput(s.input, slot, wf, `input of schedule "${s.id}"`);
    } catch (error) {
      plan.slots.push({ scheduleId: s.id, slotAt: slot, runId: null, outcome: "invalid", reason: (error as Error).message.slice(0, 500) });
      return false;
    }
    const run = slotRun(s, slot, input, wf);
    plan.runs.push(run);
    plan.slots.push({ scheduleId: s.id, slotAt: slot, runId: run.id, outcome: "started" });
    lastRunId = run.id;
    running = true;
    return true;
  };

  if (bufferedAt && !running) {
    start(bufferedAt);
    bufferedAt = null;
  }

  let nextFireAt: Date | null;
  if (s.nextFireAt === null) {
    nextFireAt = table.next(now);
  } else if (s.nextFireAt > now) {
    nextFireAt = s.nextFireAt;
  } else {
    const { due, next, missed } = dueSlots(s, table, now);
    nextFireAt = next;
    if (missed) plan.missed.set(s.id, missed);
    if (due.length > 0) {
      lastSlotAt = due[due.length - 1]!;
      const blocking = running ? lastRunId : null;
      if (!running || s.overlap === "allow" || s.overlap === "cancel-other") {
        if (blocking && s.overlap === "cancel-other") plan.cancels.push({ runId: blocking, scheduleId: s.id, slotAt: due[0]! });
        for (const slot of due) start(slot);
      } else {
        for (const slot of due) {
          if (s.overlap === "buffer-one" && !bufferedAt) {
            bufferedAt = slot;
            plan.slots.push({ scheduleId: s.id, slotAt: slot, runId: null, outcome: "buffered", reason: `waiting for run ${blocking} to end` });
          } else {
            const why = s.overlap === "buffer-one" ? `a slot is already buffered behind run ${blocking}` : `run ${blocking} is still going`;
            plan.slots.push({ scheduleId: s.id, slotAt: slot, runId: null, outcome: "skipped", reason: `overlap ${s.overlap}: ${why}` });
          }
        }
      }
    }
  }
  plan.advances.push({ id: s.id, version: s.version, nextFireAt, lastSlotAt, lastRunId, bufferedAt });
}

/** The slots the catch-up policy takes among those due, where the cursor goes next, and the first slot it passes over. */
function dueSlots(s: ClaimedSchedule, table: Timetable, now: Date): { due: Date[]; next: Date | null; missed: Date | undefined } {
  const cursor = s.nextFireAt!;
  const windowStart = new Date(now.getTime() - s.catchupWindowMs);
  if (s.catchup === "all") {
    const from = cursor > windowStart ? cursor : windowStart;
    const due = table.between(from, now, MAX_SLOTS_PER_TICK + 1);
    const more = due.length > MAX_SLOTS_PER_TICK;
    if (more) due.length = MAX_SLOTS_PER_TICK;
    const missed = cursor < windowStart ? table.between(cursor, new Date(windowStart.getTime() - 1), 1)[0] : undefined;
    return { due, next: more ? table.next(due[due.length - 1]!) : table.next(now), missed };
  }
  // The cursor is a slot. Usually it is the only one due: then the slot after it is also the
  // next one after now, and croner is asked once per schedule and tick.
  const afterCursor = table.next(cursor);
  const onlyCursor = afterCursor === null || afterCursor > now;
  const latest = onlyCursor ? cursor : table.latest(now)!;
  const next = onlyCursor ? afterCursor : table.next(now);
  const limit = s.catchup === "latest" ? windowStart : new Date(now.getTime() - Math.min(ON_TIME_MS, s.catchupWindowMs));
  const take = latest >= limit;
  const missed = take && onlyCursor ? undefined : cursor;
  return { due: take ? [latest] : [], next, missed };
}
