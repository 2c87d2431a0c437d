import { EventKind, type HistoryEvent, type RunRetriedPayload } from "../events.js";

/**
 * A run's history arranged for replay: the events at each position, with what a
 * `RunRetried` reopened taken out, plus the run-level facts replay needs.
 */
export class HistoryIndex {
  /** Highest position with a recorded event (-1 when none). */
  readonly maxPosition: number;
  /** The seq the next appended event gets. */
  readonly nextSeq: number;
  /** `ctx.patched` ids recorded by this run. */
  readonly patches: ReadonlySet<string>;
  /** Hooks that already ran (`run`, `step:<position>`). */
  readonly hooksDone: ReadonlySet<string>;
  /** The event that ended the run, unless a retry reopened it. */
  readonly terminal: HistoryEvent | undefined;
  /** Highest signal id consumed per signal name. */
  readonly signalCursors: ReadonlyMap<string, string>;
  readonly events: readonly HistoryEvent[];
  private readonly byPosition: ReadonlyMap<number, readonly HistoryEvent[]>;

  /** Called with each position the replay reads (see `replay`'s `onEvent`). */
  onRead: ((position: number, events: readonly HistoryEvent[]) => void) | undefined;

  constructor(events: readonly HistoryEvent[]) {
    const byPosition = new Map<number, HistoryEvent[]>();
    const patches = new Set<string>();
    const hooksDone = new Set<string>();
    const signalCursors = new Map<string, string>();
    let terminal: HistoryEvent | undefined;
    let lastSeq = -1;
    for (const event of events) {
      lastSeq = Math.max(lastSeq, event.seq);
      switch (event.kind) {
        case EventKind.RunCompleted:
        case EventKind.RunFailed:
        case EventKind.RunCancelled:
          terminal = event;
          continue;
        case EventKind.RunRetried: {
          // Reopen the failure that ended the run: the failed position starts over with a
          // fresh attempt count, and the hooks of that failure may run again next time.
          const { position } = event.payload as RunRetriedPayload;
          if (position !== undefined && position !== null) {
            byPosition.delete(position);
            hooksDone.delete(`step:${position}`);
          }
          hooksDone.delete("run");
          terminal = undefined;
          continue;
        }
        case EventKind.HookCompleted:
          hooksDone.add((event.payload as { hook: string }).hook);
          continue;
        case EventKind.SignalConsumed: {
          const id = (event.payload as { signalId: string }).signalId;
          const name = event.name ?? "";
          const seen = signalCursors.get(name);
          if (seen === undefined || BigInt(id) > BigInt(seen)) signalCursors.set(name, id);
          break;
        }
        case EventKind.MarkerRecorded:
          if ((event.position ?? null) === null && event.name?.startsWith("patch:")) {
            patches.add(event.name.slice("patch:".length));
            continue;
          }
          break;
        default:
          break;
      }
      const position = event.position ?? null;
      if (position === null) continue;
      const list = byPosition.get(position);
      if (list) list.push(event);
      else byPosition.set(position, [event]);
    }
    let maxPosition = -1;
    for (const [position, list] of byPosition) if (list.length > 0 && position > maxPosition) maxPosition = position;
    this.events = events;
    this.byPosition = byPosition;
    this.maxPosition = maxPosition;
    this.nextSeq = lastSeq + 1;
    this.patches = patches;
    this.hooksDone = hooksDone;
    this.terminal = terminal;
    this.signalCursors = signalCursors;
  }

  /** The live events recorded at a position, in seq order (empty when none). */
  at(position: number): readonly HistoryEvent[] {
    const events = this.byPosition.get(position) ?? EMPTY;
    this.onRead?.(position, events);
    return events;
  }

  /** The lowest recorded position at or after `from`, if any. */
  firstPositionFrom(from: number): number | undefined {
    let best: number | undefined;
    for (const position of this.byPosition.keys()) {
      if (position >= from && (best === undefined || position < best)) best = position;
    }
    return best;
  }
}

const EMPTY: readonly HistoryEvent[] = Object.freeze([]);

/**
 * What a position's recorded events say the code called there, in the terms the code's own
 * side uses (`StepCompleted` for any step, `SignalConsumed` for a signal wait, …), so that a
 * divergence compares like with like even when the step's first event is a failed attempt.
 */
export function recordedCall(events: readonly HistoryEvent[]): { kind: string; name: string | null } | undefined {
  const first = events[0];
  if (!first) return undefined;
  const name = first.name ?? null;
  switch (first.kind) {
    case EventKind.StepAttemptFailed:
    case EventKind.StepFailed:
    case EventKind.DeadLettered:
      return { kind: EventKind.StepCompleted, name };
    case EventKind.TimerStarted:
      return { kind: (first.payload as { signal?: boolean } | null)?.signal ? EventKind.SignalConsumed : EventKind.TimerStarted, name };
    case EventKind.SignalWaitStarted:
      return { kind: EventKind.SignalConsumed, name };
    case EventKind.ChildCompleted:
    case EventKind.ChildFailed:
      return { kind: EventKind.ChildStarted, name };
    default:
      return { kind: first.kind, name };
  }
}

/** Finds the first event of a kind in a position's list. */
export function findKind(events: readonly HistoryEvent[], kind: EventKind): HistoryEvent | undefined {
  for (const event of events) if (event.kind === kind) return event;
  return undefined;
}
