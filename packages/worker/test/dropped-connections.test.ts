import { Client, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
const calls = new Map<number, number>();
const steps = workflow({ name: "eight-steps" }, async (ctx) => {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    out.push(await ctx.step(`s${i}`, async () => (calls.set(i, (calls.get(i) ?? 0) + 1), await sleep(250), i)));
  }
  await ctx.sleep("3s");
  return out;
});

// The worker's connections carry an application_name, so that only they are killed (other
// test files share this server).
const application = `drop-${db.schema}`;
let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  const url = new URL(db.url);
  url.searchParams.set("application_name", application);
  worker = new Worker({ connectionString: url.toString(), schema: db.schema, workflows: [steps], pollInterval: "200ms", leaseDuration: "5s", logger: silentLogger, migrate: false, scheduler: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

test("a worker whose every database connection is killed three times mid-run completes the run, each step once", async () => {
  const handle = await client.start(steps, undefined);
  let killed = 0;
  for (let k = 0; k < 3; k++) {
    await sleep(700);
    const [row] = await db.sql<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [application],
    );
    killed += row!.n;
  }
  expect(killed).toBeGreaterThan(0);
  expect(await handle.result({ timeout: "30s" })).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect([...calls.values()].every((n) => n === 1)).toBe(true);
}, 60_000);
