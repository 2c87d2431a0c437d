import type { GoldenScenario } from "../../../test-support/goldens.js";
import { robustPipeline } from "../workflow.js";

// Epochs of 10 ms keep training short; the pipeline's shape is what the goldens pin.
export const scenarios: GoldenScenario[] = [
  // extract, transform, train, publish: every step succeeds at its first attempt.
  { name: "happy-path", workflow: robustPipeline, input: { epochMs: 10 } },
  // The source is down: extract gives up after 4 attempts (two 1 s timeouts, two 503s; about
  // 3.5 s), its onFailure hook alerts, and the pipeline goes on with load-cached.
  { name: "source-down-falls-back-to-cache", workflow: robustPipeline, input: { sourceFailures: 99, epochMs: 10 } },
  // Training crashes in epoch 2; the retry resumes from the checkpoint (heartbeat) after epoch 1.
  { name: "train-crash-resumes-from-checkpoint", workflow: robustPipeline, input: { crashAtEpoch: 2, epochMs: 10 } },
];
