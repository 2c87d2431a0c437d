import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { Client, exportHistory, type ReplayableHistory, type RunHandle, type Workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";

/**
 * A run to record as a golden history: `examples/<name>/golden/scenarios.ts` exports
 * `scenarios: GoldenScenario[]`, and `pnpm goldens` writes `golden/<name>.json` for each.
 */
export interface GoldenScenario {
  /** The file name, without `.json`. */
  name: string;
  workflow: Workflow<any, any, any>;
  input?: unknown;
  /** Drives the run while it executes (signals, say); the run's end is awaited after it. */
  drive?: (run: { client: Client; handle: RunHandle<unknown> }) => Promise<void>;
}

/** The example folders (`examples/<name>/index.ts`). */
export function exampleDirs(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, "index.ts")))
    .map((d) => d.name)
    .sort();
}

/** The workflows a module exports, directly or in an exported array or object. */
export async function workflowsOf(file: string): Promise<Workflow<any, any, any>[]> {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const found = new Map<string, Workflow<any, any, any>>();
  const add = (value: unknown) => {
    const v = value as Partial<Workflow> | null;
    if (v && typeof v === "object" && typeof v.name === "string" && typeof v.fn === "function" && typeof v.fingerprint === "string") found.set(v.name, v as Workflow);
  };
  for (const value of Object.values(module)) {
    add(value);
    if (Array.isArray(value)) value.forEach(add);
  }
  return [...found.values()];
}

/** The golden histories of an example, each with its file as `source`. */
export function readGoldens(dir: string): (ReplayableHistory & { source: string })[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => ({ ...(JSON.parse(readFileSync(join(dir, f), "utf8")) as { events: [] }), source: relative(process.cwd(), join(dir, f)) }));
}

/**
 * Runs an example's scenarios on a real worker against `connection`, and writes each run's
 * history to `dir/<scenario>.json`. Returns the files written.
 */
export async function recordGoldens(
  connection: { connectionString: string; schema: string },
  workflows: Workflow<any, any, any>[],
  scenarios: readonly GoldenScenario[],
  dir: string,
): Promise<string[]> {
  const client = new Client(connection);
  const worker = new Worker({ ...connection, workflows, logger: silentLogger, pollInterval: "100ms", leaseDuration: "5s" });
  await worker.start();
  const written: string[] = [];
  try {
    for (const scenario of scenarios) {
      const handle = await client.start(scenario.workflow, scenario.input, { id: `golden-${scenario.name}-${Date.now()}` });
      await scenario.drive?.({ client, handle });
      await handle.result({ timeout: "60s" }).catch(() => undefined);
      const history = await handle.history();
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${scenario.name}.json`);
      // A stable run id, and paths relative to the repository in recorded stacks, keep
      // re-recorded files diffable and free of the recording machine's layout.
      const text = JSON.stringify(exportHistory(history, { runId: `golden-${scenario.name}` }), null, 2).replaceAll(`${process.cwd()}/`, "");
      writeFileSync(file, `${text}\n`);
      written.push(file);
    }
  } finally {
    await worker.stop();
    await client.close();
  }
  return written;
}
