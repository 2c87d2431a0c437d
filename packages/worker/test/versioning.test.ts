import { Client, replay, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, silentLogger } from "@reprise/worker";
import { main } from "@reprise/worker/cli";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { useTestSchema } from "../../../test-support/db.js";
import { waitFor } from "../../../test-support/wait.js";

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });
beforeAll(() => store.migrate());
afterAll(() => store.close());

const welcomed: string[] = [];

/** Before the deploy: create the account, wait for approval. */
const v1 = workflow({ name: "onboarding" }, async (ctx, input: { user: string }) => {
  const account = await ctx.step("create-account", () => `acct-${input.user}`);
  const approval = await ctx.waitForSignal<{ by: string }>("approve");
  return { account, approvedBy: approval.by, branch: "old" };
});

/** After: a welcome email goes out before the approval wait — for runs that reach it now. */
const v2 = workflow({ name: "onboarding" }, async (ctx, input: { user: string }) => {
  const account = await ctx.step("create-account", () => `acct-${input.user}`);
  let branch = "old";
  if (ctx.patched("welcome-email")) {
    await ctx.step("send-welcome", () => void welcomed.push(input.user));
    branch = "new";
  }
  const approval = await ctx.waitForSignal<{ by: string }>("approve");
  return { account, approvedBy: approval.by, branch };
});

const worker = (wf: typeof v1) => new Worker({ store, workflows: [wf], pollInterval: "50ms", logger: silentLogger, migrate: false });
const waiting = (id: string) => waitFor(async () => (await client.status(id)).status === "waiting", { what: `run ${id} to wait` });

async function show(id: string): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(String(line)));
  try {
    expect(await main(["runs", "show", id, "--database-url", db.url, "--schema", db.schema])).toBe(0);
  } finally {
    log.mockRestore();
  }
  return lines.join("\n");
}

test("a run recorded before a ctx.patched() deploy keeps the old branch; a new run takes the new one", async () => {
  expect(v1.fingerprint).not.toBe(v2.fingerprint);

  // Before the deploy: the run gets as far as the approval wait, and the worker goes away.
  const before = worker(v1);
  await before.start();
  await client.start(v1, { user: "ada" }, { id: "onboard-old" });
  await waiting("onboard-old");
  await before.stop();

  // The deploy: only v2 runs from now on.
  const after = worker(v2);
  await after.start();
  try {
    await client.signal("onboard-old", "approve", { by: "grace" });
    expect(await client.handle("onboard-old").result({ timeout: "10s" })).toEqual({ account: "acct-ada", approvedBy: "grace", branch: "old" });
    expect(welcomed, "the old run had passed the patch point: no welcome email").toEqual([]);

    const fresh = await client.start(v2, { user: "bob" }, { id: "onboard-new" });
    await waiting(fresh.id);
    await client.signal(fresh.id, "approve", { by: "grace" });
    expect(await fresh.result({ timeout: "10s" })).toEqual({ account: "acct-bob", approvedBy: "grace", branch: "new" });
    expect(welcomed).toEqual(["bob"]);
  } finally {
    await after.stop();
  }

  // Each history replays under v2 the way it ran.
  expect((await replay(v2, await client.history("onboard-old"))).output).toMatchObject({ branch: "old" });
  expect((await replay(v2, await client.history("onboard-new"))).output).toMatchObject({ branch: "new" });
  const newHistory = await client.history("onboard-new");
  expect(newHistory.filter((e) => e.kind === "MarkerRecorded").map((e) => [e.name, e.position])).toEqual([["patch:welcome-email", null]]);
  expect((await client.history("onboard-old")).some((e) => e.kind === "MarkerRecorded")).toBe(false);

  // Each run records the fingerprint of the code it started with, and `runs show` prints it.
  expect((await client.status("onboard-old")).fingerprint).toBe(v1.fingerprint);
  expect((await client.status("onboard-new")).fingerprint).toBe(v2.fingerprint);
  expect(await show("onboard-old")).toContain(`code fingerprint ${v1.fingerprint}`);
  const shown = await show("onboard-new");
  expect(shown).toContain(`code fingerprint ${v2.fingerprint}`);
  expect(shown).toMatch(/patch\s+welcome-email/);
});
