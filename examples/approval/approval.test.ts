import { Client } from "@reprise/sdk";
import { Worker, silentLogger } from "@reprise/worker";
import { main } from "@reprise/worker/cli";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { useTestSchema } from "../../test-support/db.js";
import { waitFor } from "../../test-support/wait.js";
import { approvalRequest, provisionItem } from "./workflow.js";

const db = useTestSchema();
const client = new Client(db.connection);
const cli = (...args: string[]) => main([...args, "--database-url", db.url, "--schema", db.schema]);
let worker: Worker;
beforeAll(async () => {
  worker = new Worker({ ...db.connection, workflows: [approvalRequest, provisionItem], logger: silentLogger, pollInterval: "50ms" });
  await worker.start();
});
afterAll(async () => {
  await worker.stop();
  await client.close();
});

const waiting = (id: string) => waitFor(async () => (await client.status(id)).status === "waiting", { what: `run ${id} to wait for approval` });

test("an approved request provisions every item as a child run", async () => {
  const handle = await client.start(approvalRequest, { requestedBy: "grace", items: ["web-1", "db-1", "web-1"], coolingOff: "200ms" });
  await waiting(handle.id);

  // The CLI line the example prints, with --entry so that a bad payload is refused up front.
  const quiet = vi.spyOn(console, "log").mockImplementation(() => undefined);
  const errors: string[] = [];
  const err = vi.spyOn(console, "error").mockImplementation((line: string) => void errors.push(String(line)));
  try {
    expect(await cli("runs", "signal", handle.id, "approve", '{"by":42}', "--entry", "examples/approval/index.ts")).toBe(1);
    expect(errors[0]).toMatch(/invalid payload of signal "approve"/);
    expect(await db.sql(`SELECT 1 FROM "${db.schema}".signals WHERE run_id = $1`, [handle.id])).toEqual([]);
    expect(await cli("runs", "signal", handle.id, "approve", '{"by":"ada"}', "--entry", "examples/approval/index.ts")).toBe(0);
  } finally {
    quiet.mockRestore();
    err.mockRestore();
  }

  const result = await handle.result({ timeout: "20s" });
  expect(result).toEqual({
    outcome: "provisioned",
    requestedBy: "grace",
    approvedBy: "ada",
    provisioned: [
      { item: "db-1", host: "db-1.internal" },
      { item: "web-1", host: "web-1.internal" },
    ],
  });
  const children = (await client.listRuns({ workflow: "provision-item" })).filter((r) => r.parentId === handle.id);
  expect(children.map((c) => c.status)).toEqual(["completed", "completed"]);
  const kinds = (await handle.history()).map((e) => e.kind);
  expect(kinds).toContain("TimerStarted");
  expect(kinds.filter((k) => k === "ChildStarted")).toHaveLength(2);
});

test("a declined request provisions nothing, and one nobody answers expires", async () => {
  const declined = await client.start(approvalRequest, { requestedBy: "bob", items: ["gpu-1"], coolingOff: "100ms" });
  await waiting(declined.id);
  await client.signal(declined.id, "approve", { by: "ada", approved: false, note: "not this quarter" });
  expect(await declined.result({ timeout: "10s" })).toEqual({ outcome: "declined", requestedBy: "bob", by: "ada", note: "not this quarter" });

  const ignored = await client.start(approvalRequest, { requestedBy: "eve", items: ["gpu-2"], coolingOff: "100ms", approvalTimeout: "500ms" });
  expect(await ignored.result({ timeout: "10s" })).toEqual({ outcome: "expired", requestedBy: "eve", waitedFor: "500ms" });
  const children = (await client.listRuns({ workflow: "provision-item" })).filter((r) => r.parentId === declined.id || r.parentId === ignored.id);
  expect(children).toEqual([]);
});
