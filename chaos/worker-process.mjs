// A chaos worker process: runs the chaos workflows until it is killed, and reports its memory
// to the harness over IPC. Everything comes from the environment the harness sets.
import { pgConnection } from "@reprise/store";
import { Worker } from "@reprise/worker";
import pg from "pg";
import { chaosWorkflows } from "./workflows.mjs";

const env = process.env;
// The store's connection helper, so that a multi-host DATABASE_URL (the failover test's) works here too.
const { Client, config } = pgConnection(env.DATABASE_URL);
const pool = new pg.Pool({ ...config, Client, max: 4 });
// Postgres restarts and terminated backends are the point: a dead connection is the pool's to drop.
pool.on("error", () => undefined);
pool.on("connect", (client) => client.on("error", () => undefined));
const { all } = chaosWorkflows(pool, env.CHAOS_TABLE);

// Warnings and errors go to stderr, which the harness shows when the process dies on its own.
const line = (level) => (message, fields) => process.stderr.write(`${new Date().toISOString()} ${level} ${message} ${fields ? JSON.stringify(fields) : ""}\n`);
const quiet = () => undefined;
const logger = { debug: quiet, info: quiet, warn: line("warn"), error: line("error"), log: quiet };

const worker = new Worker({
  connectionString: env.DATABASE_URL,
  schema: env.REPRISE_SCHEMA,
  workflows: all,
  concurrency: Number(env.CHAOS_CONCURRENCY ?? 20),
  leaseDuration: Number(env.CHAOS_LEASE_MS ?? 2_000),
  pollInterval: "100ms",
  suspendAfter: "1s",
  shutdownGrace: "1s",
  scheduler: false,
  migrate: false,
  logger,
});
await worker.start();
process.send?.({ type: "ready", pid: process.pid });

const every = Number(env.CHAOS_MEMORY_MS ?? 0);
if (every > 0) {
  const report = () => {
    // With --expose-gc, a collection first: the trend is then of live memory, not of garbage.
    globalThis.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.send?.({ type: "memory", pid: process.pid, rss, heapUsed, at: Date.now() });
  };
  report();
  setInterval(report, every).unref();
}
// Stay alive while connected to the harness; a gone parent means nothing waits for us.
process.on("disconnect", () => process.exit(0));
