import { toMillis, type WorkflowStats } from "@reprise/sdk";
import { formatMillis } from "@reprise/sdk/engine";
import type { Command } from "commander";
import { UsageError } from "./cli-error.js";
import { action, type ActionInput } from "./command-action.js";
import { style, table } from "./style.js";
import { withClient } from "./with-client.js";

/** `reprise stats [--since 7d] [--workflow W] [--json]`: success rate, retries, recovery and durations per workflow. */
export function statsCommand(command: Command): void {
  command
    .description("success rate, retries, time to recovery, p50/p95 durations per workflow")
    .option("--since <when>", "the window: a duration back from now (7d, 12h) or a date (2026-01-01)", "7d")
    .option("--workflow <name>", "only this workflow")
    .option("--json", "print the numbers as JSON")
    .action(action(stats));
}

async function stats({ values }: ActionInput<{ since: string; workflow?: string; json?: boolean }>): Promise<void> {
  const { since } = values;
  // A date (2026-01-01, or a full ISO time) or a duration back from now.
  const sinceValue = /^\d{4}-\d\d-\d\d/.test(since) ? new Date(since) : since;
  // new Date() rolls 2026-02-30 over to March 2nd: a date must come back as it was typed.
  if (sinceValue instanceof Date && (Number.isNaN(sinceValue.getTime()) || (/^\d{4}-\d\d-\d\d$/.test(since) && sinceValue.toISOString().slice(0, 10) !== since))) {
    throw new UsageError(`--since: not a date or a duration: ${since}`);
  }
  if (typeof sinceValue === "string") {
    let ms: number;
    try {
      ms = toMillis(sinceValue);
    } catch (error) {
      throw new UsageError(`--since: ${(error as Error).message}`);
    }
    // Past year 1 the database has no timestamps to compare with (and a Date none to make).
    if (ms > Date.now() + 62_135_596_800_000) throw new UsageError(`--since ${since} reaches back before the year 1`);
  }
  await withClient(values, async (client) => {
    let stats: WorkflowStats[];
    try {
      stats = await client.stats({ since: sinceValue, ...(values.workflow ? { workflow: values.workflow } : {}) });
    } catch (error) {
      if ((error as { code?: string }).code === "VALIDATION") throw new UsageError(`--since: ${(error as Error).message}`);
      throw error;
    }
    if (values.json) {
      console.log(JSON.stringify(stats, null, 2));
      return;
    }
    const window = sinceValue instanceof Date ? `since ${sinceValue.toISOString()}` : `in the last ${since}`;
    if (stats.length === 0) {
      console.log(`no run ended ${window}${values.workflow ? ` for workflow ${values.workflow}` : ""}`);
      return;
    }
    const ms = (v: number | null) => (v === null ? style.dim("—") : formatMillis(v));
    const rows = stats.map((s) => [
      s.workflowName,
      String(s.runs),
      String(s.completed),
      s.failed > 0 ? style.red(String(s.failed)) : "0",
      String(s.cancelled),
      s.successRate === null ? style.dim("—") : rate(s.successRate),
      String(s.stepRetries),
      ms(s.meanTimeToRecoveryMs),
      ms(s.stepMeanTimeToRecoveryMs),
      ms(s.p50DurationMs),
      ms(s.p95DurationMs),
    ]);
    console.log(style.dim(`run endings ${window}, from the event log`));
    console.log(table(rows, { header: ["workflow", "runs", "completed", "failed", "cancelled", "success", "retries", "recovery", "step recovery", "p50", "p95"] }));
  });
}

function rate(r: number): string {
  const text = `${(r * 100).toFixed(r === 1 || r === 0 ? 0 : 1)}%`;
  return r >= 0.99 ? style.green(text) : r < 0.9 ? style.red(text) : style.yellow(text);
}
