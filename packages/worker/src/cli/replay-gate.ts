import { existsSync } from "node:fs";
import { replayHistories, toMillis, type HistoryReplayResult, type ReplayableHistory } from "@reprise/sdk";
import { formatMillis } from "@reprise/sdk/engine";
import type { Store } from "@reprise/store";
import { Finding, UsageError } from "./cli-error.js";
import { openStore } from "./connection.js";
import { DEFAULT_ENTRIES } from "./dev.js";
import { loadWorkflows } from "./load-entry.js";
import { style } from "./style.js";

/** Runs are read and replayed a page at a time, so memory stays flat however many there are. */
const PAGE = 200;

interface GateFlags {
  "database-url"?: string | undefined;
  schema?: string | undefined;
  workflow?: string | undefined;
  since?: string | undefined;
  entry?: string | undefined;
  status?: string | undefined;
  limit?: number | undefined;
}

/**
 * `reprise replay --workflow <name> --since 7d --entry <file>`: the deploy gate. Replays
 * every run of the workflow started in that window against today's code and fails, listing
 * them, if any would diverge (or, having completed, would now fail).
 */
export async function replayGate(flags: GateFlags): Promise<void> {
  const name = flags.workflow;
  const entryFile = flags.entry ?? DEFAULT_ENTRIES.find((f) => existsSync(f));
  if (!name || !entryFile) throw new UsageError("usage: reprise replay --workflow <name> --since 7d --entry <file> [--status S] [--limit N]");
  const sinceMs = toMillisFlag(flags.since ?? "7d");
  const limit = flags.limit ?? 10_000;
  const entry = await loadWorkflows(entryFile);
  const wf = entry.workflows.find((w) => w.name === name);
  if (!wf) throw new UsageError(`${entryFile} exports no workflow "${name}" (it has: ${entry.workflows.map((w) => w.name).join(", ")})`);

  const store = await openStore(flags);
  let results: HistoryReplayResult[];
  let cutoff: Date;
  try {
    cutoff = new Date((await store.now()).getTime() - sinceMs);
    console.log(
      `${style.bold(`Replaying runs of ${name}`)} started since ${cutoff.toISOString()} (${formatMillis(sinceMs)})${flags.status ? ` with status ${flags.status}` : ""} against ${entryFile}`,
    );
    results = await replayHistories([wf], recentHistories(store, { workflow: name, status: flags.status, cutoff, limit }), {
      throwOnProblem: false,
      onResult: (r) => {
        if (r.problem) console.log(`  ${style.red("✗")} ${r.runId}  ${style.red(r.problem.kind)}  ${r.problem.message}`);
      },
    });
  } finally {
    await store.close();
  }

  const problems = results.filter((r) => r.problem);
  if (results.length === 0) {
    console.log(`no runs of ${name} started since ${cutoff.toISOString()}`);
    return;
  }
  const counts = new Map<string, number>();
  for (const r of results) if (!r.problem) counts.set(r.report!.recordedOutcome, (counts.get(r.report!.recordedOutcome) ?? 0) + 1);
  const clean = [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(", ");
  if (problems.length === 0) {
    console.log(style.green(`all ${results.length} runs replay against today's code`) + (clean ? style.dim(` (${clean})`) : ""));
    return;
  }
  console.log(`${results.length - problems.length} of ${results.length} runs replay clean${clean ? ` (${clean})` : ""}; ${style.red(`${problems.length} would not`)}:`);
  for (const r of problems) console.log(`  ${r.runId}`);
  throw new Finding(`${problems.length} of ${results.length} runs of ${name} would not replay against today's code`);
}

/** Histories of the workflow's runs created after `cutoff`, newest first, a page at a time. */
async function* recentHistories(
  store: Store,
  filter: { workflow: string; status: string | undefined; cutoff: Date; limit: number },
): AsyncGenerator<ReplayableHistory> {
  let after: string | undefined;
  let yielded = 0;
  for (;;) {
    const page = await store.listRuns({ workflow: filter.workflow, status: filter.status, after, limit: Math.min(PAGE, filter.limit - yielded) });
    const recent = page.filter((r) => r.createdAt >= filter.cutoff);
    if (recent.length === 0) return;
    const histories = await store.loadHistories(recent.map((r) => r.id));
    for (const run of recent) {
      // The histories hold references to large values; a replay reads the ones it reaches.
      const loadPayload = async (id: string) => {
        const text = (await store.loadPayloads(run.id, [id])).get(id);
        if (text === undefined) throw new Error(`payload ${id} of run ${run.id} is not in the database`);
        return JSON.parse(text) as unknown;
      };
      yield { runId: run.id, events: histories.get(run.id)?.events ?? [], loadPayload };
      if (++yielded >= filter.limit) return;
    }
    if (recent.length < page.length || page.length < PAGE) return;
    after = page[page.length - 1]!.id;
  }
}

function toMillisFlag(value: string): number {
  try {
    return toMillis(value);
  } catch (error) {
    throw new UsageError(`--since: ${(error as Error).message}`);
  }
}
