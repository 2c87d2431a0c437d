import { Client, replay, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { main } from "@reprise/worker/cli";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
const client = new Client(db.connection);
const poisoned = new Set([7, 23, 42, 61, 99]);
let healed = false;
const calls = new Map<number, number>();

const process100 = workflow({ name: "process-100", retry: { maxAttempts: 2, initialDelay: 1, jitter: 0 } }, async (ctx) => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  const { results, deadLettered } = await ctx.map(
    "square",
    items,
    (n) => {
      calls.set(n, (calls.get(n) ?? 0) + 1);
      if (poisoned.has(n) && !healed) throw new Error(`poisoned item ${n}`);
      return n * n;
    },
    { concurrency: 8, onItemFailure: "dead-letter" },
  );
  const total = await ctx.step("sum", () => results.reduce<number>((a, r) => a + (r ?? 0), 0));
  return { total, done: results.filter((r) => r !== undefined).length, dead: deadLettered.map((d) => d.index) };
});

let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [process100], concurrency: 5, pollInterval: "50ms", logger: silentLogger });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

const squares = (skip: Set<number>) => Array.from({ length: 100 }, (_, i) => (skip.has(i) ? 0 : i * i)).reduce((a, b) => a + b, 0);

test("ctx.map over 100 items with 5 poisoned: 95 results, 5 dead letters with their errors, and the run completes", async () => {
  const handle = await client.start(process100, undefined, { id: "map-1" });
  const out = await handle.result({ timeout: "30s" });
  expect(out).toEqual({ total: squares(poisoned), done: 95, dead: [7, 23, 42, 61, 99] });
  // Each poisoned item was tried maxAttempts times, every other item once.
  for (const [n, count] of calls) expect(count).toBe(poisoned.has(n) ? 2 : 1);

  const letters = await client.deadLetters({ runId: "map-1" });
  expect(letters.map((l) => l.index).sort((a, b) => a - b)).toEqual([7, 23, 42, 61, 99]);
  for (const letter of letters) {
    expect(letter).toMatchObject({ runId: "map-1", workflowName: "process-100", map: "square", item: letter.index });
    expect(letter.error).toMatchObject({ name: "Error", message: `poisoned item ${letter.index}` });
    expect(letter.createdAt).toBeInstanceOf(Date);
  }

  // Replaying the recorded history gives the same result, whatever order the items finished in.
  const report = await replay(process100, await handle.history());
  expect(report.outcome).toBe("completed");
  expect(report.output).toEqual(out);
  const positions = (await handle.history()).filter((e) => e.kind === "StepCompleted" && e.name?.startsWith("square[")).map((e) => [e.name, e.position]);
  for (const [name, position] of positions) expect(name).toBe(`square[${position}]`);
});

test("redriving a dead letter runs only that item again and recomputes what follows the map", async () => {
  const [letter] = (await client.deadLetters({ runId: "map-1" })).filter((l) => l.index === 42);
  healed = true;
  calls.clear();
  const redriven = await client.retryDeadLetter(letter!.id!);
  const out = (await redriven.result({ timeout: "30s" })) as { total: number; done: number; dead: number[] };
  expect([...calls.keys()]).toEqual([42]);
  expect(out).toEqual({ total: squares(new Set([7, 23, 61, 99])), done: 96, dead: [7, 23, 61, 99] });
  expect((await redriven.status()).forkedFrom).toBe("map-1");
  // Twice is the same run.
  expect((await client.retryDeadLetter(letter!.id!)).id).toBe(redriven.id);
  const [marked] = (await client.deadLetters({ runId: "map-1" })).filter((l) => l.index === 42);
  expect(marked!.retriedBy).toBe(redriven.id);
});

test("the dlq CLI lists dead letters and refuses an unknown id", async () => {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(String(line)));
  const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    expect(await main(["dlq", "list", "--run", "map-1", "--database-url", db.url, "--schema", db.schema])).toBe(0);
    expect(lines.join("\n")).toMatch(/square\[7\].*poisoned item 7/);
    expect(await main(["dlq", "retry", "999999", "--database-url", db.url, "--schema", db.schema])).toBe(1);
    expect(err.mock.calls.flat().join("\n")).toContain('no dead letter with id "999999"');
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
});
