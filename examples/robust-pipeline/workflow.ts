import { StepFailedError, workflow, type FailureInfo } from "@reprise/sdk";
import { z } from "zod";

/** What the alerting hooks sent, in this process (the demo prints them; a real hook would page someone). */
export const alerts: string[] = [];

function alert(message: string): void {
  alerts.push(message);
  console.log(`[alert] ${message}`);
}

/** Waits `ms`, or rejects with the abort reason (a step timeout, the pipeline's deadline, a cancel). */
function work(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });
}

const Input = z.object({
  dataset: z.string().default("sales-2026-11"),
  /** How many times the source misbehaves before it answers: odd attempts hang, even ones answer 503. */
  sourceFailures: z.number().int().min(0).default(0),
  epochs: z.number().int().min(1).max(100).default(5),
  epochMs: z.number().int().min(0).max(60_000).default(300),
  /** The first training attempt crashes at this epoch (0: never). */
  crashAtEpoch: z.number().int().min(0).default(0),
});

/** What `client.start(robustPipeline, …)` accepts (every field has a default). */
export type PipelineInput = z.input<typeof Input>;

/**
 * An ML pipeline that degrades gracefully:
 * - extract: up to 4 attempts with exponential backoff (200 ms, 400 ms, 800 ms), 1 s per
 *   attempt, an alerting hook when it gives up — and then the pipeline falls back to the
 *   cached snapshot instead of failing;
 * - train: one retry and a long timeout; it checkpoints every epoch with a heartbeat, so
 *   the retry resumes where the crashed attempt stopped;
 * - the whole pipeline has a deadline (10 s here; hours in real life) and an alerting
 *   onFailure.
 */
export const robustPipeline = workflow(
  {
    name: "robust-pipeline",
    input: Input,
    timeout: "10s",
    retry: { maxAttempts: 3, initialDelay: "250ms" },
    onFailure: (f: FailureInfo) => alert(`pipeline run ${f.runId} failed: ${f.error.name}: ${f.error.message}`),
  },
  async (ctx, input) => {
    let source: "live" | "cache";
    let rows: number;
    try {
      rows = await ctx.step(
        "extract",
        async ({ attempt, signal, log }) => {
          if (attempt <= input.sourceFailures) {
            if (attempt % 2 === 1) {
              log.warn(`attempt ${attempt}: the source does not answer`);
              await work(60_000, signal); // cut short by the step's 1 s timeout
            }
            log.warn(`attempt ${attempt}: the source answers 503`);
            throw new Error("503 Service Unavailable from the warehouse API");
          }
          await work(100, signal);
          log.info(`attempt ${attempt}: extracted 1200 rows of ${input.dataset}`);
          return 1200;
        },
        {
          retry: { maxAttempts: 4, initialDelay: "200ms", backoff: "exponential", factor: 2, jitter: 0 },
          timeout: "1s",
          onFailure: (f) => alert(`step ${f.stepName} of run ${f.runId} gave up after ${f.attempt} attempts: ${f.error.name}: ${f.error.message}`),
        },
      );
      source = "live";
    } catch (error) {
      if (!(error instanceof StepFailedError)) throw error;
      ctx.log.warn(`extract failed after ${error.attempts} attempts (${error.cause.message}); falling back to the cached snapshot`);
      rows = await ctx.step("load-cached", ({ log }) => {
        log.info(`loaded 1150 rows of ${input.dataset} from the snapshot of 2026-11-21`);
        return 1150;
      });
      source = "cache";
    }

    const features = await ctx.step("transform", () => ({ rows, features: 42 }));

    const model = await ctx.step(
      "train",
      async ({ attempt, heartbeat, lastHeartbeat, signal, log }) => {
        const done = (lastHeartbeat as { epoch: number } | undefined)?.epoch ?? 0;
        if (done > 0) log.info(`attempt ${attempt}: resuming from the checkpoint after epoch ${done}`);
        let loss = 1 / (done + 1);
        for (let epoch = done + 1; epoch <= input.epochs; epoch++) {
          await work(input.epochMs, signal);
          if (attempt === 1 && epoch === input.crashAtEpoch) {
            log.error(`attempt ${attempt}: CUDA out of memory in epoch ${epoch}`);
            throw new Error(`CUDA out of memory in epoch ${epoch}`);
          }
          loss = 1 / (epoch + 1);
          await heartbeat({ epoch, loss });
          log.info(`attempt ${attempt}: epoch ${epoch}/${input.epochs}, loss ${loss.toFixed(3)}`);
        }
        return { epochs: input.epochs, resumedAfterEpoch: done, loss: Number(loss.toFixed(3)), trainedOn: features.rows };
      },
      { retry: { maxAttempts: 2, initialDelay: "500ms" }, timeout: "5m" },
    );

    const published = await ctx.step("publish", () => `s3://models/${input.dataset}/${ctx.runId}.onnx`);
    return { source, rows, model, published };
  },
);
