import type { WorkflowStatsRecord } from "@reprise/store";
import { toMillis, type Duration } from "./duration.js";
import { ValidationError } from "./errors.js";
import { unstorableIn } from "./json.js";

/** Options of `client.stats`. */
export interface StatsOptions {
  /** Only this workflow. @default every workflow */
  workflow?: string;
  /**
   * The window: runs that ended since this time, or this long before now (the database's).
   * @default "7d"
   */
  since?: Date | Duration;
}

/**
 * One workflow's numbers over a window, read from the event log of every worker. Counts
 * are of run endings: a run that failed, was retried and completed counts once as failed
 * and once as completed (its recovery is then the time between the two).
 */
export interface WorkflowStats {
  workflowName: string;
  /** Runs that ended in the window (each once, however often it ended). */
  runs: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** completed / (completed + failed): cancellations are a person's decision, not a failure. Null without either. */
  successRate: number | null;
  /** Failed attempts that were retried (StepAttemptFailed events) in the window. */
  stepRetries: number;
  /**
   * Mean time from a failed run of the workflow to its next completed run (an incident
   * made of several failures counts from the first). Null when no failure recovered.
   */
  meanTimeToRecoveryMs: number | null;
  /** Mean time from a step's first failed attempt to the attempt that succeeded. Null when none recovered. */
  stepMeanTimeToRecoveryMs: number | null;
  /** Percentiles of run durations (first start to ending) over the window's endings. Null when none had started. */
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

/** The store's window for `client.stats` options. */
export function resolveStatsOptions(options: StatsOptions): { workflow?: string; since?: Date; sinceMs?: number } {
  const { workflow, since = "7d" } = options ?? {};
  if (workflow !== undefined && (typeof workflow !== "string" || workflow.length === 0 || unstorableIn(workflow))) {
    throw new ValidationError(`workflow must be a workflow's name, got ${JSON.stringify(workflow)}`);
  }
  const window: { workflow?: string; since?: Date; sinceMs?: number } = workflow === undefined ? {} : { workflow };
  if (since instanceof Date) {
    if (Number.isNaN(since.getTime())) throw new ValidationError("since must be a valid Date or a duration");
    window.since = since;
  } else {
    try {
      window.sinceMs = toMillis(since);
    } catch (error) {
      throw new ValidationError((error as Error).message);
    }
  }
  return window;
}

export function toWorkflowStats(r: WorkflowStatsRecord): WorkflowStats {
  const decided = r.completed + r.failed;
  return {
    workflowName: r.workflow,
    runs: r.runs,
    completed: r.completed,
    failed: r.failed,
    cancelled: r.cancelled,
    successRate: decided === 0 ? null : r.completed / decided,
    stepRetries: r.stepRetries,
    meanTimeToRecoveryMs: r.meanTimeToRecoveryMs,
    stepMeanTimeToRecoveryMs: r.stepMeanTimeToRecoveryMs,
    p50DurationMs: r.p50DurationMs,
    p95DurationMs: r.p95DurationMs,
  };
}
