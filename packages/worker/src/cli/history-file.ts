import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { exportHistory, parseHistory, type HistoryEvent, type ParsedHistory } from "@reprise/sdk";
import { UsageError } from "./cli-error.js";

/** True when a `reprise replay` argument names a history file rather than a run id. */
export function isHistoryFile(arg: string): boolean {
  return arg.endsWith(".json") || existsSync(arg);
}

/** Reads a history written by `--export` (or `runs show --json`, or a JSON array of events). */
export function readHistoryFile(file: string): ParsedHistory {
  if (!existsSync(file)) throw new UsageError(`history file not found: ${file}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as unknown;
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  try {
    return parseHistory(json, file);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Writes a run's history as a `reprise-history/1` document (what `replay <file>` reads). */
export function writeHistoryFile(file: string, events: readonly HistoryEvent[], runId: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(exportHistory(events, { runId }), null, 2)}\n`);
}
