import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
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
    throw new UsageError(`could not load ${file}: ${(error as Error).message}`);
  }
  const workflows = collectWorkflows(module);
  return { path, workflows, module };
}

function isWorkflow(value: unknown): value is AnyWorkflow {
  const v = value as Partial<Workflow> | null;
  return typeof v === "object" && v !== null && typeof v.name === "string" && typeof v.fn === "function" && typeof v.fingerprint === "string";
}

/** Workflows exported directly, or in an exported array or object (`export const workflows = [...]`). */
function collectWorkflows(module: Record<string, unknown>): AnyWorkflow[] {
  const found = new Map<string, AnyWorkflow>();
  const add = (value: unknown) => {
    if (isWorkflow(value)) found.set(value.name, value);
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
