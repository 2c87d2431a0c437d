import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

// What `runs show`, `runs list` and `runs retry` print, from the real binary.

const db = useTestSchema();
const bin = fileURLToPath(new URL("../bin/reprise.js", import.meta.url));
const here = "packages/worker/test/cli-output.test.ts";

async function reprise(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const result = await promisify(execFile)(process.execPath, [bin, ...args, "--database-url", db.url, "--schema", db.schema], {
    cwd: fileURLToPath(new URL("../../..", import.meta.url)),
    env: { ...process.env, NO_COLOR: "1", ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout, err: stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
  return result;
}

function chargeCard(): never {
  throw new Error("card declined");
}
function refundCard(): never {
  throw new TypeError("refund is not a function");
}

/** Each attempt fails somewhere else: the first in chargeCard, the second in refundCard. */
const twoPlaces = workflow({ name: "two-places" }, async (ctx) => {
  await ctx.step("pay", ({ attempt }) => (attempt === 1 ? chargeCard() : refundCard()), { retry: { maxAttempts: 2, initialDelay: "10ms" } });
});

/** Throws in the arrow given to ctx.step itself, which V8 names after the options that follow it. */
const inline = workflow({ name: "inline-throw" }, async (ctx) => {
  await ctx.step(
    "ping",
    async () => {
      throw new Error("connect ECONNREFUSED");
    },
    { retry: { maxAttempts: 2, initialDelay: "10ms" }, timeout: "10s" },
  );
});

const longError = workflow({ name: "long-error" }, async (ctx) => {
  await ctx.step(
    "call",
    () => {
      throw new Error(`the upstream answered 503: ${"the service is unavailable, try again later; ".repeat(8)}end`);
    },
    { retry: { maxAttempts: 1 } },
  );
});

const sleepy = workflow({ name: "sleepy" }, async (ctx) => {
  await ctx.step("before", () => "done");
  await ctx.sleep("1h");
  await ctx.step("after", () => "done");
});

let client: Client;
let worker: Worker;
beforeAll(async () => {
  client = new Client(db.connection);
  worker = new Worker({ ...db.connection, workflows: [twoPlaces, inline, longError, sleepy], logger: silentLogger, pollInterval: "50ms" });
  await worker.start();
  for (const [wf, id] of [
    [twoPlaces, "two-places-1"],
    [inline, "inline-1"],
    [longError, "long-1"],
  ] as const) {
    await client.start(wf, undefined, { id });
    await client.result(id, { timeout: "20s" }).catch(() => undefined);
  }
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

test("runs show prints each failed attempt with the place it threw, under that attempt", async () => {
  const { code, out } = await reprise(["runs", "show", "two-places-1"]);
  expect(code).toBe(0);
  const lines = out.split("\n");
  const at = (pattern: RegExp) => {
    const i = lines.findIndex((l) => pattern.test(l));
    expect(i, String(pattern)).toBeGreaterThan(-1);
    return i;
  };
  const first = at(/↳ attempt 1 failed after \S+: Error: card declined · retried in /);
  const firstAt = at(new RegExp(`^\\s+at chargeCard \\(${here}:\\d+:\\d+\\)$`));
  const second = at(/↳ attempt 2 failed: TypeError: refund is not a function · gave up$/);
  const secondAt = at(new RegExp(`^\\s+at refundCard \\(${here}:\\d+:\\d+\\)$`));
  // Each frame right under its own attempt.
  expect([first + 1, second + 1]).toEqual([firstAt, secondAt]);
  expect(second).toBeGreaterThan(firstAt);
});

test("a step's own arrow function is shown by its place, not by the name V8 makes up from the options", async () => {
  const { out } = await reprise(["runs", "show", "inline-1"]);
  expect(out).toMatch(new RegExp(`↳ attempt 1 failed after \\S+: Error: connect ECONNREFUSED · retried in \\S+\\n\\s+at ${here}:\\d+:\\d+\\n`));
  expect(out).toMatch(new RegExp(`↳ attempt 2 failed: Error: connect ECONNREFUSED · gave up\\n\\s+at ${here}:\\d+:\\d+\\n`));
  expect(out).not.toMatch(/ctx\.step\.|maxAttempts|<anonymous>/);
});

test("runs list cuts errors to the line's width, with an ellipsis", async () => {
  for (const columns of [100, 160]) {
    const { code, out } = await reprise(["runs", "list", "--workflow", "long-error"], { COLUMNS: String(columns) });
    expect(code).toBe(0);
    const row = out.split("\n").find((l) => l.startsWith("long-1"))!;
    expect(row.length).toBe(columns);
    expect(row).toMatch(/  StepFailedError: step "call" failed.*[^…]…$/);
    if (columns === 160) expect(row).toContain("Error: the upstream answered 503");
  }
  // Not a terminal and no COLUMNS: 120.
  const plain = await reprise(["runs", "list", "--workflow", "long-error"], { COLUMNS: "" });
  expect(plain.out.split("\n").find((l) => l.startsWith("long-1"))!.length).toBe(120);
});

test.runIf(spawnSync("script", ["--version"]).status === 0)("on a terminal, runs list takes the terminal's width", () => {
  const command = [process.execPath, bin, "runs", "list", "--workflow", "long-error", "--database-url", db.url, "--schema", db.schema].map((a) => `'${a}'`).join(" ");
  const result = spawnSync("script", ["-qec", `stty cols 90; ${command}`, "/dev/null"], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", COLUMNS: "" } });
  expect(result.status).toBe(0);
  const row = result.stdout.split(/\r?\n/).find((l) => l.startsWith("long-1"))!;
  expect(row.length).toBe(90);
  expect(row.endsWith("…")).toBe(true);
});

test("runs retry says what happens next: a failed run runs its failed step again, a cancelled one resumes where it was cancelled", async () => {
  const failed = await reprise(["runs", "retry", "long-1"]);
  expect(failed).toMatchObject({ code: 0, err: "" });
  expect(failed.out.trim()).toBe("run long-1 queued again: completed steps keep their results, the failed step runs again");

  await client.start(sleepy, undefined, { id: "sleepy-1" });
  await waitFor(async () => (await client.status("sleepy-1")).status === "sleeping", { what: "the run to sleep" });
  await client.cancel("sleepy-1", "not now");
  await waitFor(async () => (await client.status("sleepy-1")).status === "cancelled", { what: "the run to be cancelled" });
  const cancelled = await reprise(["runs", "retry", "sleepy-1"]);
  expect(cancelled).toMatchObject({ code: 0, err: "" });
  expect(cancelled.out.trim()).toBe("run sleepy-1 queued again: completed steps keep their results, it resumes where it was cancelled");
  expect(cancelled.out).not.toContain("failed step");
  // And so it does: back to its sleep, its first step not run again.
  await waitFor(async () => (await client.status("sleepy-1")).status === "sleeping", { what: "the retried run to sleep again" });
  expect((await client.history("sleepy-1")).filter((e) => e.kind === "StepCompleted").map((e) => e.name)).toEqual(["before"]);
});
