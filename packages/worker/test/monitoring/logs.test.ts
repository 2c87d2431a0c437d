import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Client, RunNotFoundError, ValidationError, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../../test-support/db.js";
import { waitFor } from "../../../../test-support/wait.js";

const db = useTestSchema();
const client = new Client(db.connection);
const bin = fileURLToPath(new URL("../../bin/reprise.js", import.meta.url));

let openGate!: () => void;
const gate = new Promise<void>((resolve) => (openGate = resolve));

const shipment = workflow({ name: "shipment" }, async (ctx, input: { wait: boolean }) => {
  ctx.log.info("booking a carrier", { carrier: "dhl" });
  await ctx.step("book", async ({ log }) => {
    log.info("asked the carrier");
    if (input.wait) await gate;
    log.warn("the carrier answered late");
  });
  await ctx.step("label", ({ log }) => log.debug("printed"));
  ctx.log.info("shipped");
});

let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [shipment], logger: silentLogger, pollInterval: "100ms", progressInterval: "200ms" });
  await worker.start();
});
afterAll(async () => {
  openGate();
  await worker.stop();
  await client.close();
});

test("client.logs returns a run's lines in order, by step, with a limit and a cursor", async () => {
  await client.run(shipment, { wait: false }, { id: "ship-1", timeout: "20s" });
  const lines = await client.logs("ship-1");
  expect(lines.map((l) => [l.level, l.message, l.step, l.position, l.attempt])).toEqual([
    ["info", "booking a carrier", undefined, undefined, undefined],
    ["info", "asked the carrier", "book", 0, 1],
    ["warn", "the carrier answered late", "book", 0, 1],
    ["debug", "printed", "label", 1, 1],
    ["info", "shipped", undefined, undefined, undefined],
  ]);
  expect(lines[0]).toMatchObject({ runId: "ship-1", fields: { carrier: "dhl" } });
  expect(lines[0]!.at).toBeInstanceOf(Date);
  expect((await client.logs("ship-1", { step: "book" })).map((l) => l.message)).toEqual(["asked the carrier", "the carrier answered late"]);
  expect((await client.logs("ship-1", { step: 1 })).map((l) => l.message)).toEqual(["printed"]);
  expect((await client.logs("ship-1", { limit: 2 })).map((l) => l.message)).toEqual(["booking a carrier", "asked the carrier"]);
  expect((await client.logs("ship-1", { after: lines[2]!.id })).map((l) => l.message)).toEqual(["printed", "shipped"]);

  await expect(client.logs("no-such-run")).rejects.toThrow(RunNotFoundError);
  await expect(client.logs("ship-1", { limit: 0 })).rejects.toThrow(ValidationError);
  await expect(client.logs("ship-1", { step: -1 })).rejects.toThrow(ValidationError);
  await expect(client.logs("ship-1", { after: "x" })).rejects.toThrow(ValidationError);
});

test("reprise runs logs --follow prints the lines as they are written and exits 0 when the run ends", async () => {
  await client.start(shipment, { wait: true }, { id: "ship-2" });
  const follower = spawn(process.execPath, [bin, "runs", "logs", "ship-2", "--follow", "--interval", "100ms", "--database-url", db.url, "--schema", db.schema], {
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  follower.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  follower.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = once(follower, "exit");
  try {
    // The step is still running (held at the gate): its first line is printed already.
    await waitFor(() => out.includes("asked the carrier"), { timeoutMs: 15_000, what: `the running step's line (stderr: ${err})` });
    expect(out).not.toContain("answered late");
    openGate();
    const [code] = await exited;
    expect(code).toBe(0);
  } finally {
    follower.kill();
  }
  const printed = out.trim().split("\n");
  expect(printed.map((l) => l.replace(/^\S+ /, ""))).toEqual([
    'info booking a carrier {"carrier":"dhl"}',
    "book#1 info asked the carrier",
    "book#1 warn the carrier answered late",
    "label#1 debug printed",
    "info shipped",
  ]);
  expect(err).toContain("run ship-2 completed");
});
