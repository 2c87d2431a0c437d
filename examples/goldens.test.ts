import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { replayHistories } from "@reprise/sdk";
import { describe, expect, test } from "vitest";
import { useTestSchema } from "../test-support/db.js";
import { exampleDirs, goldenVersion, readGoldens, recordGoldens, workflowsOf, type GoldenScenario } from "../test-support/goldens.js";

// Golden histories: examples/<name>/golden/<version>/*.json, recorded from real runs by the
// release <version>, and never rewritten. Every release's histories must replay against the
// workflows that examples/<name>/index.ts exports today, ending as they were recorded — so a
// change that would break runs in flight, started by any release, fails CI.
//
// `pnpm goldens` (RECORD_GOLDENS=1, or =<example> for one) first records the scenarios in
// examples/<name>/golden/scenarios.ts that the current version's folder lacks, on the test
// database.

const root = dirname(fileURLToPath(import.meta.url));
const examples = exampleDirs(root);
const record = process.env.RECORD_GOLDENS;
const db = record ? useTestSchema() : undefined;

describe.each(examples)("examples/%s", (example) => {
  const dir = join(root, example, "golden");

  test.runIf(record && (record === "1" || record === example) && existsSync(join(dir, "scenarios.ts")))("records its golden histories", async () => {
    const { scenarios } = (await import(join(dir, "scenarios.ts"))) as { scenarios: GoldenScenario[] };
    const { written, skipped } = await recordGoldens(db!.connection, await workflowsOf(join(root, example, "index.ts")), scenarios, dir);
    if (skipped.length) console.log(`examples/${example}: ${skipped.length} golden(s) of ${goldenVersion} already recorded, left as they are`);
    expect(written.length + skipped.length).toBe(scenarios.length);
  });

  test.runIf(existsSync(dir))("every release's golden histories replay against today's code, ending as recorded", async () => {
    const goldens = readGoldens(dir);
    expect(goldens.length, `no ${dir}/<version>/*.json`).toBeGreaterThan(0);
    const versionOf = new Map(goldens.map((g) => [g.source, g.version]));
    const results = await replayHistories(await workflowsOf(join(root, example, "index.ts")), goldens);
    for (const r of results) {
      const recorded = r.report!.recordedOutcome === "cancelled" ? "failed" : r.report!.recordedOutcome;
      const message = `${r.source}, recorded by ${versionOf.get(r.source!)}, ended ${recorded} when recorded`;
      expect(r.report!.outcome, message).toBe(recorded === "unfinished" ? "suspended" : recorded);
    }
  });
});
