import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";
// The built CLI, as the reprise binary runs it.
import { describeFailure } from "../dist/cli/errors-out.js";
import { main } from "../dist/cli/main.js";

// Bad input to every command is refused in one line of Reprise's own words: never a
// Postgres message about types or encodings, never a stack.

const db = useTestSchema();
const bin = fileURLToPath(new URL("../bin/reprise.js", import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main([...args, "--database-url", db.url, "--schema", db.schema]);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const done = workflow({ name: "done" }, async (ctx) => ctx.step("only", () => 1));
const waiting = workflow({ name: "waiting" }, async (ctx) => ctx.waitForSignal("go"));

let client: Client;
let worker: Worker;
beforeAll(async () => {
  client = new Client(db.connection);
  worker = new Worker({ ...db.connection, workflows: [done, waiting], logger: silentLogger, pollInterval: "50ms" });
  await worker.start();
  await client.run(done, undefined, { id: "done-1", timeout: "20s" });
  await client.start(waiting, undefined, { id: "waiting-1" });
  await waitFor(async () => (await client.status("waiting-1")).status === "waiting", { what: "the run to wait" });
  await client.schedules.create({ id: "daily", workflow: done, cron: "@daily" });
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

/** What Postgres says about a value it cannot take, which must never reach the user. */
const RAW = /invalid input syntax|out of range for type|unsupported Unicode|invalid byte sequence|database error|timestamp out of range|\n\s+at /;

test("bad input to every command is one line of Reprise's own, and a non-zero exit", async () => {
  const cases: [args: string[], code: number, message: RegExp][] = [
    [["dlq", "retry", "nope"], 1, /^no dead letter with id "nope"$/],
    [["dlq", "retry", "-1"], 1, /^no dead letter with id "-1"$/],
    [["dlq", "list", "--limit", "99999999999999999999"], 2, /^--limit must be an integer of at least 1, got "99999999999999999999"$/],
    [["dlq", "list", "--limit", "-5"], 2, /^--limit must be an integer of at least 1, got "-5"$/],
    [["runs", "show", ""], 1, /^run id must be a non-empty string/],
    [["runs", "show", "x".repeat(300)], 1, /^run id must be a non-empty string of at most 255 characters/],
    [["runs", "logs", ""], 1, /^run id must be a non-empty string/],
    [["runs", "logs", "done-1", "--step", "99999999999999999999"], 2, /^--step 99999999999999999999: no run has a step at that position$/],
    [["runs", "logs", "done-1", "--limit", "0"], 2, /^--limit must be an integer from 1 to 10000, got "0"$/],
    [["runs", "logs", "done-1", "--interval", "soon"], 2, /^--interval: invalid duration "soon"/],
    [["runs", "retry", ""], 1, /^run id must be a non-empty string/],
    [["runs", "cancel", ""], 1, /^run id must be a non-empty string/],
    [["runs", "signal", "", "go"], 1, /^run id must be a non-empty string/],
    [["runs", "signal", "waiting-1", ""], 1, /^signal name must be a non-empty string/],
    [["runs", "signal", "waiting-1", "go", '{"a":"\\u0000"}'], 1, /NUL character/],
    [["runs", "signal", "waiting-1", "go", "{bad"], 2, /^the payload is not valid JSON/],
    [["runs", "list", "--limit", "-1"], 2, /^--limit must be an integer of at least 1, got "-1"$/],
    [["runs", "list", "--status", "lost"], 2, /^--status must be one of queued, running, sleeping, waiting, completed, failed, cancelled, got "lost"$/],
    [["runs", "start", "done", "--priority", "99999999999999"], 2, /^--priority must be an integer from -2147483648 to 2147483647/],
    [["runs", "start", "done", "--id", ""], 1, /^run id "" is invalid/],
    [["runs", "start", "done", "--id", "a b"], 1, /^run id "a b" is invalid/],
    [["runs", "start", "done", "--queue", ""], 2, /^--queue must not be empty$/],
    [["runs", "start", "done", '{"a":"\\u0000"}'], 1, /^input of workflow "done" cannot be stored: a string with a NUL character/],
    [["runs", "start", "done", "--delay", "soon"], 1, /^invalid duration "soon"/],
    [["runs", "fork", "done-1", "--from", ""], 1, /^run done-1 has no step "" to fork from$/],
    [["alerts", "ack", "nope"], 1, /^no alert with id "nope"$/],
    [["alerts", "ack", "99999999999999999999"], 1, /^no alert with id "99999999999999999999"$/],
    [["alerts", "resolve", "-1"], 1, /^no alert with id "-1"$/],
    [["alerts", "list", "--limit", "0"], 2, /^--limit must be an integer of at least 1, got "0"$/],
    [["schedules", "backfill", "x", "--from", "bad", "--to", "2026-01-01"], 1, /^no schedule with id "x"$/],
    [["schedules", "backfill", "daily", "--from", "bad", "--to", "2026-01-01"], 1, /^backfill --from "bad" is not a date/],
    [["schedules", "backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-02", "--batch-size", "-1"], 2, /^--batch-size must be an integer from 1 to 10000/],
    [["schedules", "show", ""], 1, /^no schedule with id ""$/],
    [["schedules", "show", "daily", "--limit", "-1"], 2, /^--limit must be an integer of at least 1/],
    [["schedules", "create", "bad id!", "--workflow", "done", "--every", "1h"], 1, /^schedule id "bad id!" is invalid/],
    [["schedules", "create", "s2", "--workflow", "done", "--every", "1h", "--input", '{"a":"\\u0000"}'], 1, /NUL character/],
    [["schedules", "create", "s3", "--workflow", "done", "--every", "1h", "--catchup", "some"], 2, /^--catchup must be one of none, latest, all, got "some"$/],
    [["schedules", "pause", "nope"], 1, /^no schedule with id "nope"$/],
    [["stats", "--since", "99999999d"], 2, /^--since 99999999d reaches back before the year 1$/],
    [["stats", "--since", "2026-02-30"], 2, /^--since: not a date or a duration: 2026-02-30$/],
    [["replay", "done-1", "--until", "-1"], 2, /^--until must be an integer of at least 0/],
    [["replay", "--workflow", "done", "--limit", "99999999999999999999"], 2, /^--limit must be an integer of at least 1/],
    [["dashboard", "--port", "99999"], 2, /^--port must be an integer from 0 to 65535, got "99999"$/],
    [["worker", "x.mjs", "--metrics-port", "http"], 2, /^--metrics-port must be an integer from 0 to 65535/],
  ];
  for (const [args, code, message] of cases) {
    const result = await cli(...args);
    const what = args.join(" ");
    expect(result.code, what).toBe(code);
    expect(result.err.split("\n"), what).toHaveLength(1);
    expect(result.err, what).toMatch(/^reprise: /);
    expect(result.err.slice("reprise: ".length), what).toMatch(message);
    expect(result.err, what).not.toMatch(RAW);
  }
});

test("a refused connection says so in one line: a wrong password, a database that does not exist", async () => {
  const wrongPassword = new URL(db.url);
  wrongPassword.password = "not-the-password";
  const noDatabase = new URL(db.url);
  noDatabase.pathname = "/no_such_database";
  const run = (url: URL) => main(["runs", "list", "--database-url", url.href, "--schema", db.schema]);
  const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    expect(await run(wrongPassword)).toBe(1);
    expect(await run(noDatabase)).toBe(1);
    const lines = err.mock.calls.map((c) => String(c[0]));
    expect(lines[0]).toMatch(/^reprise: the database refused the connection \(28P01\): password authentication failed/);
    expect(lines[1]).toBe('reprise: the database refused the connection (3D000): database "no_such_database" does not exist');
  } finally {
    err.mockRestore();
  }
});

test("a value Postgres refuses that no check caught is reported as such, its raw message left to --verbose", () => {
  const raw = Object.assign(new Error('invalid input syntax for type bigint: "nope"'), { code: "22P02" });
  const wrapped = Object.assign(new Error(`database error: ${raw.message}`), { cause: raw });
  for (const error of [raw, wrapped]) {
    const { line, code } = describeFailure(error);
    expect(code).toBe(1);
    expect(line).toBe("the database refused a value that reprise should have checked first (SQLSTATE 22P02): please report it (--verbose shows the database's message)");
  }
});

test("the reprise binary says the same: dlq retry nope, runs show ''", async () => {
  for (const [args, line] of [
    [["dlq", "retry", "nope"], 'reprise: no dead letter with id "nope"'],
    [["runs", "show", ""], 'reprise: run id must be a non-empty string of at most 255 characters, got ""'],
  ] as const) {
    const failed = await promisify(execFile)(process.execPath, [bin, ...args, "--database-url", db.url, "--schema", db.schema]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr.trim()).toBe(line);
  }
});
