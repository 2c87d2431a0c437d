import { isConnectionError, isRefusedValue, isUniqueViolation, type AppendEvent, type LogLine, type RunMove, type Store, type StoreSession } from "@reprise/store";
import { LeaseLostError } from "./errors.js";

/** One run's writes, to be committed with whatever else is ready. */
export interface CommitRequest {
  runId: string;
  epoch: number;
  parentId: string | null;
  events: AppendEvent[];
  logs: LogLine[];
  move?: RunMove;
}

interface Pending extends CommitRequest {
  resolve: () => void;
  reject: (error: Error) => void;
}

const RETRYABLE_CODES = new Set(["40P01", "40001"]); // deadlock, serialization failure

/**
 * The worker's group commit. Requests made while the event loop is busy are gathered and
 * written in one statement (`commitRuns`): one round trip and one WAL flush for many runs'
 * step completions. An idle worker's lone request goes out on the next turn of the loop.
 *
 * A request whose lease no longer holds is rejected with `LeaseLostError`; transient
 * failures (a dropped connection, a deadlock between two workers' batches) are retried with
 * backoff while the lease can still be valid.
 */
export class Committer {
  private queue: Pending[] = [];
  private inflight = 0;
  /** Runs with a statement in flight: a run's next request waits for it (see takeBatch). */
  private readonly writing = new Set<string>();
  private scheduled = false;
  /** Sessions held for commits: checking a connection out of the pool per statement costs ~0.05 ms. */
  private readonly idleSessions: StoreSession[] = [];

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly options: { maxInflight: number; retryForMs: number; onError: (error: unknown) => void },
  ) {}

  commit(request: CommitRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...request, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.queue.length > 0 || this.inflight > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /** A held session, or a new one; one the database closed while it was idle is dropped. */
  private async session(): Promise<StoreSession> {
    for (let session = this.idleSessions.pop(); session; session = this.idleSessions.pop()) {
      if (!session.broken) return session;
      session.release(true);
    }
    return this.store.session();
  }

  /** Gives the held connections back to the pool. */
  close(): void {
    for (const session of this.idleSessions.splice(0)) session.release();
  }

  /**
   * An idle committer sends on the next microtask, so a lone step completion (a sequential
   * workflow) waits for nothing; while statements are in flight, requests gather until the
   * end of the event loop turn and go out together.
   */
  private schedule(): void {
    if (this.scheduled || this.inflight >= this.options.maxInflight || this.queue.length === 0) return;
    this.scheduled = true;
    const send = () => {
      this.scheduled = false;
      if (this.inflight >= this.options.maxInflight || this.queue.length === 0) return;
      const batch = this.takeBatch();
      // Every queued run has a statement in flight: the first to finish schedules again.
      if (batch.length === 0) return;
      this.inflight++;
      for (const p of batch) this.writing.add(p.runId);
      void this.write(batch).finally(() => {
        for (const p of batch) this.writing.delete(p.runId);
        this.inflight--;
        this.schedule();
      });
    };
    if (this.inflight === 0) queueMicrotask(send);
    else setImmediate(send);
  }

  /**
   * Takes the queued requests that can go in one statement:
   * - one per run, and none for a run with a statement in flight: a run's writes commit in
   *   the order they were asked for, each after the one before, so its log lines keep
   *   their order (and their ids increase) even when the once-a-second batch of a running
   *   step's lines and the step's own commit are asked for close together. The engine
   *   never has two commits of a run outstanding; only that batch can make one wait.
   * - a child's ending only if its parent is not in the statement, because one statement
   *   cannot both move the parent and wake it (see commit-runs).
   */
  private takeBatch(): Pending[] {
    const queue = this.queue;
    if (queue.length === 1 && !this.writing.has(queue[0]!.runId)) {
      this.queue = [];
      return queue;
    }
    const deferred = new Set<Pending>();
    const taken = new Set<string>();
    for (const p of queue) {
      if (this.writing.has(p.runId) || taken.has(p.runId)) deferred.add(p);
      else taken.add(p.runId);
    }
    // A parent with any request here keeps its child's ending for the next statement (one
    // of them always goes: the topmost such parent has no parent of its own here).
    for (const p of queue) {
      if (p.parentId !== null && p.move && !deferred.has(p) && taken.has(p.parentId)) deferred.add(p);
    }
    const batch: Pending[] = [];
    const later: Pending[] = [];
    for (const p of queue) (deferred.has(p) ? later : batch).push(p);
    this.queue = later;
    return batch;
  }

  private async write(batch: Pending[]): Promise<void> {
    const started = Date.now();
    let delay = 50;
    for (;;) {
      let session: StoreSession | undefined;
      try {
        session = await this.session();
        const lone = batch.length === 1 ? batch[0]! : undefined;
        const held =
          lone && !lone.move && lone.logs.length === 0 && lone.events.length === 1 && lone.events[0]!.kind !== "DeadLettered"
            ? // A sequential workflow's step completion: straight to the one-row append.
              (await session.appendEvent({ ...lone.events[0]!, owner: this.owner, epoch: lone.epoch }))
              ? new Set([lone.runId])
              : new Set<string>()
            : await session.commitRuns({
                owner: this.owner,
                leases: dedupeLeases(batch),
                events: batch.flatMap((p) => p.events),
                moves: batch.flatMap((p) => (p.move ? [p.move] : [])),
                logs: batch.flatMap((p) => p.logs),
              });
        this.idleSessions.push(session);
        for (const p of batch) {
          if (held.has(p.runId)) p.resolve();
          else p.reject(new LeaseLostError(p.runId));
        }
        return;
      } catch (error) {
        // A connection that failed is dropped; one that only saw a statement error is reused.
        if (session) {
          if (isConnectionError(error)) session.release(true);
          else this.idleSessions.push(session);
        }
        if ((isUniqueViolation(error) || isRefusedValue(error)) && batch.length > 1) {
          // Someone else appended to one of these runs, or one run's data was refused: find
          // which by committing them one by one, so the others are not failed with it.
          await Promise.all(batch.map((p) => this.write([p])));
          return;
        }
        if (isUniqueViolation(error)) {
          batch[0]!.reject(new LeaseLostError(batch[0]!.runId, "its history changed under this worker"));
          return;
        }
        const code = (error as { code?: unknown }).code;
        const transient = isConnectionError(error) || (typeof code === "string" && RETRYABLE_CODES.has(code));
        if (!transient || Date.now() - started > this.options.retryForMs) {
          for (const p of batch) p.reject(error as Error);
          return;
        }
        this.options.onError(error);
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }
}

function dedupeLeases(batch: readonly Pending[]): { id: string; epoch: number }[] {
  const seen = new Map<string, number>();
  for (const p of batch) seen.set(p.runId, p.epoch);
  return [...seen].map(([id, epoch]) => ({ id, epoch }));
}

export type { AppendEvent, LogLine, RunMove };
