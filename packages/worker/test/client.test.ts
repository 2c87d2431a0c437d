import { Client, InvalidRunStateError, RunNotFoundError, SerializationError, ValidationError, WorkflowFailedError, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
const client = new Client(db.connection);
const ping = workflow({ name: "ping", input: z.object({ url: z.string().url() }) }, async (ctx, { url }) => ctx.step("ping", () => `pong ${url}`));
let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [ping], pollInterval: "50ms", logger: silentLogger });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

const count = async (table: string) => (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".${table}`))[0]!.n;

const started = async () =>
  (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".events WHERE kind = 'RunStarted'`))[0]!.n;

test("start with an existing id returns the same run and creates nothing", async () => {
  const first = await client.start(ping, { url: "https://a.example" }, { id: "ping-2026-11-22" });
  const runs = await count("runs");
  const starts = await started();
  const second = await client.start(ping, { url: "https://b.example" }, { id: "ping-2026-11-22" });
  expect(second.id).toBe(first.id);
  expect(await count("runs")).toBe(runs);
  // The worker may be running the first start meanwhile, so only RunStarted events are counted.
  expect(await started()).toBe(starts);
  expect(await second.result({ timeout: "10s" })).toBe("pong https://a.example");
});

test("invalid input is a ValidationError and nothing is written", async () => {
  const runs = await count("runs");
  const events = await count("events");
  const error = await client.start(ping, { url: "not a url" }, { id: "bad-input" }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).code).toBe("VALIDATION");
  expect((error as Error).message).toContain("url");
  await expect(client.start(ping, { nope: 1 } as never)).rejects.toBeInstanceOf(ValidationError);
  expect(await count("runs")).toBe(runs);
  expect(await count("events")).toBe(events);
  await expect(client.status("bad-input")).rejects.toBeInstanceOf(RunNotFoundError);
});

test("input that is not JSON is refused before anything is written", async () => {
  const loose = workflow({ name: "loose" }, async (_ctx, input: unknown) => input);
  const runs = await count("runs");
  await expect(client.start(loose, { when: 1n })).rejects.toBeInstanceOf(SerializationError);
  await expect(client.start(loose, { m: new Map() })).rejects.toThrow(/Map at value\.m/);
  expect(await count("runs")).toBe(runs);
});

test("an unknown run id is a RunNotFoundError everywhere", async () => {
  for (const call of [
    () => client.status("missing"),
    () => client.history("missing"),
    () => client.handle("missing").result(),
    () => client.cancel("missing"),
    () => client.retry("missing"),
    () => client.signal("missing", "go"),
    () => client.fork("missing", { fromStep: 0 }),
  ]) {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunNotFoundError);
    expect((error as RunNotFoundError).code).toBe("RUN_NOT_FOUND");
  }
});

test("signalling or retrying a completed run is a clear error", async () => {
  const handle = await client.start(ping, { url: "https://c.example" });
  await handle.result({ timeout: "10s" });
  await expect(client.signal(handle.id, "go")).rejects.toBeInstanceOf(InvalidRunStateError);
  await expect(client.retry(handle.id)).rejects.toThrow(/only failed or cancelled runs/);
  await expect(client.cancel(handle.id)).rejects.toBeInstanceOf(InvalidRunStateError);
});

test("status, history and listRuns describe runs", async () => {
  const handle = await client.start(ping, { url: "https://d.example" }, { id: "described" });
  await handle.result({ timeout: "10s" });
  const info = await handle.status();
  expect(info).toMatchObject({ id: "described", workflowName: "ping", status: "completed", input: { url: "https://d.example" }, output: "pong https://d.example", attempt: 1 });
  expect(info.createdAt).toBeInstanceOf(Date);
  const history = await handle.history();
  expect(history[0]).toMatchObject({ seq: 0, kind: "RunStarted" });
  expect(history.every((e) => e.createdAt instanceof Date)).toBe(true);
  const listed = await client.listRuns({ workflow: "ping", status: "completed", limit: 100 });
  expect(listed.some((r) => r.id === "described")).toBe(true);
  expect(listed.every((r) => r.status === "completed")).toBe(true);
  const page1 = await client.listRuns({ limit: 1 });
  const page2 = await client.listRuns({ limit: 1, after: page1[0]!.id });
  expect(page2[0]?.id).not.toBe(page1[0]!.id);
});

test("a failed run's result throws WorkflowFailedError with the error as cause", async () => {
  const boom = workflow({ name: "boom" }, async () => {
    throw new TypeError("no good");
  });
  const w = new Worker({ ...db.connection, workflows: [boom], pollInterval: "50ms", logger: silentLogger, migrate: false });
  await w.start();
  try {
    const error = await client.run(boom, undefined, { timeout: "10s" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toMatchObject({ name: "TypeError", message: "no good" });
  } finally {
    await w.stop();
  }
});

test("a client pointed at an unreachable database fails with a DatabaseError", async () => {
  const broken = new Client({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
  const error = await broken.status("x").catch((e: unknown) => e);
  expect((error as Error).name).toBe("DatabaseError");
  expect((error as { code: string }).code).toBe("DATABASE");
  await broken.close();
});
