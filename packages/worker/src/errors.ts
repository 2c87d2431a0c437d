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

/**
 * A webhook channel's receiver answered with an error status. A 4xx other than 408 and 429
 * is not retried (sending the same request again cannot help); `retryAfterMs` comes from
 * the receiver's `Retry-After`.
 */
export class WebhookError extends RepriseError {
  override name = "WebhookError";
  readonly status: number;
  /** From `Retry-After`, when the receiver said when to come back. */
  readonly retryAfterMs?: number;
  constructor(status: number, origin: string, body: string, retryAfterMs: number | undefined) {
    super(`HTTP ${status} from ${origin}${body ? `: ${body}` : ""}`, {
      code: ErrorCode.WebhookFailed,
      retryable: !(status >= 400 && status < 500 && status !== 408 && status !== 429),
      data: { status, origin },
    });
    this.status = status;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}
