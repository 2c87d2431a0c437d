import type { ChaosReport } from "./chaos-run.js";

const s = (ms: number) => (ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
};

/** The report of a chaos run as lines for a person: what was done, then each invariant. */
export function formatReport(report: ChaosReport): string[] {
  const { options: o, measurements: m, faults } = report;
  const of = (kind: string) => faults.filter((f) => f.kind === kind);
  const restarts = of("restart");
  const terminations = of("terminate");
  const recoverAfter = (kind: string) => [...report.recovery].filter(([f]) => f.kind === kind).map(([, ms]) => ms);
  const killRecovery = recoverAfter("kill");
  const freezeRecovery = recoverAfter("freeze");
  const row = (label: string, value: string | number, ok?: boolean) => `  ${ok === undefined ? " " : ok ? "✓" : "✗"} ${label.padEnd(34)} ${value}`;
  const lines = [
    `chaos (seed ${o.seed}): ${o.runs} runs × ${o.steps} steps, then a sleep, 3 parallel steps, a signal wait with a timeout, a child, a map of 4 with a dead letter and a step that fails its first attempt; ${o.workers} worker processes, lease ${s(o.leaseMs)}`,
    `faults over ${s(o.chaosMs)}: ${of("kill").length} SIGKILLs, ${of("freeze").length} freezes of ${s(2 * o.leaseMs + 1_000)} (SIGSTOP past the lease), ${terminations.length} rounds of pg_terminate_backend (${terminations.reduce((a, f) => a + f.amount, 0)} backends), ${restarts.length} Postgres restarts in immediate mode (outages ${restarts.map((f) => s(f.amount)).join(", ") || "none"})`,
    `recovery: runs held by a killed worker moved again after ${killRecovery.length ? `median ${s(median(killRecovery))}, max ${s(Math.max(...killRecovery))}` : "n/a"}; by a frozen one after ${freezeRecovery.length ? freezeRecovery.map(s).join(", ") : "n/a"}; first step committed ${report.restartRecovery.map((ms) => (Number.isFinite(ms) ? s(ms!) : "never")).join(", ") || "n/a"} after each restart`,
    `${report.signalsSent} signals sent, ${m.signalsConsumed} consumed; ${m.executions} step executions recorded by the steps, ${m.reExecuted} steps ran more than once (a crash before their record); done in ${s(report.elapsedMs)}`,
    row("completed", `${m.completed}/${m.total} (runs and their children)`, m.completed === m.total && m.total === o.runs * 2),
    row("lost (not completed in time)", m.lost.length, m.lost.length === 0),
    row("completed with a wrong output", m.wrongOutputs.length, m.wrongOutputs.length === 0),
    row("executions after completion", `${m.afterCompletion.length} (completion = ${m.commitTime})`, m.afterCompletion.length === 0),
    row("executions after a later phase", m.afterLaterPhase.length, m.afterLaterPhase.length === 0),
    row("duplicate events", m.duplicateEvents.length, m.duplicateEvents.length === 0),
    row("histories that replay clean", `${m.replayed}/${m.total}`, m.replayProblems.length === 0),
    row("timers fired early", m.timersEarly.length, m.timersEarly.length === 0),
    row("signals consumed more than once", m.signalsConsumedTwice.length, m.signalsConsumedTwice.length === 0),
    row("signals consumed after a deadline", m.signalsAfterDeadline.length, m.signalsAfterDeadline.length === 0),
    row("children per position", m.childProblems.length ? `${m.childProblems.length} positions without exactly 1` : `exactly 1 at all ${m.childPositions}`, m.childProblems.length === 0),
    row("workers that died on their own", report.unexpectedExits.length, report.unexpectedExits.length === 0),
  ];
  if (report.violations.length) lines.push("FAILED:", ...report.violations.map((v) => `  - ${v}`));
  else lines.push("every invariant holds");
  return lines;
}
