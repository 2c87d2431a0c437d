import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

// What `runs list` prints, from the real binary.

const db = useTestSchema();
const bin = fileURLToPath(new URL("../bin/reprise.js", import.meta.url));

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

const longError = workflow({ name: "long-error" }, async (ctx) => {
  await ctx.step(
    "call",
    () => {
      throw new Error(`the upstream answered 503: ${"the service is unavailable, try again later; ".repeat(8)}end`);
    },
    { retry: { maxAttempts: 1 } },
  );
});

let client: Client;
let worker: Worker;
beforeAll(async () => {
  client = new Client(db.connection);
  worker = new Worker({ ...db.connection, workflows: [longError], logger: silentLogger, pollInterval: "50ms" });
  await worker.start();
  for (const [wf, id] of [
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
