import type { DeclaredWorkflow, TriggerChange } from "../queries/declare-workflows.js";

/** What a worker says about itself at every heartbeat. */
export interface WorkerPresence {
  id: string;
  version: string | undefined;
  workflows: readonly string[];
  queues: readonly string[];
  /** The row counts as alive this long after the beat. */
  leaseMs: number;
}

/** A worker as the `workers` table holds it. */
export interface WorkerRecord {
  id: string;
  version: string | null;
  workflows: string[];
  queues: string[];
  startedAt: Date;
  seenAt: Date;
  /** True while its last beat is within its lease. */
  alive: boolean;
}

/** A deployment version: its open runs and its workers. */
export interface VersionRecord {
  /** null: runs no versioned worker has run yet (or ran by workers without a version). */
  version: string | null;
  firstSeenAt: Date | null;
  openRuns: number;
  /** Open runs that only a worker of this version may continue. */
  pinnedRuns: number;
  liveWorkers: number;
  lastSeenAt: Date | null;
}

/**
 * The fleet of one schema (`store.fleet`): the workflows workers declare (and their
 * triggers), the workers alive and their versions.
 */
export interface FleetStore {
  /** Writes the workflows a worker runs and their triggers (see declare-workflows.ts). */
  declare(workflows: readonly DeclaredWorkflow[]): Promise<TriggerChange[]>;
  /** Which of these names some worker has declared. */
  declared(names: readonly string[]): Promise<Set<string>>;
  /**
   * Records that a worker is alive for `leaseMs` more (and its version, the first time it
   * is seen). @returns the newest version that has a live worker (null: none has a version)
   */
  beat(worker: WorkerPresence): Promise<{ current: string | null }>;
  /** A worker stopped: it no longer counts as alive (its row stays a day, for when it was last seen). */
  leave(workerId: string): Promise<void>;
  /** Every version known, newest first, then the runs without one. */
  versions(): Promise<VersionRecord[]>;
  /** Workers seen in the last day, newest first. */
  workers(): Promise<WorkerRecord[]>;
}
