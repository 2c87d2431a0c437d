import type { LogRecord } from "@reprise/store";
import { ValidationError } from "./errors.js";
import { unstorableIn } from "./json.js";
import type { LogEntry } from "./replay/host.js";

/** A `ctx.log` / `stepCtx.log` line as `client.logs()` returns it. */
export interface RunLogLine {
  /** Increases with every line written to the run: pass the last one seen as `after` to read on. */
  id: string;
  runId: string;
  /** When it was logged (the database's clock). */
  at: Date;
  level: LogEntry["level"];
  message: string;
  fields?: Record<string, unknown>;
  /** The step that logged it (`stepCtx.log`), with its position and attempt. */
  step?: string;
  position?: number;
  attempt?: number;
}

/** Options of `client.logs`. */
export interface LogsOptions {
  /** Only the lines of this step: its name, or its position. */
  step?: string | number;
  /**
   * At most this many lines, oldest first (at most 10,000).
   * @default 1000
   */
  limit?: number;
  /** Only lines after this one (a {@link RunLogLine.id}), to follow a run. */
  after?: string;
}

/** Checks `client.logs` options once, as the store takes them. */
export function resolveLogsOptions(options: LogsOptions): { step?: string | number; limit: number; afterId?: string } {
  const { step, limit = 1000, after } = options ?? {};
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new ValidationError(`limit must be an integer from 1 to 10000, got ${String(limit)}`);
  }
  if (step !== undefined && !(typeof step === "string" && step.length > 0 && !unstorableIn(step)) && !(Number.isInteger(step) && (step as number) >= 0)) {
    throw new ValidationError(`step must be a step's name or position, got ${JSON.stringify(step)}`);
  }
  if (after !== undefined && !/^\d{1,19}$/.test(String(after))) throw new ValidationError(`after must be a log line's id, got ${JSON.stringify(after)}`);
  return { limit, ...(step === undefined ? {} : { step }), ...(after === undefined ? {} : { afterId: String(after) }) };
}

export function toRunLogLine(runId: string, r: LogRecord): RunLogLine {
  const line: RunLogLine = { id: r.id, runId, at: r.at, level: r.level as LogEntry["level"], message: r.message };
  if (r.fields !== null && r.fields !== undefined) line.fields = r.fields as Record<string, unknown>;
  if (r.step !== null) line.step = r.step;
  if (r.position !== null) line.position = r.position;
  if (r.attempt !== null) line.attempt = r.attempt;
  return line;
}
