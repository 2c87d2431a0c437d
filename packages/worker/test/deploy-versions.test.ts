import { Client, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger, type WorkerOptions } from "@reprise/worker";
import { main } from "@reprise/worker/cli";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

// "fulfil" is pinned: v2 adds a step before the wait without ctx.patched, so a run recorded
// by v1 would diverge under v2. Pinning is what keeps such a deploy from breaking runs.
const fulfilV1 = workflow({ name: "fulfil", versioning: "pinned" }, async (ctx, order: { id: string }) => {
  await ctx.step("reserve", () => order.id);
  await ctx.waitForSignal("ship");
  return ctx.step("ship", () => `${order.id} shipped by v1`);
});
const fulfilV2 = workflow({ name: "fulfil", versioning: "pinned" }, async (ctx, order: { id: string }) => {
  await ctx.step("reserve", () => order.id);
  await ctx.step("fraud-check", () => "ok");
  await ctx.waitForSignal("ship");
  return ctx.step("ship", () => `${order.id} shipped by v2`);
});
// "greet" upgrades: any worker continues it, the new code behind ctx.patched.
const greetV1 = workflow({ name: "greet" }, async (ctx) => {
  await ctx.waitForSignal("go");
  return "v1";
});
const greetV2 = workflow({ name: "greet" }, async (ctx) => {
  const polite = ctx.patched("polite");
  await ctx.waitForSignal("go");
  return polite ? "v2, politely" : "v2 on the old path";
});

const start = async (version: string, workflows: WorkerOptions["workflows"]) => {
  // A short lease: workers see each other's versions within a heartbeat (a third of it).
  const worker = new Worker({ store, version, workflows, leaseDuration: "3s", pollInterval: "50ms", logger: silentLogger, migrate: false });
  await worker.start();
  return worker;
};
const waiting = (id: string) => waitFor(async () => (await client.status(id)).status === "waiting", { what: `run ${id} to wait` });

async function cli(...args: string[]): Promise<string> {
  const out: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  try {
    expect(await main([...args, "--database-url", db.url, "--schema", db.schema])).toBe(0);
  } finally {
    log.mockRestore();
  }
  return out.join("\n");
}

test("two versions side by side: a pinned run started on v1 finishes on v1 while new runs go to v2; with the last v1 worker gone its pinned runs wait for v1", async () => {
  const v1 = await start("v1", [fulfilV1, greetV1]);
  await client.start(fulfilV1, { id: "A" }, { id: "fulfil-A" });
  await client.start(fulfilV1, { id: "D" }, { id: "fulfil-D" });
  await client.start(greetV1, undefined, { id: "greet-C" });
  await Promise.all(["fulfil-A", "fulfil-D", "greet-C"].map(waiting));
  expect(await client.status("fulfil-A")).toMatchObject({ version: "v1", pinned: true });
  expect((await client.status("greet-C")).version).toBe("v1");
  expect((await client.status("greet-C")).pinned).toBeUndefined();

  // The deploy: v2 starts next to v1, which drains once it sees v2.
  const v2 = await start("v2", [fulfilV2, greetV2]);
  let v1Stopped = false;
  try {
    await waitFor(() => v1.draining, { what: "v1 to see v2 and drain" });
    expect(v2.draining).toBe(false);
    const versions = await client.versions();
    expect(versions.map((v) => [v.version, v.state, v.liveWorkers])).toEqual([
      ["v2", "current", 1],
      ["v1", "draining", 1],
      [undefined, "unversioned", 0],
    ]);

    // A new run goes to v2.
    await client.start(fulfilV2, { id: "B" }, { id: "fulfil-B" });
    await waiting("fulfil-B");
    expect(await client.status("fulfil-B")).toMatchObject({ version: "v2", pinned: true });

    // The pinned v1 run goes on on v1; the upgrading one is continued by v2, on the old path.
    await client.signal("fulfil-A", "ship");
    await client.signal("greet-C", "go");
    await client.signal("fulfil-B", "ship");
    expect(await client.handle("fulfil-A").result({ timeout: "10s" })).toBe("A shipped by v1");
    expect(await client.handle("greet-C").result({ timeout: "10s" })).toBe("v2 on the old path");
    expect(await client.handle("fulfil-B").result({ timeout: "10s" })).toBe("B shipped by v2");
    expect((await client.history("fulfil-A")).filter((e) => e.kind === "StepCompleted").map((e) => e.name)).toEqual(["reserve", "ship"]);
    const draining = (await client.versions()).find((v) => v.version === "v1")!;
    expect(draining).toMatchObject({ openRuns: 1, pinnedRuns: 1, state: "draining" });

    // The last v1 worker stops with a pinned run open: the run waits for v1, and says so.
    await v1.stop();
    v1Stopped = true;
    expect((await client.versions()).find((v) => v.version === "v1")).toMatchObject({ state: "stopped", liveWorkers: 0, openRuns: 1, pinnedRuns: 1 });
    expect((await client.status("fulfil-D")).waitingForVersion).toBe("v1");
    const listed = await cli("runs", "list", "--workflow", "fulfil");
    expect(listed.split("\n").find((l) => l.startsWith("fulfil-D"))).toMatch(/waiting \(waits for a worker of version v1\)\s+1\s+v1 pinned/);
    expect((await cli("versions")).split("\n").find((l) => l.startsWith("v1"))).toMatch(/^v1\s+stopped\s+1\s+1\s+0\s+\S+\s+1 pinned run\(s\) wait for a worker of v1$/);

    // Signalled, it is due, and v2 still leaves it alone: a run started after it completes first.
    await client.signal("fulfil-D", "ship");
    await client.start(fulfilV2, { id: "E" }, { id: "fulfil-E" });
    await waiting("fulfil-E");
    const stranded = await client.status("fulfil-D");
    expect(stranded).toMatchObject({ version: "v1", waitingForVersion: "v1" });
    expect(stranded.status).not.toBe("completed");
    expect((await client.history("fulfil-D")).some((e) => e.name === "fraud-check")).toBe(false);

    // A v1 worker comes back (draining: v2 is newer) and finishes it.
    const back = await start("v1", [fulfilV1, greetV1]);
    try {
      expect(await client.handle("fulfil-D").result({ timeout: "10s" })).toBe("D shipped by v1");
      expect(back.draining).toBe(true);
      // A draining worker leaves the registry to the newest code.
      const [declared] = await db.sql<{ fingerprint: string; version: string }>(`SELECT fingerprint, version FROM "${db.schema}".workflows WHERE name = 'fulfil'`);
      expect(declared).toEqual({ fingerprint: fulfilV2.fingerprint, version: "v2" });
    } finally {
      await back.stop();
    }
    expect((await client.versions()).find((v) => v.version === "v1")).toMatchObject({ openRuns: 0, state: "stopped" });
  } finally {
    if (!v1Stopped) await v1.stop();
    await v2.stop();
  }
});

test("a worker's version defaults to REPRISE_VERSION, and a bad one is refused at construction", () => {
  const previous = process.env.REPRISE_VERSION;
  process.env.REPRISE_VERSION = "2026-12-01.1";
  try {
    expect(new Worker({ store, workflows: [greetV1], logger: silentLogger }).version).toBe("2026-12-01.1");
    expect(new Worker({ store, workflows: [greetV1], logger: silentLogger, version: "given" }).version).toBe("given");
  } finally {
    if (previous === undefined) delete process.env.REPRISE_VERSION;
    else process.env.REPRISE_VERSION = previous;
  }
  expect(new Worker({ store, workflows: [greetV1], logger: silentLogger }).version).toBeUndefined();
  expect(() => new Worker({ store, workflows: [greetV1], version: "has space" })).toThrow(/version "has space" is invalid/);
  expect(() => workflow({ name: "w", versioning: "sticky" as never }, async () => undefined)).toThrow(/versioning must be "auto-upgrade" or "pinned"/);
});
