import type { LogEntry } from "@reprise/sdk";

/** Where a worker reports what it does, and where `ctx.log` lines are shown. */
export interface WorkerLogger {
  /** A message of the worker's own at level `debug`. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** A message of the worker's own at level `info`. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** A message of the worker's own at level `warn`. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** A message of the worker's own at level `error`. */
  error(message: string, fields?: Record<string, unknown>): void;
  /** A `ctx.log` line of a run (already persisted). */
  run?(entry: LogEntry, runId: string, workflowName: string): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
/** A logger's threshold: `silent` shows nothing. */
export type LogLevel = keyof typeof LEVELS;
export const LOG_LEVELS = Object.keys(LEVELS) as LogLevel[];

function format(fields?: Record<string, unknown>): string {
  if (!fields || Object.keys(fields).length === 0) return "";
  try {
    return ` ${JSON.stringify(fields)}`;
  } catch {
    return " [unserialisable fields]";
  }
}

/** Options of {@link consoleLogger}. */
export interface ConsoleLoggerOptions {
  /** The worker's own messages at this level and above. @default "info" */
  level?: LogLevel;
  /** Runs' `ctx.log` lines at this level and above. @default level */
  runLevel?: LogLevel;
  /**
   * `"text"`: a line for a person. `"json"`: one JSON object a line (`time`, `level`, `msg`,
   * the fields, and `runId`, `workflow`, `step`, `attempt` for a run's lines), for log
   * aggregators. Everything goes to stdout in JSON, warnings and errors to stderr in text.
   * @default "text"
   */
  format?: LogFormat;
}

export const LOG_FORMATS = ["text", "json"] as const;
/** How `consoleLogger` writes: `text` for people, `json` for log aggregators. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** One JSON line; fields that JSON cannot hold are named rather than lost with the line. */
function jsonLine(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value));
  } catch {
    return JSON.stringify({ time: record.time, level: record.level, msg: record.msg, fields: "[unserialisable fields]" });
  }
}

/**
 * Logs to the console: the worker's own messages and runs' `ctx.log` lines at `level` and
 * above (as text, warnings and errors to stderr; or as JSON lines on stdout).
 *
 * ```ts
 * new Worker({ …, logger: consoleLogger({ level: "info", format: "json" }) });
 * ```
 */
export function consoleLogger(options: ConsoleLoggerOptions = {}): WorkerLogger {
  const min = LEVELS[options.level ?? "info"];
  const runMin = LEVELS[options.runLevel ?? options.level ?? "info"];
  const json = options.format === "json";
  const out = (level: Exclude<LogLevel, "silent">) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    if (json) return void console.log(jsonLine({ time: new Date().toISOString(), level, msg: message, ...fields }));
    const line = `[reprise] ${level} ${message}${format(fields)}`;
    if (LEVELS[level] >= LEVELS.warn) console.error(line);
    else console.log(line);
  };
  return {
    debug: out("debug"),
    info: out("info"),
    warn: out("warn"),
    error: out("error"),
    run(entry, runId, workflowName) {
      if (LEVELS[entry.level] < runMin) return;
      if (json) {
        const { at, level, message, fields, step, attempt, position } = entry;
        return void console.log(jsonLine({ time: at, level, msg: message, ...fields, runId, workflow: workflowName, ...(step ? { step, attempt, position } : {}) }));
      }
      const where = entry.step ? ` ${entry.step}#${entry.attempt ?? 1}` : "";
      const line = `[${workflowName} ${runId}${where}] ${entry.level} ${entry.message}${format(entry.fields)}`;
      if (LEVELS[entry.level] >= LEVELS.warn) console.error(line);
      else console.log(line);
    },
  };
}

/** Says nothing. */
export const silentLogger: WorkerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  run: () => undefined,
};
