import { createServer } from "node:net";
import { createStore, isConnectionError, pgConnection } from "@reprise/store";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { startTcpProxy } from "../../../test-support/tcp-proxy.js";

// node-postgres reads one host per connection string; the store takes libpq's host lists
// (`h1:p1,h2:p2`) with target_session_attrs. The failover test runs it against a real
// standby promotion; these pin the host choice on one server.

const db = useTestSchema();
const target = new URL(db.url);

/** `db.url` with its host replaced by a list of `127.0.0.1:port`. */
function withHosts(ports: number[], params = ""): string {
  const auth = `${target.username}:${target.password}@`;
  return `postgres://${auth}${ports.map((p) => `127.0.0.1:${p}`).join(",")}${target.pathname}${params}`;
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

test("node-postgres itself refuses a connection string with several hosts", () => {
  expect(() => new pg.Client({ connectionString: withHosts([5432, 5433]) })).toThrow(/Invalid URL/);
});

test("a store on a host list connects to the first host that answers and takes writes", async () => {
  const down = await closedPort();
  const store = createStore({ connectionString: withHosts([down, Number(target.port)], "?target_session_attrs=read-write"), schema: db.schema, poolSize: 2 });
  try {
    await store.migrate();
    await store.startRuns([{ id: "multi-1", workflow: "w", queue: "default" }]);
    expect((await store.getRun("multi-1"))?.status).toBe("queued");
  } finally {
    await store.close();
  }
});

test("read-write skips servers that are read-only and says so when none takes writes", async () => {
  const role = `ro_${db.schema}`;
  await db.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'ro' IN ROLE pg_read_all_data`);
  await db.sql(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
  try {
    const url = withHosts([Number(target.port), Number(target.port)], "?target_session_attrs=read-write").replace(`${target.username}:${target.password}@`, `${role}:ro@`);
    const { Client, config } = pgConnection(url);
    const client = new Client(config);
    const error = await client.connect().then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/no host of the connection string takes writes \(127\.0\.0\.1:\d+ is read-only; 127\.0\.0\.1:\d+ is read-only\)/);
    expect(isConnectionError(error)).toBe(true);
    // `any` takes the first that answers, read-only or not.
    const anyHost = pgConnection(url.replace("read-write", "any"));
    const any = new anyHost.Client(anyHost.config);
    await any.connect();
    expect((await any.query("SHOW transaction_read_only")).rows[0]).toEqual({ transaction_read_only: "on" });
    await any.end();
  } finally {
    await db.sql(`DROP ROLE ${role}`);
  }
});

test("when the host in use dies, one connection attempt fails and the next finds another host", async () => {
  const first = await startTcpProxy(db.url);
  const second = await startTcpProxy(db.url);
  const port = (url: string) => Number(new URL(url).port);
  const { Client, config } = pgConnection(withHosts([port(first.url), port(second.url)], "?target_session_attrs=read-write"));
  const pool = new pg.Pool({ ...config, Client, max: 1 });
  pool.on("error", () => undefined);
  afterAll(() => pool.end());
  const serverPort = async () => (await pool.query<{ port: number }>("SELECT inet_client_port() AS port")).rows[0]!.port;
  await serverPort();
  await first.close(); // the primary's address stops answering
  first.cut();
  const outcomes: string[] = [];
  for (let i = 0; i < 3 && outcomes.at(-1) !== "ok"; i++) {
    outcomes.push(await serverPort().then(() => "ok", (e: unknown) => (isConnectionError(e) ? "connection error" : String(e))));
  }
  // The connection that was cut, or the first new one tried on the dead host, fails as a
  // connection error (which the worker retries); after that the other host serves.
  expect(outcomes.at(-1)).toBe("ok");
  expect(outcomes.slice(0, -1).every((o) => o === "connection error")).toBe(true);
  expect(outcomes.length).toBeLessThanOrEqual(3);
  await second.close();
});

test("a target_session_attrs it cannot honour is refused in words", () => {
  expect(() => createStore({ connectionString: withHosts([1, 2], "?target_session_attrs=prefer-standby") })).toThrow(
    /target_session_attrs=prefer-standby is not supported with several hosts/,
  );
  expect(() => createStore({ connectionString: "postgres://u@127.0.0.1:1,not a host:2/db" })).toThrow(/no host\[:port\]/);
});
