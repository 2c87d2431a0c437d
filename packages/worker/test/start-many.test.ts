import { Client, ValidationError, workflow } from "@reprise/sdk";
import { createStore, type Store } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
/** The store, counting its startRuns calls (each is one INSERT statement). */
let startStatements = 0;
const counted = new Proxy(store, {
  get(target, key, receiver) {
    if (key === "startRuns") return (...args: Parameters<Store["startRuns"]>) => (startStatements++, target.startRuns(...args));
    const value = Reflect.get(target, key, receiver) as unknown;
    return typeof value === "function" ? value.bind(target) : value;
  },
});
const client = new Client({ store: counted, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

const resize = workflow({ name: "resize", input: z.object({ image: z.string(), width: z.number().int().default(100) }) }, async (ctx, { image, width }) =>
  ctx.step("resize", () => `${image}@${width}`),
);
const other = workflow({ name: "other" }, async () => "other");
const runCount = async () => (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM "${db.schema}".runs`))[0]!.n;

test("startMany creates every run in one statement per 1,000, and returns the handles in the order of the items", async () => {
  const items = Array.from({ length: 2_100 }, (_, i) => ({ input: { image: `img-${i}.png` }, ...(i % 2 ? { id: `resize-${i}` } : {}), ...(i === 5 ? { priority: 7 } : {}) }));
  startStatements = 0;
  const handles = await client.startMany(resize, items);
  expect(startStatements).toBe(3);
  expect(handles).toHaveLength(items.length);
  handles.forEach((h, i) => {
    if (i % 2) expect(h.id).toBe(`resize-${i}`);
  });
  expect(new Set(handles.map((h) => h.id)).size).toBe(items.length);
  const stored = await db.sql<{ id: string; input: { image: string; width: number }; priority: number }>(
    `SELECT id, input, priority FROM "${db.schema}".runs WHERE id = ANY($1::text[])`,
    [[handles[0]!.id, handles[5]!.id, handles[2_099]!.id]],
  );
  const byId = new Map(stored.map((r) => [r.id, r]));
  expect(byId.get(handles[0]!.id)).toMatchObject({ input: { image: "img-0.png", width: 100 }, priority: 0 });
  expect(byId.get(handles[5]!.id)).toMatchObject({ input: { image: "img-5.png", width: 100 }, priority: 7 });
  expect(byId.get("resize-2099")).toMatchObject({ input: { image: "img-2099.png" } });
  expect(await client.startMany(resize, [])).toEqual([]);
});

test("started runs run: a worker drains a startMany batch", async () => {
  const handles = await client.startMany(resize, [{ input: { image: "a" }, id: "drain-a" }, { input: { image: "b", width: 5 }, id: "drain-b", delay: "10ms" }]);
  const worker = new Worker({ store, workflows: [resize], logger: silentLogger, migrate: false, pollInterval: "50ms" });
  await worker.start();
  try {
    expect(await Promise.all(handles.map((h) => h.result({ timeout: "20s" })))).toEqual(["a@100", "b@5"]);
  } finally {
    await worker.stop();
  }
});

test("one invalid item is a ValidationError naming its index, and nothing is stored", async () => {
  const before = await runCount();
  const cases: [unknown[], RegExp][] = [
    [[{ input: { image: "ok" } }, { input: { image: "ok" } }, { input: { image: 3 } }], /^startMany item 2: .*image/],
    [[{ input: { image: "ok" } }, { input: { image: "ok" }, id: "no spaces allowed" }], /^startMany item 1: run id "no spaces allowed" is invalid/],
    [[{ input: { image: "ok" }, delay: "soon" }], /^startMany item 0: invalid duration/],
    [[{ input: { image: "ok" }, priority: 1.5 }], /^startMany item 0: priority must be an integer/],
    [[null], /^startMany item 0: expected \{ input/],
  ];
  for (const [items, message] of cases) {
    const error = await client.startMany(resize, items as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
  }
  await expect(client.startMany(resize, "not an array" as never)).rejects.toThrow(ValidationError);
  expect(await runCount()).toBe(before);
});

test("existing ids return their existing runs; an id of another workflow's run is a ValidationError and nothing is stored", async () => {
  await client.start(resize, { image: "first" }, { id: "exists" });
  await client.start(other, undefined, { id: "belongs-to-other" });
  const handles = await client.startMany(resize, [{ input: { image: "second" }, id: "exists" }, { input: { image: "new" }, id: "fresh" }, { input: { image: "dup" }, id: "fresh" }]);
  expect(handles.map((h) => h.id)).toEqual(["exists", "fresh", "fresh"]);
  expect((await client.status("exists")).input).toEqual({ image: "first", width: 100 });
  expect((await client.status("fresh")).input).toEqual({ image: "new", width: 100 });

  const before = await runCount();
  const items = [...Array.from({ length: 1_500 }, (_, i) => ({ input: { image: `x-${i}` }, id: `clash-${i}` })), { input: { image: "y" }, id: "belongs-to-other" }];
  const error = await client.startMany(resize, items).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as Error).message).toBe('startMany item 1500: run id "belongs-to-other" is already used by a run of workflow "other"');
  // All or nothing: the first 1,000 were written by an earlier statement of the same transaction.
  expect(await runCount()).toBe(before);
});
