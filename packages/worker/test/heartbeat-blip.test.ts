import { Client, workflow } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import { Worker, silentLogger, type WorkerLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep } from "../../../test-support/wait.js";

// A blip that fails lease renewals for a whole lease: the runs held since before it must be
// given up, but a run claimed a moment ago holds a fresh lease and must go on (it used to
// be dropped with the others and run again on the next claim).

const db = useTestSchema();
const real = createStore({ connectionString: db.url, schema: db.schema });
let renewalsFail = false;
/** The worker's store, with lease renewals failing while `renewalsFail`. */
const store: Store = new Proxy(real, {
  get(target, key, receiver) {
    if (key === "renewLeases" && renewalsFail) return () => Promise.reject(new Error("Connection terminated unexpectedly"));
    const value = Reflect.get(target, key, receiver) as unknown;
    return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
  },
});
const client = new Client({ store: real, migrate: false });
const warnings: string[] = [];
const logger: WorkerLogger = { ...silentLogger, warn: (message) => void warnings.push(message) };

const executions = new Map<string, number>();
const hold = workflow({ name: "held-through-a-blip" }, async (ctx, input: { ms: number }) =>
  ctx.step("work", async () => {
    executions.set(ctx.runId, (executions.get(ctx.runId) ?? 0) + 1);
    await sleep(input.ms);
    return "done";
  }),
);

let worker: Worker;
beforeAll(async () => {
  await real.migrate();
  worker = new Worker({ store, workflows: [hold], leaseDuration: "1s", heartbeatInterval: "100ms", pollInterval: "50ms", logger, migrate: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await real.close();
});

test("renewals failing for a whole lease drop the runs held before, not a run claimed a moment ago", async () => {
  const old = await client.start(hold, { ms: 3_000 }, { id: "held-before-the-blip" });
  await sleep(300); // claimed and running
  renewalsFail = true;
  await sleep(800);
  const fresh = await client.start(hold, { ms: 600 }, { id: "claimed-during-the-blip" });
  await sleep(400); // the old lease has lapsed by now; the fresh one is 300-400 ms old
  renewalsFail = false;

  expect(await fresh.result({ timeout: "10s" })).toBe("done");
  expect(executions.get(fresh.id)).toBe(1);
  const dropped = warnings.find((w) => w.includes("dropping"));
  expect(dropped).toContain(old.id);
  expect(dropped).not.toContain(fresh.id);
  // The dropped run is taken again once its lease lapses in the database, and completes.
  expect(await old.result({ timeout: "15s" })).toBe("done");
});
