import type { GoldenScenario } from "../../../test-support/goldens.js";
import { nightlyPipeline } from "../workflow.js";

export const scenarios: GoldenScenario[] = [
  // What the scheduler starts for the 2026-01-07 02:00 New York slot: it processes 2026-01-06.
  { name: "scheduled-run", workflow: nightlyPipeline, input: { scheduledAt: "2026-01-07T07:00:00.000Z", source: "orders" } },
];
