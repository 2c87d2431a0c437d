import { toMillis, type Client, type RunLogLine } from "@reprise/sdk";
import { TERMINAL_STATUSES } from "@reprise/sdk/engine";
import type { Command } from "commander";
import { UsageError } from "./cli-error.js";
import { action, type ActionInput } from "./command-action.js";
import { INT4, integer } from "./flags.js";
import { formatLogLine } from "./log-lines.js";
import { style } from "./style.js";
import { withClient } from "./with-client.js";

const PAGE = 1000;

/**
 * `reprise runs logs <id> [--follow] [--step S] [--limit N] [--json]`: a run's log lines.
 * With `--follow`, new lines are printed as the worker writes them (about once a second
 * for a running step) until the run ends; then it exits 0.
 */
export function runLogsCommand(command: Command): void {
  command
    .description("a run's ctx.log lines; --follow prints new ones until the run ends")
    .argument("<id>", "the run's id")
    .option("--follow", "print new lines as they are written, until the run ends")
    .option("--step <step>", "only the lines of this step: its name or its position")
    .option("--limit <n>", `at most this many lines (default: ${PAGE})`, integer({ min: 1, max: 10_000 }))
    .option("--json", "print each line as a JSON object")
    .option("--interval <duration>", "how often --follow looks for new lines", "500ms")
    .action(action(runLogs));
}

async function runLogs({ values, positionals: [id] }: ActionInput<{ follow?: boolean; step?: string; limit?: number; json?: boolean; interval: string }>): Promise<void> {
  const { limit } = values;
  if (limit !== undefined && values.follow) throw new UsageError("--limit and --follow do not go together");
  const step = values.step === undefined ? undefined : /^\d+$/.test(values.step) ? Number(values.step) : values.step;
  if (typeof step === "number" && step > INT4.max) throw new UsageError(`--step ${values.step}: no run has a step at that position`);
  let pollMs: number;
  try {
    pollMs = toMillis(values.interval);
  } catch (error) {
    throw new UsageError(`--interval: ${(error as Error).message}`);
  }
  const print = (line: RunLogLine) => console.log(values.json ? JSON.stringify(line) : formatLogLine(line));
  await withClient(values, async (client) => {
    if (!values.follow) {
      const lines = await client.logs(id!, { limit: limit ?? PAGE, ...(step === undefined ? {} : { step }) });
      if (lines.length === 0 && !values.json) console.log(style.dim(`run ${id} has no log lines`));
      lines.forEach(print);
      return;
    }
    await follow(client, id!, step, Math.max(50, pollMs), print);
  });
}

/**
 * Polls for lines after the last one printed. A run's lines are written in order and each
 * write commits before the next (see the worker's committer), so a line never appears
 * behind one already read. The run's end commits with its last lines: once the status
 * says it ended, one more read gets them all.
 */
async function follow(client: Client, id: string, step: string | number | undefined, pollMs: number, print: (line: RunLogLine) => void): Promise<void> {
  let after: string | undefined;
  let ended: string | undefined;
  for (;;) {
    const lines = await client.logs(id, { limit: PAGE, ...(step === undefined ? {} : { step }), ...(after === undefined ? {} : { after }) });
    lines.forEach(print);
    if (lines.length > 0) after = lines[lines.length - 1]!.id;
    if (lines.length === PAGE) continue;
    if (ended) {
      console.error(style.dim(`run ${id} ${ended}`));
      return;
    }
    const { status } = await client.status(id);
    if (TERMINAL_STATUSES.has(status)) {
      ended = status;
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
