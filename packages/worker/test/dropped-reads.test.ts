import { Client, DatabaseError, workflow } from "@reprise/sdk";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { startTcpProxy } from "../../../test-support/tcp-proxy.js";
import { waitFor } from "../../../test-support/wait.js";

// A connection cut while a read holds it (a Postgres restart, a failover, a terminated
// backend) must reject that read, not crash the process with an unhandled 'error' event.

const db = useTestSchema();
const proxy = await startTcpProxy(db.url);
const client = new Client({ connectionString: proxy.url, schema: db.schema });
const locker = new pg.Client({ connectionString: db.url });
afterAll(async () => {
  await locker.end().catch(() => undefined);
  await client.close();
  await proxy.close();
});

test("a read whose connection is cut rejects with a DatabaseError and the process goes on", async () => {
  const wf = workflow({ name: "held" }, async () => "ok");
  const handle = await client.start(wf, undefined);
  await locker.connect();
  await locker.query("BEGIN");
  await locker.query(`LOCK TABLE "${db.schema}".runs IN ACCESS EXCLUSIVE MODE`);
  const status = client.status(handle.id).then(
    () => "resolved",
    (error: unknown) => error,
  );
  // The status read waits on the lock; cut its TCP connection, as a network would.
  await waitFor(async () => {
    const rows = await db.sql(`SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%runs%' AND pid <> pg_backend_pid()`);
    return rows.length > 0;
  });
  proxy.cut();
  expect(await status).toBeInstanceOf(DatabaseError);
  await locker.query("ROLLBACK");
  // Still alive, and the next read gets a fresh connection.
  await new Promise((r) => setTimeout(r, 100));
  expect((await client.status(handle.id)).status).toBe("queued");
});
