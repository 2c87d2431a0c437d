import { isDeepStrictEqual } from "node:util";
import { EventKind, type HistoryEvent, type ReplayReport, type RunCompletedPayload, type RunFailedPayload } from "@reprise/sdk";
import { serializeError } from "@reprise/sdk/engine";
import { style } from "./style.js";
import { errorLine } from "./timeline.js";

const STACK_LINES = 8;

/** The lines after the timeline: what the replay found, compared with what was recorded. */
export function renderReplayOutcome(report: ReplayReport, events: readonly HistoryEvent[], until: number | undefined): string {
  const recordedEnd = events.findLast((e) => e.kind === EventKind.RunCompleted || e.kind === EventKind.RunFailed || e.kind === EventKind.RunCancelled);
  const out: string[] = [];
  switch (report.outcome) {
    case "completed": {
      const recorded = recordedEnd?.kind === EventKind.RunCompleted ? (recordedEnd.payload as RunCompletedPayload).output : undefined;
      // jsonb does not keep key order, so outputs are compared as values.
      const same = report.recordedOutcome === "completed" && isDeepStrictEqual(recorded, report.output);
      out.push(`${style.bold("replay:")} ${style.green("completed")}${same ? ", as recorded" : report.recordedOutcome === "completed" ? ", with another output than recorded" : `; the recorded run ${report.recordedOutcome === "unfinished" ? "has not finished" : report.recordedOutcome}`}`);
      out.push(`  output ${truncate(JSON.stringify(report.output) ?? "undefined", 400)}`);
      break;
    }
    case "failed": {
      const error = report.error ? serializeError(report.error) : undefined;
      const recorded = recordedEnd?.kind === EventKind.RunFailed ? (recordedEnd.payload as RunFailedPayload).error : undefined;
      const same = recorded && error && recorded.name === error.name && recorded.message === error.message;
      const versus = same ? ", as recorded" : recorded ? `; the recorded run failed with ${errorLine(recorded)}` : report.recordedOutcome === "completed" ? "; the recorded run completed" : "";
      out.push(`${style.bold("replay:")} ${style.red("failed")}${versus} (no step function ran: every step returned or threw what was recorded)`);
      out.push(`  ${style.red(errorLine(error))}`);
      const stack = innermostStack(error);
      if (stack) {
        out.push(style.dim("  recorded stack:"));
        for (const line of stack) out.push(style.dim(`    ${line}`));
      }
      break;
    }
    case "diverged": {
      const d = report.divergence!;
      const call = (c: typeof d.recorded) => (c ? `${c.kind}${c.name === null ? "" : ` "${c.name}"`}` : "nothing");
      out.push(`${style.bold("replay:")} ${style.red(style.bold(`DIVERGED at position ${d.position}`))}`);
      out.push(`  the history recorded  ${call(d.recorded)}`);
      out.push(`  today's code makes    ${call(d.actual)}`);
      out.push(`  ${d.message}`);
      break;
    }
    case "suspended": {
      if (until !== undefined && report.position <= until) {
        const next = events.find((e) => typeof e.position === "number" && e.position > until);
        out.push(`${style.bold("replay:")} stopped after position ${until} (--until)${next ? `; the run went on with ${next.name ?? next.kind} at position ${next.position}` : ""}`);
        break;
      }
      const failedAt = recordedEnd?.kind === EventKind.RunFailed ? (recordedEnd.payload as RunFailedPayload) : undefined;
      if (failedAt && failedAt.position !== undefined) {
        out.push(
          `${style.bold("replay:")} ${style.yellow("the code goes on")} where the recorded run failed (${errorLine(failedAt.error)}): today's code handles that failure, so a retry (reprise runs retry <id>) would continue from position ${report.position}`,
        );
      } else {
        out.push(`${style.bold("replay:")} ${style.yellow("suspended")}: the history ends at position ${report.position} and the code goes on from there (the run is ${report.recordedOutcome === "unfinished" ? "still going" : report.recordedOutcome})`);
      }
      break;
    }
  }
  return out.join("\n");
}

/** The recorded stack of the innermost cause: where the failure really happened. */
function innermostStack(error: ReturnType<typeof serializeError> | undefined): string[] | undefined {
  let innermost = error;
  for (let depth = 0; innermost?.cause && depth < 8; depth++) innermost = innermost.cause;
  const lines = innermost?.stack?.split("\n").filter((l) => l.trim().length > 0);
  if (!lines || lines.length < 2) return undefined;
  const cwd = `${process.cwd()}/`;
  return lines.slice(0, STACK_LINES).map((l) => l.replace(`file://${cwd}`, "").replace(cwd, ""));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
