import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";
import { waitFor } from "../../../test-support/wait.js";

// `reprise dev` as a user runs it: the real binary, in folders of its own.

const BIN = fileURLToPath(new URL("../bin/reprise.js", import.meta.url));
const SDK = fileURLToPath(new URL("../../sdk/dist/index.js", import.meta.url));
const folders: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) child.kill("SIGINT");
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(undefined) : c.once("exit", r)))));
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with an entry exporting one workflow; reachable by others unless `mode` says. */
function project(mode = 0o755): string {
  const dir = mkdtempSync(join(tmpdir(), "reprise-dev-"));
  chmodSync(dir, mode);
  folders.push(dir);
  writeFileSync(join(dir, "workflows.mjs"), `import { workflow } from ${JSON.stringify(SDK)};\nexport const hello = workflow({ name: "hello" }, async () => "hi");\n`);
  return dir;
}

function dev(dir: string, port: number): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [BIN, "dev", "workflows.mjs", "--port", String(port), "--no-dashboard"], { cwd: dir, env: { ...process.env, DATABASE_URL: "" } });
  children.push(child);
  let text = "";
  child.stdout!.on("data", (d) => (text += String(d)));
  child.stderr!.on("data", (d) => (text += String(d)));
  return { child, output: () => text };
}

test("reprise dev in a second folder starts a Postgres of its own instead of using the first folder's", { timeout: 90_000 }, async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const first = dev(project(), port);
  await waitFor(() => first.output().includes("Reprise dev"), { timeoutMs: 60_000, what: "the first banner" });
  expect(first.output()).toContain(`127.0.0.1:${port}/`);

  const secondDir = project();
  const second = dev(secondDir, port);
  await waitFor(() => second.output().includes("Reprise dev"), { timeoutMs: 60_000, what: "the second banner" });
  expect(second.output()).toMatch(new RegExp(`port ${port} is taken by the reprise dev Postgres of .*reprise-dev-`));
  expect(second.output()).toContain(`127.0.0.1:${port + 1}/`);
});

test("a forced stop of reprise dev (Ctrl-C twice, sent to its process group as a terminal does) ends without a connection error", { timeout: 90_000 }, async () => {
  const dir = project();
  // A step still running when Ctrl-C comes, so that the second one has something to force.
  writeFileSync(
    join(dir, "workflows.mjs"),
    `import { workflow } from ${JSON.stringify(SDK)};\n` +
      `export const slow = workflow({ name: "slow" }, async (ctx) => ctx.step("wait", ({ signal }) => new Promise((r) => { const t = setTimeout(r, 60_000); signal.addEventListener("abort", () => r(clearTimeout(t))); })));\n` +
      `export async function dev({ client, log }) { await client.start(slow, undefined); log("demo started"); }\n`,
  );
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  // detached: a group of its own, which the test signals as a whole, like a terminal's Ctrl-C.
  const child = spawn(process.execPath, [BIN, "dev", "workflows.mjs", "--port", String(port), "--no-dashboard"], {
    cwd: dir,
    detached: true,
    env: { ...process.env, DATABASE_URL: "" },
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += String(d)));
  child.stderr!.on("data", (d) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await waitFor(() => out.includes("demo started"), { timeoutMs: 60_000, what: "the dev banner and its demo run" });
  await new Promise((r) => setTimeout(r, 1_000));
  process.kill(-child.pid!, "SIGINT");
  await new Promise((r) => setTimeout(r, 300));
  process.kill(-child.pid!, "SIGINT");
  expect(await exited).toBe(0);
  expect(err.trim().split("\n")).toEqual(["[reprise] SIGINT: stopping gracefully (send it again to force)", "[reprise] SIGINT: forcing the stop"]);
  expect(out).toContain("[dev] stopped");
  expect(out + err).not.toMatch(/ECONNREFUSED|ECONNRESET|terminating connection|shutting down|connection lost/i);
});

test.runIf(process.getuid?.() === 0)("as root, reprise dev in a folder the postgres user cannot reach says what to do in one line", async () => {
  const dir = project(0o700);
  const result = spawnSync(process.execPath, [BIN, "dev", "workflows.mjs", "--port", "29999", "--no-dashboard"], { cwd: dir, encoding: "utf8", env: { ...process.env, DATABASE_URL: "" } });
  expect(result.status).not.toBe(0);
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^reprise: the postgres user cannot reach .*is not searchable by others.*chmod o\+x/);
  expect(result.stderr).not.toContain("EACCES");
});

test("an entry with a syntax error is reported with its file, line and column, in one line", () => {
  const dir = project();
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(dir, "broken.ts"), 'import { workflow } from "x";\nexport const w = workflow({ name: "w" }, async () => { return (1 + ; });\n');
  writeFileSync(join(dir, "broken.mjs"), "export const w = ;\n");
  const run = (entry: string) =>
    spawnSync(process.execPath, [BIN, "worker", entry], { cwd: dir, encoding: "utf8", env: { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" } });
  const ts = run("broken.ts");
  expect(ts.status).toBe(2);
  expect(ts.stderr.trim()).toBe('reprise: could not load broken.ts: broken.ts:2:67: Unexpected ";"');
  const js = run("broken.mjs");
  expect(js.status).toBe(2);
  expect(js.stderr.trim()).toBe("reprise: could not load broken.mjs: broken.mjs:1: Unexpected token ';'");
});
