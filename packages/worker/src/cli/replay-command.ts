import { existsSync } from "node:fs";
import { Client, EventKind, replay, type HistoryEvent, type ParsedHistory, type ReplayReport, type RunFailedPayload } from "@reprise/sdk";
import { serializeError } from "@reprise/sdk/engine";
import { Option, type Command } from "commander";
import { Finding, UsageError } from "./cli-error.js";
import { action, type ActionInput } from "./command-action.js";
import { openStore } from "./connection.js";
import { DEFAULT_ENTRIES } from "./dev.js";
import { integer } from "./flags.js";
import { isHistoryFile, readHistoryFile, writeHistoryFile } from "./history-file.js";
import { openInspector, pauseAfterLoad, pauseBeforeRecordedFailure, inspectorOpen } from "./inspector.js";
import { loadWorkflows } from "./load-entry.js";
import { replayGate } from "./replay-gate.js";
import { renderReplayOutcome } from "./replay-outcome.js";
import { RUN_STATUSES } from "./runs.js";
import { style } from "./style.js";
import { buildTimeline, renderTimeline } from "./timeline.js";

const USAGE = `usage: reprise replay <run id | history.json> [--entry <file>] [--until N] [--export out.json] [--break-on-failure] [--inspect] [--json]
       reprise replay <run id> --export out.json
       reprise replay --workflow <name> --since 7d --entry <file> [--status S] [--limit N]`;

/**
 * `reprise replay`: replays a recorded run against the workflow code of `--entry`, from the
 * database or from a history file (no database needed), and prints its timeline and the
 * outcome or divergence. With `--workflow` and `--since`, replays every recent run of a
 * workflow: the deploy gate.
 */
export function replayCommand(command: Command): void {
  command
    .description("replays a run against today's code, from the database or a history file; with --workflow and --since, the deploy gate")
    .argument("[target]", "a run id, or a history file (.json) that --export wrote")
    .option("--entry <file>", `the file that exports the workflow (default: the first of ${DEFAULT_ENTRIES.join(", ")})`)
    .option("--until <position>", "stop after this position of the history", integer({ min: 0 }))
    .option("--export <file>", "save the run's history to this file (replayable with no database)")
    .option("--json", "print the report as JSON")
    .option("--break-on-failure", "pause in the debugger before the recorded failure (with --inspect)")
    .option("--inspect", "open the Node inspector and wait for a debugger")
    .option("--workflow <name>", "the deploy gate: replay the recent runs of this workflow")
    .option("--since <duration>", "the deploy gate: runs started this far back (default: 7d)")
    .addOption(new Option("--status <status>", "the deploy gate: only runs in this status").choices(RUN_STATUSES))
    .option("--limit <n>", "the deploy gate: at most this many runs (default: 10000)", integer({ min: 1 }))
    .action(action(replayRun));
}

interface ReplayFlags {
  entry?: string;
  until?: number;
  export?: string;
  json?: boolean;
  "break-on-failure"?: boolean;
  inspect?: boolean;
  workflow?: string;
  since?: string;
  status?: string;
  limit?: number;
}

async function replayRun({ values, positionals }: ActionInput<ReplayFlags>): Promise<void> {
  if (values.workflow !== undefined || values.since !== undefined) {
    if (positionals.length > 0) throw new UsageError(`replay either one run or --workflow's runs, not both\n${USAGE}`);
    return replayGate(values);
  }
  const target = positionals[0];
  if (!target) throw new UsageError(USAGE);
  const { until } = values;
  const entryFile = values.entry ?? (values.export ? undefined : DEFAULT_ENTRIES.find((f) => existsSync(f)));
  if (!entryFile && !values.export) throw new UsageError(`pass --entry <file> that exports the workflow (or only --export <file> to save the history)\n${USAGE}`);

  const fromFile = isHistoryFile(target);
  const loaded = fromFile ? { history: readHistoryFile(target), status: undefined } : await loadFromDatabase(target, values);
  const { history } = loaded;
  const log = (line: string) => (values.json ? console.error(line) : console.log(line));

  if (values.export) {
    writeHistoryFile(values.export, history.events, history.runId);
    log(`wrote ${values.export}: ${history.events.length} events of run ${history.runId} (${history.workflowName})`);
    if (!entryFile) return;
  }

  if (values.inspect) openInspector(log);
  const entry = await loadWorkflows(entryFile!);
  const wf = entry.workflows.find((w) => w.name === history.workflowName);
  if (!wf) {
    throw new UsageError(`${entryFile} exports no workflow "${history.workflowName}" (it has: ${entry.workflows.map((w) => w.name).join(", ")})`);
  }
  if (values.inspect) pauseAfterLoad(entryFile!);
  if (values["break-on-failure"] && !inspectorOpen()) {
    log(style.yellow("--break-on-failure needs a debugger: add --inspect, or run under node --inspect-brk (see the README)"));
  }

  const report = await replay(wf, history.events, {
    ...(until === undefined ? {} : { until }),
    ...(values["break-on-failure"] ? { onRecordedFailure: pauseBeforeRecordedFailure } : {}),
  });

  if (values.json) {
    console.log(JSON.stringify(reportJson(history, report), null, 2));
  } else {
    const source = fromFile ? `from ${target}` : "from the database";
    console.log(`${style.bold(`Replaying run ${history.runId}`)} (${history.workflowName}${loaded.status ? `, ${loaded.status}` : ""}) ${source} against ${entryFile}`);
    console.log(style.dim(fingerprintLine(history.fingerprint, wf.fingerprint)));
    console.log("");
    console.log(renderTimeline(timelineOf(history.events, report, until)));
    console.log("");
    console.log(renderReplayOutcome(report, history.events, until));
  }
  if (report.outcome === "diverged") {
    throw new Finding(`run ${history.runId} diverges from today's code at position ${report.divergence!.position}`);
  }
}

async function loadFromDatabase(runId: string, flags: { "database-url"?: string | undefined; schema?: string | undefined }): Promise<{ history: ParsedHistory; status: string | undefined }> {
  const store = await openStore(flags);
  try {
    const client = new Client({ store, migrate: false });
    const info = await client.status(runId);
    const events = await client.history(runId);
    return { history: { runId, workflowName: info.workflowName, ...(info.fingerprint ? { fingerprint: info.fingerprint } : {}), events }, status: info.status };
  } finally {
    await store.close();
  }
}

function fingerprintLine(recorded: string | undefined, today: string): string {
  if (!recorded) return `today's code fingerprint ${today}`;
  if (recorded === today) return `code fingerprint ${today}: the workflow function is unchanged since the run started`;
  // The fingerprint hashes the function's compiled text, so another compiler (tsx, tsc,
  // vite) also changes it: a hint, not a verdict — the replay is the verdict.
  return `code fingerprint: ${recorded} when the run started, ${today} today (the workflow's code or its build changed)`;
}

/**
 * The timeline a replay prints: the whole history, or what `--until` let it consume; a
 * divergence is marked on the row of its position (or on the run's end, when the code now
 * goes on where the run had ended).
 */
function timelineOf(events: readonly HistoryEvent[], report: ReplayReport, until: number | undefined) {
  const rows = buildTimeline(until === undefined ? events : report.events);
  const d = report.divergence;
  if (d) {
    const what = d.actual ? `${d.actual.kind}${d.actual.name === null ? "" : ` "${d.actual.name}"`}` : "nothing";
    const row = rows.find((r) => r.position === d.position) ?? rows.find((r) => r.call === "run" && r.status === "completed");
    if (row) row.alert = `today's code makes ${what} here`;
  }
  return rows;
}

function reportJson(history: ParsedHistory, report: ReplayReport): object {
  const terminal = history.events.findLast((e) => e.kind === EventKind.RunFailed);
  return {
    runId: history.runId,
    workflowName: history.workflowName,
    outcome: report.outcome,
    recordedOutcome: report.recordedOutcome,
    position: report.position,
    ...(report.output === undefined ? {} : { output: report.output }),
    ...(report.error ? { error: serializeError(report.error) } : {}),
    ...(terminal ? { recordedError: (terminal.payload as RunFailedPayload).error } : {}),
    ...(report.divergence ? { divergence: report.divergence } : {}),
    events: report.events,
  };
}
