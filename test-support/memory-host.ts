import { type HistoryEvent, type Workflow } from "@reprise/sdk";
import { eventLoopTimers, Execution, type ChildOutcome, type ExecutionHost, type InboxSignal, type NewEvent, type Outcome, type PayloadLimits, type TransactionAttempt } from "@reprise/sdk/engine";

/**
 * An in-memory ExecutionHost for engine tests: appends go to an array, signals to a list.
 * No database, no worker.
 */
export class MemoryHost implements ExecutionHost {
  readonly live = true;
  readonly appended: NewEvent[] = [];
  readonly signals: { name: string; id: string; payload: unknown; sentAt?: Date }[] = [];
  readonly children = new Map<string, ChildOutcome | null>();
  /** Values stored out of line, by id (JSON text). */
  readonly payloads = new Map<string, string>();
  /** How many values stored out of line the engine asked for. */
  loads = 0;
  persists = 0;
  clock = Date.now();
  readonly setTimer = eventLoopTimers.setTimer;
  readonly defer = eventLoopTimers.defer;
  readonly monotonic = eventLoopTimers.monotonic;

  now(): number {
    return Date.now();
  }
  async persist(events: NewEvent[]): Promise<void> {
    this.persists++;
    this.keep(events);
  }
  async end(_outcome: Outcome, events: NewEvent[]): Promise<void> {
    this.keep(events);
  }
  private keep(events: NewEvent[]): void {
    for (const e of events) for (const v of e.outOfLine ?? []) this.payloads.set(v.id, v.text);
    this.appended.push(...events);
  }
  async loadPayload(id: string): Promise<unknown> {
    this.loads++;
    const text = this.payloads.get(id);
    if (text === undefined) throw new Error(`no payload ${id}`);
    return JSON.parse(text) as unknown;
  }
  isRefusal(_error: unknown): boolean {
    return false;
  }
  async readSignal(name: string, after: string | undefined): Promise<InboxSignal | null> {
    const found = this.signals.find((s) => s.name === name && (after === undefined || BigInt(s.id) > BigInt(after)));
    return found ? { id: found.id, payload: found.payload, sentAt: (found.sentAt ?? new Date()).toISOString() } : null;
  }
  async startChild(child: { id: string; parentId: string; workflow: string }) {
    if (!this.children.has(child.id)) this.children.set(child.id, null);
    return { parentId: child.parentId, workflow: child.workflow };
  }
  async childOutcome(childId: string) {
    return this.children.get(childId) ?? null;
  }
  /** Runs the function against `transactionContext` (none by default: its queries throw) and "commits" the completion. */
  transactionContext: unknown = {
    query: () => Promise.reject(new Error("MemoryHost has no database")),
    kysely: () => {
      throw new Error("MemoryHost has no database");
    },
  };
  async transaction(attempt: TransactionAttempt): Promise<boolean> {
    const event = attempt.complete(await attempt.run(this.transactionContext as never));
    if (!event) return false;
    this.persists++;
    this.appended.push(event);
    return true;
  }
  async saveHeartbeat(): Promise<void> {}
  async breakerPermit() {
    return { allowed: true as const };
  }
  async breakerReport(): Promise<void> {}
  print(): void {}
  reportError(): void {}
}

/** Turns appended events into history events, as the store would return them. */
export function asHistory(runId: string, events: readonly NewEvent[]): HistoryEvent[] {
  return events.map((e) => ({
    runId,
    seq: e.seq,
    kind: e.kind,
    position: e.position,
    name: e.name,
    payload: JSON.parse(e.payload) as unknown,
    createdAt: new Date(),
  }));
}

/** A RunStarted event for a run of `wf`. */
export function started(runId: string, wf: Workflow<any, any>, input?: unknown): HistoryEvent {
  return { runId, seq: 0, kind: "RunStarted", position: null, name: null, payload: { workflow: wf.name, queue: wf.queue, input }, createdAt: new Date() };
}

/** An execution's outcome, with a completed run's output parsed from the JSON text it recorded. */
export type TestOutcome = Outcome & { output?: unknown };

/** Executes a run against a MemoryHost from its start (or from `history`). */
export async function execute(
  wf: Workflow<any, any>,
  options: { input?: unknown; history?: HistoryEvent[]; host?: MemoryHost; runId?: string; suspendAfterMs?: number; payloads?: PayloadLimits } = {},
): Promise<{ outcome: TestOutcome; host: MemoryHost; history: HistoryEvent[] }> {
  const runId = options.runId ?? "run-1";
  const host = options.host ?? new MemoryHost();
  const history = options.history ?? [started(runId, wf, options.input)];
  const execution = new Execution({
    runId,
    workflow: wf,
    input: options.input,
    history,
    host,
    suspendAfterMs: options.suspendAfterMs ?? 50,
    ...(options.payloads ? { payloads: options.payloads } : {}),
  });
  const ended = await execution.run();
  host.appended.push(...execution.takePending().events);
  const outcome: TestOutcome =
    ended.status === "completed" ? { ...ended, output: ended.outputText === undefined ? undefined : JSON.parse(ended.outputText) } : ended;
  return { outcome, host, history: [...history, ...asHistory(runId, host.appended)] };
}
