import { ErrorCode, RepriseError, ValidationError } from "../errors.js";
import { toError } from "../error-codec.js";
import type { AnyWorkflow } from "../workflow-types.js";
import { parseHistory, type HistoryEventLike, type ParsedHistory } from "./exported-history.js";
import { replay, type ReplayReport } from "./replay.js";

/** A history to check: its events, or a document holding them (an exported history file's JSON). */
export type ReplayableHistory =
  | readonly HistoryEventLike[]
  | {
      events: readonly HistoryEventLike[];
      runId?: string;
      source?: string;
      /** Reads the run's values stored out of line, for a history that holds references to them (see `replay`). */
      loadPayload?: (id: string) => Promise<unknown>;
    };

/** Why a history fails the check. */
export interface ReplayProblem {
  /**
   * `diverged`: the code no longer matches the history. `now-fails`: the run completed, but
   * today's code fails it on the same recorded results. `unknown-workflow`: no workflow of
   * that name was given. `invalid-history`: the history cannot be read. `error`: the replay
   * itself threw.
   */
  kind: "diverged" | "now-fails" | "unknown-workflow" | "invalid-history" | "error";
  message: string;
}

/** One history's result in {@link replayHistories}. */
export interface HistoryReplayResult {
  /** The run's id (`"?"` when the history does not say). */
  runId: string;
  /** The workflow the history is of (`"?"` when it cannot be read). */
  workflowName: string;
  /** Where the history came from (a file name), when the caller said. */
  source?: string;
  /** The replay's report; absent when the history could not be replayed at all. */
  report?: ReplayReport;
  /** Absent when the history replays clean. */
  problem?: ReplayProblem;
}

/** Options of {@link replayHistories}. */
export interface ReplayHistoriesOptions {
  /**
   * Reject with a {@link ReplayDivergenceError} listing every history with a problem.
   * `false` resolves with the results either way.
   * @default true
   */
  throwOnProblem?: boolean;
  /** Called as each history is done (progress over a long list). */
  onResult?: (result: HistoryReplayResult) => void;
}

/**
 * Replays recorded histories against today's workflow code: the check that a change does
 * not break runs in flight. Run it in a test suite over golden histories (files written by
 * `reprise replay <id> --export`), or over recent production runs with
 * `reprise replay --workflow <name> --since 7d`.
 *
 * A history fails the check when the code diverges from it, when a run that completed would
 * now fail on the same recorded results, when no given workflow has its name, or when it
 * cannot be read. A run that failed and now completes is fine: that is what a fix does.
 *
 * ```ts
 * test("recorded runs replay against this code", async () => {
 *   const files = readdirSync("test/golden").map((f) => `test/golden/${f}`);
 *   await replayHistories([checkout, refund], files.map((f) => ({ ...JSON.parse(readFileSync(f, "utf8")), source: f })));
 * });
 * ```
 *
 * @returns one result per history, in order
 * @throws ReplayDivergenceError listing the histories with a problem (unless `throwOnProblem: false`)
 */
export async function replayHistories(
  workflows: Iterable<AnyWorkflow>,
  histories: Iterable<ReplayableHistory> | AsyncIterable<ReplayableHistory>,
  options: ReplayHistoriesOptions = {},
): Promise<HistoryReplayResult[]> {
  const byName = new Map<string, AnyWorkflow>();
  for (const wf of workflows) {
    const other = byName.get(wf.name);
    if (other && other !== wf) throw new ValidationError(`two different workflows are named "${wf.name}"`);
    byName.set(wf.name, wf);
  }
  const results: HistoryReplayResult[] = [];
  for await (const history of histories) {
    const result = await replayOne(byName, history);
    results.push(result);
    options.onResult?.(result);
  }
  if ((options.throwOnProblem ?? true) && results.some((r) => r.problem)) throw new ReplayDivergenceError(results);
  return results;
}

async function replayOne(byName: ReadonlyMap<string, AnyWorkflow>, history: ReplayableHistory): Promise<HistoryReplayResult> {
  const doc = Array.isArray(history) ? undefined : (history as Exclude<ReplayableHistory, readonly unknown[]>);
  const source = doc?.source;
  const base = { ...(source === undefined ? {} : { source }) };
  let parsed: ParsedHistory;
  try {
    parsed = parseHistory(history, source);
  } catch (error) {
    const runId = doc?.runId ?? "?";
    return { runId, workflowName: "?", ...base, problem: { kind: "invalid-history", message: toError(error).message } };
  }
  const { runId, workflowName } = parsed;
  const wf = byName.get(workflowName);
  if (!wf) {
    const known = [...byName.keys()].join(", ") || "none";
    return { runId, workflowName, ...base, problem: { kind: "unknown-workflow", message: `no workflow named "${workflowName}" was given (given: ${known})` } };
  }
  let report: ReplayReport;
  try {
    report = await replay(wf, parsed.events, doc?.loadPayload ? { loadPayload: doc.loadPayload } : {});
  } catch (error) {
    return { runId, workflowName, ...base, problem: { kind: "error", message: `the replay threw: ${toError(error).message}` } };
  }
  const problem = problemOf(report);
  return { runId, workflowName, ...base, report, ...(problem ? { problem } : {}) };
}

function problemOf(report: ReplayReport): ReplayProblem | undefined {
  if (report.outcome === "diverged") return { kind: "diverged", message: report.divergence!.message };
  if (report.outcome === "failed" && report.recordedOutcome === "completed") {
    const error = report.error;
    return { kind: "now-fails", message: `the run completed, but today's code fails it: ${error ? `${error.name}: ${error.message}` : "(no error)"}` };
  }
  return undefined;
}

/**
 * Some histories do not replay against today's code; `problems` says which and why, and the
 * message lists them, one line each.
 */
export class ReplayDivergenceError extends RepriseError {
  override name = "ReplayDivergenceError";
  readonly results: readonly HistoryReplayResult[];
  readonly problems: readonly HistoryReplayResult[];
  constructor(results: readonly HistoryReplayResult[]) {
    const problems = results.filter((r) => r.problem);
    const lines = problems.map((r) => `  ${historyLabel(r)}: ${r.problem!.message}`);
    super(`${problems.length} of ${results.length} histor${results.length === 1 ? "y does" : "ies do"} not replay against this code:\n${lines.join("\n")}`, {
      code: ErrorCode.ReplayDiverged,
      retryable: false,
    });
    this.results = results;
    this.problems = problems;
  }
}

function historyLabel(result: HistoryReplayResult): string {
  const run = `run ${result.runId} (${result.workflowName})`;
  return result.source ? `${result.source}, ${run}` : run;
}
