import type { GoldenScenario } from "../../../test-support/goldens.js";
import { crashResume } from "../workflow.js";

export const scenarios: GoldenScenario[] = [{ name: "three-steps", workflow: crashResume, input: { steps: 3, stepMs: 10 } }];
