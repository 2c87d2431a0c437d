import { toMillis, type Duration } from "./duration.js";
import { CancelledError, ResultTimeoutError, WorkflowFailedError } from "./errors.js";
import { deserializeError, type SerializedError } from "./error-codec.js";
import type { HistoryEvent } from "./events.js";
import type { RunInfo } from "./run-info.js";

/** The calls of a `Client` a handle makes for its run. */
export interface RunSteering {
  status(runId: string): Promise<RunInfo>;
  /**
   * The run once it has ended (its output loaded if stored out of line), else undefined:
   * what `result()` polls, reading no large value while it waits.
   */
  settled(runId: string): Promise<RunInfo | undefined>;
  history(runId: string): Promise<HistoryEvent[]>;
  signal(runId: string, name: string, payload?: unknown): Promise<void>;
  cancel(runId: string, reason?: string): Promise<void>;
  retry<O>(runId: string): Promise<RunHandle<O>>;
}

const FIRST_POLL_MS = 2;
const MAX_POLL_MS = 250;

/**
 * A run, by id: wait for its result, look at it, steer it.
 *
 * ```ts
 * const handle = await client.start(report, { day: "2026-11-21" });
 * console.log(await handle.status());
 * const pdf = await handle.result({ timeout: "10m" });
 * ```
 */
export class RunHandle<O = unknown> {
  constructor(
    private readonly client: RunSteering,
    readonly id: string,
  ) {}

  /**
   * Waits until the run ends (polling with backoff) and returns its output.
   *
   * @throws WorkflowFailedError when the run failed or was cancelled (`cause` is its error);
   *   ResultTimeoutError after `timeout` (the run goes on); RunNotFoundError
   */
  async result(options: { timeout?: Duration } = {}): Promise<O> {
    const timeoutMs = options.timeout === undefined ? undefined : toMillis(options.timeout);
    const started = Date.now();
    let delay = FIRST_POLL_MS;
    for (;;) {
      const info = await this.client.settled(this.id);
      if (info?.status === "completed") return info.output as O;
      if (info) throw failureOf(info);
      if (timeoutMs !== undefined && Date.now() - started >= timeoutMs) throw new ResultTimeoutError(this.id, timeoutMs);
      const wait = timeoutMs === undefined ? delay : Math.min(delay, Math.max(1, timeoutMs - (Date.now() - started)));
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(MAX_POLL_MS, Math.ceil(delay * 1.5));
    }
  }

  /** The run as it is now. @throws RunNotFoundError */
  status(): Promise<RunInfo> {
    return this.client.status(this.id);
  }

  /** The run's events in order. @throws RunNotFoundError */
  history(): Promise<HistoryEvent[]> {
    return this.client.history(this.id);
  }

  /** Sends the run a signal: see `Client.signal`. */
  signal(name: string, payload?: unknown): Promise<void> {
    return this.client.signal(this.id, name, payload);
  }

  /** Cancels the run: see `Client.cancel`. */
  cancel(reason?: string): Promise<void> {
    return this.client.cancel(this.id, reason);
  }

  /** Resumes the failed or cancelled run in place: see `Client.retry`. */
  async retry(): Promise<RunHandle<O>> {
    return this.client.retry<O>(this.id);
  }
}

function failureOf(info: RunInfo): WorkflowFailedError {
  const stored = info.error as SerializedError | undefined;
  const cause = stored
    ? deserializeError(stored)
    : info.status === "cancelled"
      ? new CancelledError("the run was cancelled", { runId: info.id })
      : new Error("the run failed");
  return new WorkflowFailedError(info.id, cause);
}
