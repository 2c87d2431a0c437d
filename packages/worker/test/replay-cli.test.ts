import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { orderCheckout } from "../../../examples/order-checkout/workflow.js";
import { demoOrders } from "../../../examples/order-checkout/index.js";
import { useTestSchema } from "../../../test-support/db.js";
import { main } from "../src/cli/main.js";

const db = useTestSchema();
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = join(repo, "packages/worker/bin/reprise.js");
const entry = "examples/order-checkout/index.ts";
const dbFlags = ["--database-url", db.url, "--schema", db.schema];

/** "parcel" as it runs today; fixtures/parcel-v2.ts is the next deploy. */
const parcel = workflow({ name: "parcel" }, async (ctx, input: { express: boolean }) => {
  const label = await ctx.step("print-label", () => "label");
  await ctx.step(input.express ? "book-express" : "book-post", () => "booked");
  return label;
});

/** Runs the CLI in this process; returns its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

let client: Client;
let worker: Worker;
beforeAll(async () => {
  client = new Client(db.connection);
  worker = new Worker({ ...db.connection, workflows: [orderCheckout, parcel], logger: silentLogger, pollInterval: "100ms" });
  await worker.start();
  for (const order of demoOrders) {
    await client
      .start(orderCheckout, order, { id: `order-${order.orderId}` })
      .then((h) => h.result({ timeout: "20s" }))
      .catch(() => undefined);
  }
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

describe("reprise replay", () => {
  test("reproduces a failed run from the database: its timeline, and the recorded error", async () => {
    expect((await client.status("order-A-1002")).status).toBe("failed");
    const { code, out } = await cli("replay", "order-A-1002", "--entry", entry, ...dbFlags);
    expect(code).toBe(0);
    expect(out).toContain("Replaying run order-A-1002 (order-checkout, failed) from the database");
    expect(out).toMatch(/#\s+call\s+name\s+status\s+att\s+took\s+at\s+detail/);
    expect(out).toMatch(/2\s+step\s+quote-shipping\s+completed\s+2\s/);
    expect(out).toContain("attempt 1 failed after");
    expect(out).toMatch(/3\s+step\s+charge-card\s+failed\s+1\s/);
    expect(out).toContain("at chargeCard (examples/order-checkout/workflow.ts:");
    expect(out).toContain("replay: failed, as recorded");
    expect(out).toContain("card declined: 2500499 cents is over the card's limit of 100000");
  });

  test("an exported history replays from its file with no database at all", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "reprise-replay-")), "order.json");
    const exported = await cli("replay", "order-A-1002", "--export", file, ...dbFlags);
    expect(exported.code).toBe(0);
    expect(exported.out).toContain(`wrote ${file}`);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ format: "reprise-history/1", runId: "order-A-1002", workflowName: "order-checkout" });

    // A database URL that nothing answers: the command must not need it.
    const env = { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/nothing", NO_COLOR: "1" };
    const { stdout } = await promisify(execFile)(process.execPath, [bin, "replay", file, "--entry", entry], { cwd: repo, env });
    expect(stdout).toContain(`Replaying run order-A-1002 (order-checkout) from ${file}`);
    expect(stdout).toContain("replay: failed, as recorded");
  });

  test("after a step is renamed, prints the divergence at its position with both names, and exits 1", async () => {
    const { code, out, err } = await cli("replay", "order-A-1002", "--entry", "packages/worker/test/fixtures/checkout-renamed.ts", ...dbFlags);
    expect(code).toBe(1);
    expect(out).toContain("replay: DIVERGED at position 2");
    expect(out).toMatch(/the history recorded\s+StepCompleted "quote-shipping"/);
    expect(out).toMatch(/today's code makes\s+StepCompleted "quote-carrier"/);
    expect(out).toContain('✗ today\'s code makes StepCompleted "quote-carrier" here');
    expect(out).toContain("ctx.patched");
    expect(err).toBe("reprise: run order-A-1002 diverges from today's code at position 2");
  });

  test("--until stops after that position", async () => {
    const { code, out } = await cli("replay", "order-A-1002", "--entry", entry, "--until", "1", ...dbFlags);
    expect(code).toBe(0);
    expect(out).toContain("price-cart");
    expect(out).not.toContain("quote-shipping  completed");
    expect(out).toContain("replay: stopped after position 1 (--until); the run went on with quote-shipping at position 2");
  });

  test("--json prints the report for scripts", async () => {
    const { code, out } = await cli("replay", "order-A-1001", "--entry", entry, "--json", ...dbFlags);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { outcome: string; recordedOutcome: string; output: { total: number }; events: unknown[] };
    expect(report).toMatchObject({ outcome: "completed", recordedOutcome: "completed", output: { total: 2500 } });
    expect(report.events.length).toBeGreaterThan(3);
  });

  test("--break-on-failure without a debugger says how to get one and replays on", async () => {
    const { code, out } = await cli("replay", "order-A-1002", "--entry", entry, "--break-on-failure", ...dbFlags);
    expect(code).toBe(0);
    expect(out).toContain("--break-on-failure needs a debugger");
    expect(out).toContain("replay: failed, as recorded");
  });

  test("under a debugger, --break-on-failure pauses before the recorded failure, the workflow's recorded values in scope", async () => {
    const fixture = join(repo, "packages/worker/test/fixtures/debug-replay.mjs");
    const golden = "examples/order-checkout/golden/0.1.0/shipped-card-declined.json";
    const { stdout } = await promisify(execFile)(process.execPath, [fixture, golden, entry], { cwd: repo, env: { ...process.env, NO_COLOR: "1" } });
    const { code, pauses } = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      code: number;
      pauses: { reason: string; at: string; frames: string[]; workflowLocals: Record<string, unknown> }[];
    };
    expect(code).toBe(0);
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toMatchObject({ reason: "other", at: "pauseBeforeRecordedFailure" });
    expect(pauses[0]!.frames).toContain("runStep");
    // The bug, visible in the workflow's own frame: the carrier's price was a string.
    expect(pauses[0]!.workflowLocals).toMatchObject({ subtotal: 2500, total: "2500499" });
  });

  test("bad input is one line and a non-zero exit", async () => {
    expect(await cli("replay")).toMatchObject({ code: 2 });
    expect(await cli("replay", "missing.json", "--entry", entry)).toMatchObject({ code: 2, err: "reprise: history file not found: missing.json" });
    expect(await cli("replay", "no-such-run", "--entry", entry, ...dbFlags)).toMatchObject({ code: 1, err: 'reprise: no run with id "no-such-run"' });
    // Without --entry, the entries `reprise dev` looks for: here, examples/index.ts.
    const defaulted = await cli("replay", "order-A-1002", ...dbFlags);
    expect(defaulted).toMatchObject({ code: 0 });
    expect(defaulted.out).toContain("against examples/index.ts");
    const wrong = await cli("replay", "order-A-1002", "--entry", "packages/worker/test/fixtures/parcel-v2.ts", ...dbFlags);
    expect(wrong).toMatchObject({ code: 2, err: 'reprise: packages/worker/test/fixtures/parcel-v2.ts exports no workflow "order-checkout" (it has: parcel)' });
  });
});

describe("reprise replay --workflow --since", () => {
  test("finds the one run among several that would diverge, and exits 1 listing it", async () => {
    const inputs = [false, false, true, false, false];
    for (const [i, express] of inputs.entries()) {
      await client.start(parcel, { express }, { id: `parcel-${i}` }).then((h) => h.result({ timeout: "20s" }));
    }
    const { code, out, err } = await cli("replay", "--workflow", "parcel", "--since", "1h", "--entry", "packages/worker/test/fixtures/parcel-v2.ts", ...dbFlags);
    expect(code).toBe(1);
    expect(out).toContain("Replaying runs of parcel started since");
    expect(out).toMatch(/✗ parcel-2\s+diverged\s+run parcel-2 diverged from its history at position 1/);
    expect(out).toContain("4 of 5 runs replay clean (4 completed); 1 would not:");
    expect(out).not.toMatch(/✗ parcel-[0134]/);
    expect(err).toBe("reprise: 1 of 5 runs of parcel would not replay against today's code");

    const clean = await cli("replay", "--workflow", "parcel", "--since", "1h", "--entry", "packages/worker/test/fixtures/parcel-v2.ts", "--status", "running", ...dbFlags);
    expect(clean).toMatchObject({ code: 0 });
    expect(clean.out).toContain("no runs of parcel started since");
  });
});

describe("reprise runs show", () => {
  test("renders the same timeline the replay prints", async () => {
    const shown = await cli("runs", "show", "order-A-1002", ...dbFlags);
    const replayed = await cli("replay", "order-A-1002", "--entry", entry, ...dbFlags);
    expect(shown.code).toBe(0);
    const timeline = (text: string) => text.slice(text.indexOf("#  call")).split("\n\n")[0];
    expect(timeline(shown.out)).toBe(timeline(replayed.out));
    expect(shown.out).toMatch(/↳ attempt 1 failed after \S+: Error: carrier API timed out quoting A-1002 · retried in 200ms/);
  });
});
