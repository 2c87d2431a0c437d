import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { replayHistories } from "@reprise/sdk";
import { describe, expect, test } from "vitest";
import { useTestSchema } from "../test-support/db.js";
import { exampleDirs, readGoldens, recordGoldens, workflowsOf, type GoldenScenario } from "../test-support/goldens.js";

// Golden histories: examples/<name>/golden/*.json, recorded from real runs. Each must replay
// against the workflows that examples/<name>/index.ts exports today, ending as it was
// recorded — so a change that would break runs in flight fails CI.
//
// `pnpm goldens` (RECORD_GOLDENS=1, or =<example> for one) re-records them first from the
// scenarios in examples/<name>/golden/scenarios.ts, on the test database.

const root = dirname(fileURLToPath(import.meta.url));
const examples = exampleDirs(root);
const record = process.env.RECORD_GOLDENS;
const db = record ? useTestSchema() : undefined;

describe.each(examples)("examples/%s", (example) => {
  const dir = join(root, example, "golden");

  test.runIf(record && (record === "1" || record === example) && existsSync(join(dir, "scenarios.ts")))("records its golden histories", async () => {
    const { scenarios } = (await import(join(dir, "scenarios.ts"))) as { scenarios: GoldenScenario[] };
    const written = await recordGoldens(db!.connection, await workflowsOf(join(root, example, "index.ts")), scenarios, dir);
    expect(written).toHaveLength(scenarios.length);
  });

  test.runIf(existsSync(dir))("its golden histories replay against today's code, ending as recorded", async () => {
    const goldens = readGoldens(dir);
    expect(goldens.length, `no *.json in ${dir}`).toBeGreaterThan(0);
    const results = await replayHistories(await workflowsOf(join(root, example, "index.ts")), goldens);
    for (const r of results) {
      const recorded = r.report!.recordedOutcome === "cancelled" ? "failed" : r.report!.recordedOutcome;
      expect(r.report!.outcome, `${r.source} ended ${recorded} when recorded`).toBe(recorded === "unfinished" ? "suspended" : recorded);
    }
  });
});
