import { toMillis, type Client, type RunLogLine } from "@reprise/sdk";
import { TERMINAL_STATUSES } from "@reprise/sdk/engine";
import { UsageError } from "./cli-error.js";
import { intFlag, parseFlags } from "./flags.js";
import { formatLogLine } from "./log-lines.js";
import { style } from "./style.js";
import { withClient } from "./with-client.js";

const PAGE = 1000;

/**
 * `reprise runs logs <id> [--follow] [--step S] [--limit N] [--json]`: a run's log lines.
 * With `--follow`, new lines are printed as the worker writes them (about once a second
 * for a running step) until the run ends; then it exits 0.
 */
export async function runLogsCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    follow: { type: "boolean" },
    step: { type: "string" },
    limit: { type: "string" },
    json: { type: "boolean" },
    interval: { type: "string" },
  });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError("usage: reprise runs logs <id> [--follow] [--step name|position] [--limit N] [--json]");
  const limit = intFlag(values.limit, "limit");
  if (limit !== undefined && (limit < 1 || limit > 10_000)) throw new UsageError("--limit must be from 1 to 10000");
  if (limit !== undefined && values.follow) throw new UsageError("--limit and --follow do not go together");
  const step = values.step === undefined ? undefined : /^\d+$/.test(values.step) ? Number(values.step) : values.step;
  let pollMs = 500;
  try {
    if (values.interval !== undefined) pollMs = toMillis(values.interval);
  } catch (error) {
    throw new UsageError(`--interval: ${(error as Error).message}`);
  }
  const print = (line: RunLogLine) => console.log(values.json ? JSON.stringify(line) : formatLogLine(line));
  await withClient(values, async (client) => {
    if (!values.follow) {
      const lines = await client.logs(id, { limit: limit ?? PAGE, ...(step === undefined ? {} : { step }) });
      if (lines.length === 0 && !values.json) console.log(style.dim(`run ${id} has no log lines`));
      lines.forEach(print);
      return;
    }
    await follow(client, id, step, Math.max(50, pollMs), print);
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
