import { afterAll, beforeAll, expect, test } from "vitest";
import { ClaimPlanProbe, loadDelayedRuns, loadFinishedRuns, type ClaimPlan } from "../../../test-support/claim-plan.js";
import { useTestSchema } from "../../../test-support/db.js";

// The claim's plan is checked as Postgres would run it for a prepared statement (a generic
// plan), on statistics that lag the data: gathered while the schema was tiny, then tens of
// thousands of runs and events loaded. That is how a claim once became a sequential scan of
// events per claimed run. Buffer counts are pages read, not time: deterministic enough to
// assert on.

const db = useTestSchema();
const probe = new ClaimPlanProbe(db.url, db.schema);
const { store } = probe;
beforeAll(() => store.migrate());
afterAll(() => probe.close());

/**
 * The lanes are index range scans of runs, the update finds the locked rows by tuple id:
 * nothing reads events or heartbeats, nothing reads a whole table or index.
 */
function expectRunsIndexOnly(plan: ClaimPlan): void {
  expect(plan.scans).toEqual([
    expect.stringMatching(/^Index Scan on runs \(runs_ready(_now)?\)$/), // the same order; runs_ready goes next release
    "Index Scan on runs (runs_delayed)",
    "Index Scan on runs (runs_timed)",
    "ModifyTable on runs",
    "Tid Scan on runs",
  ]);
}

test("the claim reads only indexes of runs: on a freshly analyzed tiny schema, after 20k finished runs and 200k events are loaded, and after they are analyzed", async () => {
  await store.startRuns([1, 2, 3].map((i) => ({ id: `tiny-${i}`, workflow: "w", queue: "default" })));
  await db.sql(`ANALYZE "${db.schema}".runs; ANALYZE "${db.schema}".events`);
  expectRunsIndexOnly(await probe.explain({ workflows: ["w"], limit: 500 }));

  await loadFinishedRuns(db.pool, db.schema, { runs: 20_000, eventsPerRun: 10, workflow: "w" });
  expectRunsIndexOnly(await probe.explain({ workflows: ["w"], limit: 500 }));
  const claimed = await probe.explain({ workflows: ["w"], limit: 500, analyze: true });
  expectRunsIndexOnly(claimed);

  await db.sql(`ANALYZE "${db.schema}".runs; ANALYZE "${db.schema}".events`);
  expectRunsIndexOnly(await probe.explain({ workflows: ["w"], limit: 500 }));
});

test("an idle claim reads a handful of pages however many delayed runs wait, and a delayed run is claimed once due", async () => {
  await loadDelayedRuns(db.pool, db.schema, { runs: 20_000, workflow: "d" });
  const idle = await probe.explain({ workflows: ["d"], limit: 500, analyze: true });
  expectRunsIndexOnly(idle);
  // The 20k delayed runs fill about 100 index pages; none of them is read.
  expect(idle.buffers).toBeLessThan(40);

  await store.startRuns([{ id: "soon", workflow: "d", queue: "default", delayMs: 50 }]);
  await db.sql(`UPDATE "${db.schema}".runs SET available_at = now() - interval '1 second' WHERE id = 'later-7'`);
  await new Promise((r) => setTimeout(r, 100));
  const claimed = await store.claimRuns({ queue: "default", workflows: ["d"], limit: 10, owner: "w", leaseMs: 60_000 });
  expect(claimed.map((c) => c.id).sort()).toEqual(["later-7", "soon"]);
  expect(claimed.every((c) => !c.resumed)).toBe(true);
});
