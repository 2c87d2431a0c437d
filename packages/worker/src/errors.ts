import { ErrorCode, RepriseError } from "@reprise/sdk";

/** This worker no longer holds the run: another worker claimed it, or it was cancelled or retried. */
export class LeaseLostError extends RepriseError {
  override name = "LeaseLostError";
  constructor(runId: string, why = "another worker took it over or it was stopped from outside") {
    super(`lost the lease of run ${runId}: ${why}`, { code: ErrorCode.LeaseLost, retryable: false, data: { runId } });
  }
}

/** The worker was given workflows it cannot run together, or options out of range. */
export class WorkerConfigError extends RepriseError {
  override name = "WorkerConfigError";
  constructor(message: string) {
    super(message, { code: ErrorCode.WorkerConfig, retryable: false });
  }
}
