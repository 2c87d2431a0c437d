import { Client, workflow } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import { useTestSchema } from "../../../test-support/db.js";

const db = useTestSchema();
const calls: string[] = [];

const greet = workflow({ name: "greet", input: z.object({ who: z.string() }) }, async (ctx, { who }) => {
  const a = await ctx.step("compose", () => {
    calls.push("compose");
    return `hello ${who}`;
  });
  await ctx.sleep(50);
  const b = await ctx.step("shout", () => a.toUpperCase());
  return { a, b, at: ctx.now().toISOString() };
});

let worker: Worker;
let client: Client;
beforeAll(async () => {
  client = new Client(db.connection);
  worker = new Worker({ ...db.connection, workflows: [greet], logger: silentLogger, pollInterval: "200ms" });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

test("a workflow runs to completion and its history is recorded", async () => {
  const handle = await client.start(greet, { who: "ada" });
  const out = await handle.result({ timeout: "10s" });
  expect(out.a).toBe("hello ada");
  expect(out.b).toBe("HELLO ADA");
  const history = await handle.history();
  expect(history.map((e) => e.kind)).toEqual([
    "RunStarted",
    "StepCompleted",
    "TimerStarted",
    "TimerFired",
    "StepCompleted",
    "MarkerRecorded",
    "RunCompleted",
  ]);
  expect((await handle.status()).status).toBe("completed");
});
