import { Client, DeadLetterNotFoundError, RunNotFoundError, ValidationError, workflow } from "@reprise/sdk";
import { afterAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

// Every Client method that takes a run id checks it the same way: a value that is no id is
// a ValidationError (never coerced to "[object Object]", never a database error), a valid
// id of no run is RunNotFoundError, and nothing is stored either way.

const db = useTestSchema();
const client = new Client(db.connection);
afterAll(() => client.close());
const wf = workflow({ name: "ids" }, async () => "ok");

const calls: [string, (id: any) => Promise<unknown>][] = [
  ["status", (id) => client.status(id)],
  ["result", (id) => client.result(id, { timeout: "1s" })],
  ["history", (id) => client.history(id)],
  ["signal", (id) => client.signal(id, "go")],
  ["cancel", (id) => client.cancel(id)],
  ["retry", (id) => client.retry(id)],
  ["fork", (id) => client.fork(id, { fromStep: 0 })],
  ["deadLetters", (id) => client.deadLetters({ runId: id })],
  ["handle.status", async (id) => client.handle(id).status()],
];
const notIds: [string, unknown][] = [
  ["an object", { id: "x" }],
  ["a number", 42],
  ["an empty string", ""],
  ["a string with a NUL", "run\u0000one"],
  ["a string with a lone surrogate", "run\ud800"],
  ["a string of 256 characters", "r".repeat(256)],
];

test.each(calls)("%s refuses what is not a run id with a ValidationError", async (_name, call) => {
  for (const [what, value] of notIds) {
    const error = await call(value).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, `${what}`).toBeInstanceOf(ValidationError);
    expect((error as Error).message, `${what}`).not.toContain("[object Object]");
  }
});

test.each(calls.filter(([name]) => name !== "deadLetters"))("%s of a valid id that names no run is RunNotFoundError", async (_name, call) => {
  await expect(call("no-such-run")).rejects.toBeInstanceOf(RunNotFoundError);
});

test("a dead letter id that is not a number names no dead letter (not a database error)", async () => {
  for (const id of ["nope", "1; DROP TABLE x", "-1", "99999999999999999999", {}]) {
    await expect(client.retryDeadLetter(id as string)).rejects.toBeInstanceOf(DeadLetterNotFoundError);
  }
});

test("nothing is stored for a refused id", async () => {
  await client.start(wf, undefined, { id: "the-only-run" });
  await client.signal("the-only-run\u0000", "go").catch(() => undefined);
  await client.cancel({} as string).catch(() => undefined);
  const runs = await db.sql<{ id: string }>(`SELECT id FROM "${db.schema}".runs`);
  expect(runs.map((r) => r.id)).toEqual(["the-only-run"]);
  expect(await db.sql(`SELECT 1 FROM "${db.schema}".signals`)).toEqual([]);
});
