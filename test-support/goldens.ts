import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Client, exportHistory, type ReplayableHistory, type RunHandle, type Workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";

/**
 * A run to record as a golden history: `examples/<name>/golden/scenarios.ts` exports
 * `scenarios: GoldenScenario[]`, and `pnpm goldens` writes `golden/<version>/<name>.json`
 * for each, `<version>` being the release that records it ({@link goldenVersion}).
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

/**
 * The release whose code records goldens now: the `version` of @reprise/sdk, the package
 * whose replay the histories pin.
 */
export const goldenVersion: string = (
  JSON.parse(readFileSync(fileURLToPath(new URL("../packages/sdk/package.json", import.meta.url)), "utf8")) as { version: string }
).version;

const VERSION_DIR = /^\d+\.\d+\.\d+(?:[-+][\w.+-]+)?$/;

/** A golden history, with its file as `source` and the release that recorded it. */
export type Golden = ReplayableHistory & { source: string; version: string };

/**
 * The golden histories of an example, every release's: `dir/<version>/*.json`, oldest
 * release first. A history outside a version folder is an error rather than skipped, so
 * a file put in the old place cannot silently stop being checked.
 */
export function readGoldens(dir: string): Golden[] {
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir, { withFileTypes: true });
  const loose = entries.filter((e) => e.isFile() && e.name.endsWith(".json"));
  if (loose.length) {
    throw new Error(`${relative(process.cwd(), join(dir, loose[0]!.name))} is not in a version folder; move it to ${relative(process.cwd(), dir)}/<version that recorded it>/`);
  }
  const versions = entries
    .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return versions.flatMap((version) =>
    readdirSync(join(dir, version))
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => {
        const file = join(dir, version, f);
        return { ...(JSON.parse(readFileSync(file, "utf8")) as { events: [] }), source: relative(process.cwd(), file), version };
      }),
  );
}

/** What {@link recordGoldens} did: the files it wrote and those it left as they were. */
export interface RecordedGoldens {
  written: string[];
  skipped: string[];
}

/**
 * Runs an example's scenarios on a real worker against `connection`, and writes each run's
 * history to `dir/<goldenVersion>/<scenario>.json`.
 *
 * A file that exists is skipped, never overwritten: a history is what the code of its day
 * did, and a later recording of the same scenario would hide a change the old one catches.
 * Skipping rather than failing lets a release add scenarios without a version bump; to
 * re-record one before the release ships, delete its file.
 */
export async function recordGoldens(
  connection: { connectionString: string; schema: string },
  workflows: Workflow<any, any, any>[],
  scenarios: readonly GoldenScenario[],
  dir: string,
): Promise<RecordedGoldens> {
  const into = join(dir, goldenVersion);
  const fileOf = (scenario: GoldenScenario) => join(into, `${scenario.name}.json`);
  const result: RecordedGoldens = { written: [], skipped: scenarios.map(fileOf).filter((file) => existsSync(file)) };
  const pending = scenarios.filter((scenario) => !result.skipped.includes(fileOf(scenario)));
  if (!pending.length) return result;
  const client = new Client(connection);
  const worker = new Worker({ ...connection, workflows, logger: silentLogger, pollInterval: "100ms", leaseDuration: "5s" });
  await worker.start();
  try {
    for (const scenario of pending) {
      const handle = await client.start(scenario.workflow, scenario.input, { id: `golden-${scenario.name}-${Date.now()}` });
      await scenario.drive?.({ client, handle });
      await handle.result({ timeout: "60s" }).catch(() => undefined);
      const history = await handle.history();
      mkdirSync(into, { recursive: true });
      const file = fileOf(scenario);
      // A stable run id, and paths relative to the repository in recorded stacks, keep
      // recorded files diffable and free of the recording machine's layout.
      const text = JSON.stringify(exportHistory(history, { runId: `golden-${scenario.name}` }), null, 2).replaceAll(`${process.cwd()}/`, "");
      // "wx": should the file appear meanwhile, fail rather than overwrite it.
      writeFileSync(file, `${text}\n`, { flag: "wx" });
      result.written.push(file);
    }
  } finally {
    await worker.stop();
    await client.close();
  }
  return result;
}
