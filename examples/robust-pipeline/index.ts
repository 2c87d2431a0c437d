import {
  WorkflowFailedError,
  type Client,
  type HistoryEvent,
  type StepAttemptFailedPayload,
  type StepCompletedPayload,
  type StepFailedPayload,
} from "@reprise/sdk";
import { alerts, robustPipeline, type PipelineInput } from "./workflow.js";

export { robustPipeline };

const SCENARIOS: { title: string; input: PipelineInput }[] = [
  {
    title: "a flaky source and a trainer that crashes once",
    input: { sourceFailures: 2, crashAtEpoch: 3 },
  },
  {
    title: "the source is down: extract gives up, the pipeline falls back to the cache",
    input: { sourceFailures: 99 },
  },
  {
    title: "training is far too slow: the pipeline's 10 s deadline fails the run",
    input: { epochMs: 4_000 },
  },
];

/** One line per step and attempt, from the run's history. */
function describe(history: readonly HistoryEvent[]): string[] {
  const lines: string[] = [];
  let last = "";
  for (const e of history) {
    if (!e.name || !["StepAttemptFailed", "StepFailed", "StepCompleted"].includes(e.kind)) continue;
    const label = e.name === last ? "" : e.name;
    last = e.name;
    if (e.kind === "StepAttemptFailed") {
      const p = e.payload as StepAttemptFailedPayload;
      lines.push(`${label.padEnd(12)} attempt ${p.attempt} failed: ${p.error.name}: ${p.error.message} -> retry in ${p.delayMs}ms`);
    } else if (e.kind === "StepFailed") {
      const p = e.payload as StepFailedPayload;
      lines.push(`${label.padEnd(12)} attempt ${p.attempts} failed: ${p.error.name}: ${p.error.message} -> gave up`);
    } else {
      const p = e.payload as StepCompletedPayload;
      lines.push(`${label.padEnd(12)} attempt ${p.attempt} ok (${Math.round(p.durationMs)}ms)`);
    }
  }
  return lines;
}

/**
 * Called by `reprise dev examples/robust-pipeline/index.ts`: runs the pipeline three
 * times, one scenario after the other, and shows how each failure was handled.
 */
export async function dev({ client, log }: { client: Client; log: (line: string) => void }): Promise<void> {
  for (const [i, { title, input }] of SCENARIOS.entries()) {
    const handle = await client.start(robustPipeline, input);
    log(`\n=== ${i + 1}. ${title}\n    run ${handle.id}, input ${JSON.stringify(input)}\n`);
    const alertsBefore = alerts.length;
    const failure = await handle.result().then(
      (output) => {
        log(`\n--- run ${handle.id} completed: ${JSON.stringify(output)}`);
        return undefined;
      },
      (error: unknown) => {
        if (!(error instanceof WorkflowFailedError)) throw error;
        log(`\n--- run ${handle.id} failed: ${error.cause.name}: ${error.cause.message}`);
        return error;
      },
    );
    for (const line of describe(await handle.history())) log(`    ${line}`);
    if (failure?.cause.name === "WorkflowTimeoutError") {
      log(`    (the step in flight at the deadline had its signal aborted; nothing was recorded for it)`);
    }
    const sent = alerts.slice(alertsBefore);
    log(`    alerts sent: ${sent.length === 0 ? "none" : sent.length}`);
  }
  log(`\nEach run's full timeline: npx reprise runs show <id>. Ctrl-C stops the worker.\n`);
}
