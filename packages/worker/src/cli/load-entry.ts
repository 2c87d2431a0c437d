import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Workflow, AnyWorkflow } from "@reprise/sdk";
import { UsageError } from "./cli-error.js";

/** What an entry file exports that the CLI uses. */
export interface Entry {
  path: string;
  workflows: AnyWorkflow[];
  module: Record<string, unknown>;
}

let tsxRegistered = false;

/**
 * Imports a file that exports workflows. TypeScript files load through tsx, so a plain
 * `node` runs `reprise dev src/workflows.ts` with no build step.
 */
export async function loadEntry(file: string): Promise<Entry> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`entry file not found: ${file}`);
  if (/\.[mc]?tsx?$/.test(path) && !tsxRegistered) {
    const { register } = await import("tsx/esm/api");
    register();
    tsxRegistered = true;
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`could not load ${file}: ${describeLoadError(error, path)}`, { cause: error });
  }
  const workflows = collectWorkflows(module);
  return { path, workflows, module };
}

interface TransformMessage {
  text: string;
  location?: { file: string; line: number; column: number } | null;
}

/**
 * What went wrong loading an entry, in one line that points at the problem: a syntax error
 * as `file:line:column: message` (tsx's compiler reports it on a later line of its message,
 * which the one-line output would cut), not "Transform failed with 1 error:".
 */
export function describeLoadError(error: unknown, file?: string): string {
  const errors = (error as { errors?: TransformMessage[] } | null)?.errors;
  const first = Array.isArray(errors) ? errors.find((e) => e.location) ?? errors[0] : undefined;
  if (first) {
    const where = first.location ? `${relative(process.cwd(), first.location.file)}:${first.location.line}:${first.location.column + 1}: ` : "";
    const more = errors!.length > 1 ? ` (and ${errors!.length - 1} more; --verbose shows them)` : "";
    return `${where}${first.text}${more}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/Cannot require\(\) ES Module/.test(message)) {
    return `${message.split("\n")[0]} — the entry is loaded as CommonJS: add "type": "module" to the nearest package.json, or name it .mts`;
  }
  // tsx passes the compiler's report on as text: "…\n/path/file.ts:2:67: ERROR: Unexpected ';'".
  const compiler = /([^\s:]+):(\d+):(\d+): ERROR: (.+)/.exec(message);
  if (compiler) return `${relative(process.cwd(), compiler[1]!)}:${compiler[2]}:${compiler[3]}: ${compiler[4]}`;
  // Node does not say where a syntax error of an imported module is; `node --check` does.
  if (error instanceof SyntaxError && file && /\.[mc]?js$/.test(file)) {
    const check = spawnSync(process.execPath, ["--check", file], { encoding: "utf8" });
    const where = /^(\S+):(\d+)\s*$/m.exec(check.stderr ?? "");
    if (where) return `${relative(process.cwd(), where[1]!.startsWith("file:") ? fileURLToPath(where[1]!) : where[1]!)}:${where[2]}: ${message}`;
  }
  const lines = message.split("\n").filter((l) => l.trim());
  return lines.length <= 1 ? message : `${lines[0]} (--verbose for more)`;
}

function isWorkflow(value: unknown): value is AnyWorkflow {
  const v = value as Partial<Workflow> | null;
  return typeof v === "object" && v !== null && typeof v.name === "string" && typeof v.fn === "function" && typeof v.fingerprint === "string";
}

/** Workflows exported directly, or in an exported array or object (`export const workflows = [...]`). */
function collectWorkflows(module: Record<string, unknown>): AnyWorkflow[] {
  const found = new Map<string, AnyWorkflow>();
  const add = (value: unknown) => {
    if (!isWorkflow(value)) return;
    const seen = found.get(value.name);
    // The same definition exported twice is one workflow; two definitions of one name would
    // leave it to chance which code runs a run.
    if (seen && seen !== value) throw new UsageError(`the entry defines two workflows named "${value.name}": give each a name of its own`);
    found.set(value.name, value);
  };
  for (const value of Object.values(module)) {
    add(value);
    if (Array.isArray(value)) value.forEach(add);
    else if (value && typeof value === "object" && !isWorkflow(value)) Object.values(value).forEach(add);
  }
  return [...found.values()];
}

/** Loads an entry and insists that it exports at least one workflow. */
export async function loadWorkflows(file: string): Promise<Entry> {
  const entry = await loadEntry(file);
  if (entry.workflows.length === 0) throw new UsageError(`${file} exports no workflows (export the values workflow() returns)`);
  return entry;
}
