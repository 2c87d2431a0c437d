import { join } from "node:path";
import { Client, NonRetryableError, workflow } from "@reprise/sdk";
import { createStore } from "@reprise/store";
import { Worker, serveDashboard, silentLogger, type ServedDashboard } from "@reprise/worker";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { ARTIFACTS, launchBrowser } from "../../../../test-support/browser.js";
import { useTestSchema } from "../../../../test-support/db.js";

// The dashboard in a real browser (Debian's Chromium through playwright-core), against a
// real worker and Postgres: what a user sees and the buttons they press.

const db = useTestSchema();
const store = createStore({ connectionString: db.url, schema: db.schema });
const client = new Client({ store, migrate: false });

let chargeFixed = false;
const executed: string[] = [];
const charge = workflow({ name: "charge-card" }, async (ctx) => {
  await ctx.step("reserve", () => "reserved");
  return ctx.step("charge", () => {
    if (!chargeFixed) throw new NonRetryableError("card declined by the bank");
    return "charged";
  });
});
const pipeline = workflow({ name: "three-steps" }, async (ctx) => {
  for (const name of ["extract", "transform", "load"]) await ctx.step(name, () => void executed.push(`${ctx.runId}:${name}`));
  return "loaded";
});
const approval = workflow({ name: "approval" }, async (ctx) => {
  const decision = await ctx.waitForSignal<{ approved: boolean }>("decision");
  return decision.approved ? "approved" : "declined";
});
const XSS = "<img src=x onerror=alert(1)>";
const hostile = workflow({ name: "hostile" }, async (ctx) =>
  ctx.step(XSS, () => {
    throw new NonRetryableError(XSS);
  }),
);
let itemFixed = false;
const fanout = workflow({ name: "fan-out" }, async (ctx) => {
  const { deadLettered } = await ctx.map(
    "items",
    [1, 2, 3],
    (n) => {
      if (n === 2 && !itemFixed) throw new NonRetryableError("item 2 is malformed");
      return n * 10;
    },
    { onItemFailure: "dead-letter" },
  );
  return deadLettered.length;
});

const paging = workflow({ name: "pages-someone" }, async (ctx) =>
  ctx.step("call-vendor", ({ log }) => {
    log.error("vendor answered 503");
    throw new NonRetryableError("vendor is down");
  }),
);

let openGate: () => void = () => undefined;
const gated = workflow({ name: "gated" }, async (ctx) =>
  ctx.step("wait-for-gate", () => new Promise<string>((resolve) => (openGate = () => resolve("through")))),
);

let worker: Worker;
let served: ServedDashboard;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

beforeAll(async () => {
  await store.migrate();
  worker = new Worker({
    store,
    workflows: [charge, pipeline, approval, hostile, fanout, paging, gated],
    progressInterval: "100ms",
    pollInterval: "50ms",
    logger: silentLogger,
    migrate: false,
    alerts: {
      channels: { audit: async () => undefined },
      rules: [{ id: "vendor-down", on: "run.failed", workflows: ["pages-someone"], severity: "high", notify: ["audit"], escalateAfter: "1h" }],
      interval: "100ms",
    },
  });
  await worker.start();
  served = await serveDashboard({ store, port: 0 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await served?.close();
  await worker?.stop();
  await store.close();
});
beforeEach(async () => {
  page = await browser.newPage();
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
});

test("a failed run is in the list; its page shows the failed step's error in the timeline; Retry completes it, live", async () => {
  const handle = await client.start(charge, undefined);
  await handle.result({ timeout: "10s" }).catch(() => undefined);

  await page.goto(`${served.url}/runs?status=failed`);
  const row = page.locator(`[data-testid=run-row][data-run-id="${handle.id}"]`);
  await row.waitFor();
  expect(await row.locator("[data-testid=status]").textContent()).toBe("failed");
  expect(await row.textContent()).toContain("card declined by the bank");
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-runs.png"), fullPage: true });

  await row.locator("a").click();
  await page.locator("[data-testid=timeline]").waitFor();
  const step = page.locator('[data-testid=timeline-row][data-step="charge"]');
  expect(await step.locator("[data-testid=timeline-error]").textContent()).toContain("NonRetryableError: card declined by the bank");
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-run.png"), fullPage: true });

  chargeFixed = true;
  await page.locator("[data-testid=retry]").click();
  // No reload: the page follows the run as it moves.
  await page.locator("h1 [data-testid=status]", { hasText: "completed" }).waitFor({ timeout: 15_000 });
  expect(await page.locator("[data-testid=output]").textContent()).toContain("charged");
  expect((await client.status(handle.id)).status).toBe("completed");
});

test("fork from a chosen step gives a new run that skips the steps before it", async () => {
  const source = await client.start(pipeline, undefined);
  await source.result({ timeout: "10s" });
  await page.goto(`${served.url}/runs/${source.id}`);
  await page.locator("[data-testid=fork-step]").selectOption({ label: "1: transform" });
  await page.locator("[data-testid=fork]").click();
  await page.waitForURL((url) => url.pathname.startsWith("/runs/") && !url.pathname.endsWith(source.id));
  const forkId = decodeURIComponent(new URL(page.url()).pathname.slice("/runs/".length));
  expect(await client.result(forkId, { timeout: "10s" })).toBe("loaded");
  expect(executed.filter((e) => e.startsWith(`${forkId}:`))).toEqual([`${forkId}:transform`, `${forkId}:load`]);
  expect((await client.status(forkId)).forkedFrom).toBe(source.id);
});

test("a signal sent from the page resumes a waiting run", async () => {
  const handle = await client.start(approval, undefined);
  await expect.poll(async () => (await handle.status()).status, { timeout: 10_000 }).toBe("waiting");
  await page.goto(`${served.url}/runs/${handle.id}`);
  await page.locator("[data-testid=signal-name]").fill("decision");
  await page.locator("[data-testid=signal-payload]").fill('{"approved": true}');
  await page.locator("[data-testid=send-signal]").click();
  await page.locator("h1 [data-testid=status]", { hasText: "completed" }).waitFor({ timeout: 15_000 });
  expect(await handle.result()).toBe("approved");
});

test("a dead letter is redriven from the page", async () => {
  const handle = await client.start(fanout, undefined);
  expect(await handle.result({ timeout: "10s" })).toBe(1);
  itemFixed = true;
  await page.goto(`${served.url}/dead-letters`);
  const row = page.locator("[data-testid=dead-letter-row]").filter({ hasText: handle.id });
  await row.locator("[data-testid=redrive]").click();
  await page.waitForURL((url) => url.pathname.includes("-redrive-"));
  const redriveId = decodeURIComponent(new URL(page.url()).pathname.slice("/runs/".length));
  expect(await client.result(redriveId, { timeout: "10s" })).toBe(0);
});

test("an alert is acknowledged from the page", async () => {
  const handle = await client.start(paging, undefined);
  await handle.result({ timeout: "10s" }).catch(() => undefined);
  await expect.poll(async () => (await client.alerts.list({ status: "open" })).filter((a) => a.runId === handle.id).length, { timeout: 10_000 }).toBe(1);
  await page.goto(`${served.url}/alerts`);
  const row = page.locator("[data-testid=alert-row]").filter({ hasText: handle.id });
  expect(await row.textContent()).toContain("vendor is down");
  await row.locator("[data-testid=ack]").click();
  await row.locator("[data-testid=alert-status]", { hasText: "acknowledged" }).waitFor();
  const [alert] = (await client.alerts.list()).filter((a) => a.runId === handle.id);
  expect(alert).toMatchObject({ status: "acknowledged", acknowledgedBy: "dashboard" });
});

test("a run's page shows the step in flight: its attempt, its worker and how long it has run", async () => {
  const handle = await client.start(gated, undefined);
  await expect.poll(async () => (await handle.status()).currentStep?.name, { timeout: 10_000 }).toBe("wait-for-gate");
  await page.goto(`${served.url}/runs/${handle.id}`);
  const inFlight = page.locator("[data-testid=in-flight]");
  await inFlight.waitFor();
  const text = await inFlight.textContent();
  expect(text).toContain("wait-for-gate");
  expect(text).toContain("attempt 1");
  expect(text).toContain(worker.id);
  openGate();
  await page.locator("h1 [data-testid=status]", { hasText: "completed" }).waitFor({ timeout: 15_000 });
  expect(await inFlight.count()).toBe(0);
});

test("the charts show success rate, throughput, retries and time to recovery from the log", async () => {
  await page.goto(`${served.url}/charts?since=1h`);
  for (const chart of ["chart-success", "chart-throughput", "chart-retries", "chart-recovery"]) await page.locator(`[data-testid=${chart}]`).waitFor();
  // The runs of the tests before this one: charge-card failed, then completed after its retry.
  const row = page.locator("[data-testid=stats-table] tr").filter({ hasText: "charge-card" });
  expect(await row.textContent()).toContain("50.0%");
  expect(await page.locator("[data-testid=chart-throughput] rect").count()).toBeGreaterThan(0);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-charts.png"), fullPage: true });
});

test("names and errors a workflow recorded are shown as text: nothing they hold runs in the page", async () => {
  const handle = await client.start(hostile, undefined);
  await handle.result({ timeout: "10s" }).catch(() => undefined);
  await page.goto(`${served.url}/runs/${handle.id}`);
  await page.locator("[data-testid=timeline]").waitFor();
  await page.goto(`${served.url}/runs`);
  await page.locator(`[data-testid=run-row][data-run-id="${handle.id}"]`).waitFor();
  await page.goto(`${served.url}/runs/${handle.id}`);
  const step = page.locator("[data-testid=timeline-row]").first();
  await step.waitFor();
  expect(await step.getAttribute("data-step")).toBe(XSS);
  expect(await page.locator("[data-testid=run-error]").textContent()).toContain(XSS);
  expect(await page.locator("img").count()).toBe(0);
  await page.waitForTimeout(300);
  expect(dialogs).toEqual([]);
});

test("beyond loopback the dashboard needs its token: 401 without it, 200 with it, and the login sets a cookie", async () => {
  await expect(serveDashboard({ store, port: 0, host: "0.0.0.0" })).rejects.toThrow(/give it a token/);
  const guarded = await serveDashboard({ store, port: 0, host: "0.0.0.0", token: "s3cret-token" });
  try {
    const base = guarded.url.replace("0.0.0.0", "127.0.0.1");
    expect((await fetch(`${base}/api/runs`)).status).toBe(401);
    expect((await fetch(`${base}/api/runs`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await fetch(`${base}/api/runs`, { headers: { authorization: "Bearer s3cret-token" } })).status).toBe(200);
    // A state-changing request without the page's header is refused even with the token.
    const forged = await fetch(`${base}/api/runs/x/cancel`, { method: "POST", headers: { authorization: "Bearer s3cret-token" } });
    expect(forged.status).toBe(403);

    await page.goto(`${base}/runs`);
    await page.locator("input[name=token]").fill("s3cret-token");
    await page.locator("button[type=submit]").click();
    await page.locator("[data-testid=runs-table]").waitFor();
    const cookie = (await page.context().cookies()).find((c) => c.name === "reprise_dashboard");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
  } finally {
    await guarded.close();
  }
});
