import { Client, workflow } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import { Worker, silentLogger, type WorkerLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { sleep, waitFor } from "../../../test-support/wait.js";

// A blip that fails lease renewals for a whole lease: the runs held since before it must be
// given up, but a run claimed a moment ago holds a fresh lease and must go on (it used to
// be dropped with the others and run again on the next claim).

const db = useTestSchema();
const real = createStore({ connectionString: db.url, schema: db.schema });
let renewalsFail = false;
let claimsHeld = false;
/**
 * The worker's store, with lease renewals failing while `renewalsFail`, and claims finding
 * nothing while `claimsHeld` (so that the worker cannot take its own lapsed run back before
 * its heartbeat gives it up, which would make what it logs a race).
 */
const store: Store = new Proxy(real, {
  get(target, key, receiver) {
    if (key === "renewLeases" && renewalsFail) return () => Promise.reject(new Error("Connection terminated unexpectedly"));
    if (key === "claimRuns" && claimsHeld) return () => Promise.resolve([]);
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
  await waitFor(() => executions.has(old.id)); // claimed and running
  renewalsFail = true;
  claimsHeld = true;
  // Half a lease into the blip (well before the old lease lapses in the database, even on a
  // slow machine), a run is claimed: its lease is fresh when the others' lapse.
  await sleep(500);
  // A run claimed late in the blip: its lease is fresh when the others' lapse.
  const fresh = await client.start(hold, { ms: 600 }, { id: "claimed-during-the-blip" });
  claimsHeld = false;
  await waitFor(() => executions.has(fresh.id));
  claimsHeld = true;
  const dropped = await waitFor(() => warnings.find((w) => w.includes("dropping")), { timeoutMs: 10_000, what: "the heartbeat to drop the lapsed lease" });
  renewalsFail = false;
  claimsHeld = false;

  expect(dropped).toContain(old.id);
  expect(dropped).not.toContain(fresh.id);
  expect(await fresh.result({ timeout: "10s" })).toBe("done");
  expect(executions.get(fresh.id)).toBe(1);
  // The dropped run is taken again once its lease lapses in the database, and completes.
  expect(await old.result({ timeout: "15s" })).toBe("done");
});
