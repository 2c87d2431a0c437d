import type { ScheduleStore } from "./schedule/schedule-store.js";

/**
 * The slice of `@reprise/store` that `Client` uses, declared here so the sdk's types do not
 * depend on the store's classes. A `Store` from `createStore()` satisfies it.
 */
export interface ClientStore {
  migrate(): Promise<number[]>;
  startRuns(
    runs: readonly {
      id: string;
      workflow: string;
      queue: string;
      input?: string | undefined;
      priority?: number | undefined;
      delayMs?: number | undefined;
      timeoutMs?: number | undefined;
      parentId?: string | undefined;
      fingerprint?: string | undefined;
    }[],
  ): Promise<Set<string>>;
  getRun(id: string): Promise<StoredRun | undefined>;
  listRuns(filter: {
    status?: string | undefined;
    workflow?: string | undefined;
    parentId?: string | undefined;
    limit?: number | undefined;
    after?: string | undefined;
  }): Promise<StoredRun[]>;
  history(runId: string): Promise<StoredEvent[]>;
  signalRun(args: { runId: string; name: string; payload: string | undefined }): Promise<
    { delivered: true; signalId: string } | { delivered: false; status: string | null }
  >;
  cancelRun(args: { runId: string; reason: string | undefined; error: string }): Promise<
    { outcome: "not-found" } | { outcome: "finished"; status: string } | { outcome: "requested" } | { outcome: "cancelled" }
  >;
  retryRun(runId: string): Promise<{ outcome: "not-found" } | { outcome: "invalid"; status: string } | { outcome: "retried" }>;
  forkRun(args: { sourceId: string; fromStep: number | string; newId: string; reopen?: readonly number[] }): Promise<
    | { outcome: "not-found" }
    | { outcome: "no-such-step"; fromStep: number | string }
    | { outcome: "forked"; id: string; fromPosition: number; created: boolean }
  >;
  deadLetters(filter: { runId?: string | undefined; workflow?: string | undefined; id?: string | undefined; limit?: number | undefined }): Promise<
    StoredDeadLetter[]
  >;
  markDeadLetterRetried(id: string, runId: string): Promise<void>;
  /** Schedules: definitions, slots, lateness. */
  readonly schedules: ScheduleStore;
  /** The database's clock. */
  now(): Promise<Date>;
  close(): Promise<void>;
}

export interface StoredRun {
  id: string;
  workflow: string;
  queue: string;
  status: string;
  input: unknown;
  output: unknown;
  error: unknown;
  priority: number;
  attempt: number;
  parentId: string | null;
  fingerprint: string | null;
  forkedFrom: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt?: Date | null;
}

export interface StoredEvent {
  runId: string;
  seq: number;
  kind: string;
  position: number | null;
  name: string | null;
  payload: unknown;
  createdAt: Date;
}

export interface StoredDeadLetter {
  id: string;
  runId: string;
  workflow: string;
  map: string;
  index: number;
  position: number;
  item: unknown;
  error: unknown;
  createdAt: Date;
  retriedBy: string | null;
}
