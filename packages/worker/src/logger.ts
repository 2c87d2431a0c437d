import type { LogEntry } from "@reprise/sdk";

/** Where a worker reports what it does, and where `ctx.log` lines are shown. */
export interface WorkerLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A `ctx.log` line of a run (already persisted). */
  run?(entry: LogEntry, runId: string, workflowName: string): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

function format(fields?: Record<string, unknown>): string {
  if (!fields || Object.keys(fields).length === 0) return "";
  try {
    return ` ${JSON.stringify(fields)}`;
  } catch {
    return " [unserialisable fields]";
  }
}

/**
 * Logs to the console: the worker's own messages and runs' `ctx.log` lines at `level` and
 * above (warnings and errors to stderr).
 */
export function consoleLogger(options: { level?: LogLevel; runLevel?: LogLevel } = {}): WorkerLogger {
  const min = LEVELS[options.level ?? "info"];
  const runMin = LEVELS[options.runLevel ?? options.level ?? "info"];
  const out = (level: Exclude<LogLevel, "silent">) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
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
