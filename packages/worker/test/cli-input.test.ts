import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, ValidationError } from "@reprise/sdk";
import { consoleLogger } from "@reprise/worker";
import { afterAll, expect, test, vi } from "vitest";
// The built CLI, as the reprise binary runs it.
import { main } from "../dist/cli/main.js";

const dir = mkdtempSync(join(tmpdir(), "reprise-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SDK = fileURLToPath(new URL("../../sdk/dist/index.js", import.meta.url));

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

test("worker --log-level and --log-format accept only their choices", async () => {
  const bogus = await cli("worker", "x.mjs", "--log-level", "bogus", "--database-url", "postgres://a@127.0.0.1:1/b");
  expect(bogus).toMatchObject({ code: 2, err: 'reprise: --log-level must be one of debug, info, warn, error, silent, got "bogus"' });
  const format = await cli("worker", "x.mjs", "--log-format", "xml", "--database-url", "postgres://a@127.0.0.1:1/b");
  expect(format).toMatchObject({ code: 2, err: 'reprise: --log-format must be one of text, json, got "xml"' });
});

test("an entry that defines two workflows with one name is refused", async () => {
  const entry = join(dir, "twice.mjs");
  writeFileSync(
    entry,
    `import { workflow } from ${JSON.stringify(SDK)};\nexport const a = workflow({ name: "same" }, async () => 1);\nexport const b = workflow({ name: "same" }, async () => 2);\n`,
  );
  const result = await cli("worker", entry, "--database-url", "postgres://a@127.0.0.1:1/b");
  expect(result).toMatchObject({ code: 2, err: 'reprise: the entry defines two workflows named "same": give each a name of its own' });
});

test("a connection string that is no postgres:// URL is refused in words, by the CLI and by the Client", async () => {
  const result = await cli("runs", "list", "--database-url", "notaurl");
  expect(result.code).not.toBe(0);
  expect(result.err).toBe('reprise: the connection string is not a postgres:// URL: "notaurl"');
  const client = new Client({ connectionString: "notaurl" });
  await expect(client.listRuns()).rejects.toBeInstanceOf(ValidationError);
  await client.close();
});

test("consoleLogger({ format: 'json' }) writes one JSON object a line, a run's lines with their run", () => {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    const logger = consoleLogger({ format: "json", level: "debug" });
    logger.warn("lease renewal failed", { runIds: ["r1"] });
    logger.run!({ at: "2026-12-01T09:00:00.000Z", level: "info", message: "fetched", fields: { rows: 3 }, step: "fetch", attempt: 2, position: 0 }, "r1", "etl");
  } finally {
    log.mockRestore();
  }
  const [worker, run] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(worker).toMatchObject({ level: "warn", msg: "lease renewal failed", runIds: ["r1"] });
  expect(typeof worker!.time).toBe("string");
  expect(run).toEqual({ time: "2026-12-01T09:00:00.000Z", level: "info", msg: "fetched", rows: 3, runId: "r1", workflow: "etl", step: "fetch", attempt: 2, position: 0 });
});

test("new Client() finds the database of a reprise dev running for the project, from a folder below it", async () => {
  const project = mkdtempSync(join(tmpdir(), "reprise-project-"));
  const below = join(project, "scripts", "nightly");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(project, ".reprise"), { recursive: true });
  mkdirSync(below, { recursive: true });
  writeFileSync(join(project, ".reprise", "dev.json"), JSON.stringify({ url: "postgres://postgres:reprise@127.0.0.1:1/postgres" }));
  const { devDatabaseUrl } = await import("@reprise/sdk/engine");
  expect(devDatabaseUrl(below)).toBe("postgres://postgres:reprise@127.0.0.1:1/postgres");
  expect(devDatabaseUrl(tmpdir())).toBeUndefined();
  const cwd = process.cwd();
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    process.chdir(below);
    const client = new Client();
    await expect(client.listRuns()).rejects.toThrow(/database error|ECONNREFUSED|connect/i);
    await client.close();
    process.chdir(tmpdir());
    expect(() => new Client()).toThrow(/set DATABASE_URL, pass \{ connectionString \}, or run `reprise dev`/);
  } finally {
    process.chdir(cwd);
    if (saved !== undefined) process.env.DATABASE_URL = saved;
    rmSync(project, { recursive: true, force: true });
  }
});
