import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, test, vi } from "vitest";
// The built CLI, as the reprise binary runs it.
import { main } from "../dist/cli/main.js";

// The help the command definitions generate, and what a mistyped command line gets back.

const bin = fileURLToPath(new URL("../bin/reprise.js", import.meta.url));

/** Runs the real binary; never throws. */
async function reprise(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return promisify(execFile)(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: "1", COLUMNS: "" } }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout, err: stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
}

/** Runs the CLI in this process; returns its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    return { code: await main(args), out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** Every command, with the options its help must explain. */
const COMMANDS: Record<string, string[]> = {
  dev: ["[entry]", "--port", "--concurrency", "--dir", "--dashboard-port", "--no-dashboard"],
  worker: ["<entry>", "--concurrency", "--queues", "--lease-duration", "--poll-interval", "--log-level", "--log-format", "--metrics-port", "--metrics-host"],
  migrate: ["--app-role"],
  "runs list": ["--status", "--workflow", "--after", "--limit", "--json"],
  "runs show": ["<id>", "--json"],
  "runs logs": ["<id>", "--follow", "--step", "--limit", "--json", "--interval"],
  "runs start": ["<workflow>", "[json]", "--id", "--entry", "--delay", "--priority", "--queue", "--force"],
  "runs retry": ["<id>"],
  "runs cancel": ["<id>", "--reason"],
  "runs fork": ["<id>", "--from", "--id"],
  "runs signal": ["<id>", "<name>", "[json]", "--entry"],
  "dlq list": ["--workflow", "--run", "--limit", "--json"],
  "dlq retry": ["<id>"],
  "schedules list": ["--workflow", "--json"],
  "schedules show": ["<id>", "--limit"],
  "schedules create": ["<id>", "--workflow", "--cron", "--every", "--timezone", "--catchup", "--catchup-window", "--overlap", "--input", "--queue", "--paused"],
  "schedules pause": ["<id>"],
  "schedules resume": ["<id>"],
  "schedules trigger": ["<id>", "--entry"],
  "schedules delete": ["<id>"],
  "schedules backfill": ["<id>", "--from", "--to", "--batch-size", "--entry"],
  "alerts list": ["--status", "--limit", "--json"],
  "alerts ack": ["<id>", "--by"],
  "alerts resolve": ["<id>"],
  stats: ["--since", "--workflow", "--json"],
  replay: ["[target]", "--entry", "--until", "--export", "--json", "--break-on-failure", "--inspect", "--workflow", "--since", "--status", "--limit"],
  dashboard: ["--port", "--host", "--token", "--entry"],
  emit: ["<name>", "[json]", "--id", "--entry", "--json"],
  "events list": ["--name", "--after", "--limit", "--json"],
  "events show": ["<id>"],
  versions: ["--json"],
};

test("--help on every command exits 0 and explains each of its arguments and options, and the connection flags", async () => {
  for (const [command, mentions] of Object.entries(COMMANDS)) {
    const { code, out, err } = await cli(...command.split(" "), "--help");
    expect(code, command).toBe(0);
    expect(err, command).toBe("");
    expect(out, command).toMatch(new RegExp(`^Usage: reprise ${command} `));
    const [, options = ""] = out.split("\nOptions:\n");
    for (const mention of mentions) {
      if (mention.startsWith("-")) expect(options, `${command} ${mention}`).toMatch(new RegExp(`^  ${mention}\\b.*\\S`, "m"));
      else expect(out.split("\n")[0], `${command} ${mention}`).toContain(mention);
    }
    for (const global of ["--database-url", "--schema", "--verbose"]) expect(out, `${command} ${global}`).toMatch(new RegExp(`^  ${global}\\b`, "m"));
  }
  // A group lists its commands.
  for (const [group, commands] of Object.entries({ runs: ["list", "show", "logs", "start", "retry", "cancel", "fork", "signal"], dlq: ["list", "retry"], alerts: ["list", "ack", "resolve"] })) {
    const { code, out } = await cli(group, "--help");
    expect(code).toBe(0);
    for (const c of commands) expect(out, `${group} ${c}`).toMatch(new RegExp(`^  ${c} `, "m"));
  }
});

test("the top-level help lists every command with its flags, from the real binary", async () => {
  const { code, out, err } = await reprise("--help");
  expect(code).toBe(0);
  expect(err).toBe("");
  const joined = out.replace(/\n {3,}(?=[[<-])/g, " "); // summaries wrapped on narrow terminals
  for (const [command, mentions] of Object.entries(COMMANDS)) {
    const line = joined.split("\n").find((l) => l.startsWith(`  ${command} `) || l === `  ${command}`);
    expect(line, command).toBeDefined();
    for (const mention of mentions) expect(line, `${command} ${mention}`).toContain(mention);
  }
  expect(out).toContain("--database-url");
  expect((await reprise("help")).out).toBe(out);
});

test("the README's CLI section is what reprise --help lists", async () => {
  const { out } = await promisify(execFile)(process.execPath, [bin, "--help"], { env: { ...process.env, NO_COLOR: "1", COLUMNS: "100" } }).then(({ stdout }) => ({ out: stdout }));
  const commands = out.slice(out.indexOf("Commands:\n"), out.indexOf("\n\n", out.indexOf("Commands:\n")));
  const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");
  const section = readme.slice(readme.indexOf("## The CLI\n"));
  const block = section.slice(section.indexOf("```\n") + 4, section.indexOf("\n```", section.indexOf("```\n") + 4));
  // Regenerate it with: COLUMNS=100 reprise --help, its Commands section.
  expect(block).toBe(commands);
});

test("the real binary prints generated help for runs list, dev, worker and replay, and exits 0", async () => {
  for (const command of ["runs list", "dev", "worker", "replay"]) {
    const { code, out, err } = await reprise(...command.split(" "), "--help");
    expect({ code, err }, command).toEqual({ code: 0, err: "" });
    for (const mention of COMMANDS[command]!.filter((m) => m.startsWith("-"))) expect(out, `${command} ${mention}`).toContain(mention);
  }
  const worker = (await reprise("worker", "--help")).out;
  expect(worker.replace(/\s+/g, " ")).toContain('--log-level <level> the least severe lines it prints (choices: "debug", "info", "warn", "error", "silent", default: "info")');
});

test("a mistyped option gets a suggestion; an unknown command is named; a bad choice is refused: one line, exit 2", async () => {
  expect(await reprise("runs", "list", "--statuss", "failed")).toEqual({ code: 2, out: "", err: "reprise: unknown option '--statuss' (did you mean --status?)\n" });
  expect(await reprise("runs", "foo")).toEqual({
    code: 2,
    out: "",
    err: "reprise: unknown command 'foo' (did you mean fork?); usage: reprise runs <list|show|logs|start|retry|cancel|fork|signal> …\n",
  });
  expect(await reprise("worker", "workflows.ts", "--log-level", "bogus")).toEqual({
    code: 2,
    out: "",
    err: 'reprise: --log-level must be one of debug, info, warn, error, silent, got "bogus"\n',
  });
  expect(await reprise("dashbaord")).toMatchObject({ code: 2, err: "reprise: unknown command 'dashbaord' (did you mean dashboard?); usage: reprise <dev|worker|migrate|runs|dlq|schedules|emit|events|versions|alerts|stats|replay|dashboard> …\n" });
});

test("other mistakes in the command line are one line and exit 2 too", async () => {
  const cases: [string[], string][] = [
    [["runs"], "usage: reprise runs <list|show|logs|start|retry|cancel|fork|signal> …"],
    [["runs", "show"], "usage: reprise runs show <id> [--json]"],
    [["runs", "show", "a", "b"], "unexpected argument 'b'; usage: reprise runs show <id> [--json]"],
    [["runs", "list", "--status"], "option '--status <status>' needs a value"],
    [["runs", "list", "--limit", "many"], '--limit must be an integer of at least 1, got "many"'],
    [["runs", "fork", "r1"], "runs fork needs --from"],
    [["runs", "list", "--bogus"], "unknown option '--bogus'; see reprise runs list --help"],
  ];
  for (const [args, line] of cases) expect(await cli(...args), args.join(" ")).toEqual({ code: 2, out: "", err: `reprise: ${line}` });
  // Nothing at all: the help, and 2; the version: 0.
  const bare = await cli();
  expect(bare.code).toBe(2);
  expect(bare.out).toMatch(/^reprise — durable workflows on Postgres\n/);
  expect(await cli("--version")).toMatchObject({ code: 0, out: expect.stringMatching(/^\d+\.\d+\.\d+/) });
});
