import net from "node:net";
import { Client, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });

// A TCP proxy that can go silent (packets dropped, nothing closed): a network partition.
let frozen = false;
const target = new URL(db.url);
const sockets = new Set<net.Socket>();
const proxy = net.createServer((inbound) => {
  const outbound = net.connect(Number(target.port || 5432), target.hostname);
  sockets.add(inbound).add(outbound);
  inbound.on("data", (d) => void (frozen || outbound.write(d)));
  outbound.on("data", (d) => void (frozen || inbound.write(d)));
  inbound.on("error", () => undefined);
  outbound.on("error", () => undefined);
  inbound.on("close", () => outbound.destroy());
  outbound.on("close", () => inbound.destroy());
});

const aborted: string[] = [];
let attempts = 0;
const long = workflow({ name: "long-step" }, async (ctx) =>
  ctx.step("work", async ({ signal }) => {
    const attempt = ++attempts;
    signal.addEventListener("abort", () => aborted.push(`attempt ${attempt}: ${(signal.reason as Error)?.message}`));
    await new Promise((r) => setTimeout(r, attempt === 1 ? 15_000 : 10));
    return attempt;
  }),
);

let partitioned: Worker;
let healthy: Worker | undefined;
beforeAll(async () => {
  await store.migrate();
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  const viaProxy = `postgres://${target.username}:${target.password}@127.0.0.1:${port}${target.pathname}`;
  partitioned = new Worker({ connectionString: viaProxy, schema: db.schema, workflows: [long], leaseDuration: "2s", pollInterval: "200ms", logger: silentLogger, migrate: false, scheduler: false });
  await partitioned.start();
});
afterAll(async () => {
  await healthy?.stop();
  // End the partition the hard way: the cut-off worker's connections fail, and it can stop.
  for (const socket of sockets) socket.destroy();
  proxy.close();
  await partitioned.stop({ force: true }).catch(() => undefined);
  await store.close();
});

test("a worker cut off from the database aborts its steps once its lease is over, and another worker goes on", async () => {
  const handle = await client.start(long, undefined);
  await waitFor(() => attempts === 1, { what: "the first attempt" });
  frozen = true;
  const cutAt = Date.now();
  healthy = new Worker({ store, workflows: [long], leaseDuration: "2s", pollInterval: "100ms", logger: silentLogger, migrate: false, scheduler: false });
  await healthy.start();
  expect(await handle.result({ timeout: "20s" })).toBe(2);
  await waitFor(() => aborted.length > 0, { what: "the partitioned attempt to be aborted", timeoutMs: 10_000 });
  expect(aborted[0]).toMatch(/^attempt 1: .*lease/);
  expect(Date.now() - cutAt).toBeLessThan(10_000);
}, 40_000);
