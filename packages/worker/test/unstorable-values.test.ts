import { Client, SerializationError, StepFailedError, ValidationError, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";

// Postgres refuses the NUL character in text and jsonb, and lone surrogates in jsonb. Such
// a value must fail cleanly, not make the append fail after the step ran, every time.

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });

let calls = 0;
const nulResult = workflow({ name: "nul-result" }, async (ctx) => {
  try {
    return await ctx.step("charge", () => (calls++, { note: "a\u0000b" }));
  } catch (error) {
    return error instanceof StepFailedError ? `${error.cause.name}: ${error.cause.message}` : "other";
  }
});
const nulLog = workflow({ name: "nul-log" }, async (ctx) => {
  await ctx.step("charge", ({ log }) => (log.info("bytes: \u0000", { raw: "x\u0000y", surrogate: "\ud800" }), 1));
  return "ok";
});

let worker: Worker;
beforeAll(async () => {
  await store.migrate();
  worker = new Worker({ store, workflows: [nulResult, nulLog], pollInterval: "100ms", leaseDuration: "1s", logger: silentLogger, migrate: false });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await store.close();
});

test("a step result Postgres cannot store fails the step once, with a SerializationError naming where", async () => {
  const handle = await client.start(nulResult, undefined);
  const out = await handle.result({ timeout: "10s" });
  expect(out).toBe("SerializationError: result of step \"charge\" cannot be stored: a string with a NUL character (\\u0000) at value.note");
  expect(calls).toBe(1);
});

test("a log line Postgres cannot store is kept with the characters replaced", async () => {
  const handle = await client.start(nulLog, undefined);
  expect(await handle.result({ timeout: "10s" })).toBe("ok");
  const [line] = await store.logs(handle.id);
  expect(line!.message).toBe("bytes: \ufffd");
  expect(line!.fields).toEqual({ raw: "x\ufffdy", surrogate: "\ufffd" });
});

test("input or a signal payload Postgres cannot store is a ValidationError, and nothing is written", async () => {
  await expect(client.start(nulResult, { name: "\u0000" } as never)).rejects.toBeInstanceOf(SerializationError);
  await expect(client.start(nulResult, { bad: "\udc00" } as never)).rejects.toBeInstanceOf(ValidationError);
});
