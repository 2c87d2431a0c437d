import { afterAll, expect, test } from "vitest";
import { runFailover } from "../../../chaos/failover-run.js";
import { autoFailoverMissing, startAutoFailover, type AutoFailoverCluster } from "../../../test-support/auto-failover.js";

// A real failover: pg_auto_failover (Debian's postgresql-15-auto-failover, which .ci/run
// installs) runs a monitor, a primary and a synchronous standby on loopback; worker
// processes connect with the formation's multi-host URI (target_session_attrs=read-write);
// mid-run the primary's machine dies. docs/failover.md describes the setup.

const missing = autoFailoverMissing();
const name =
  "when the primary dies mid-run and pg_auto_failover promotes its synchronous standby, every run completes, nothing committed is lost and no step runs after its completion";
let cluster: AutoFailoverCluster | undefined;
afterAll(() => cluster?.stop());

(missing ? test.skip : test)(missing ? `${name} (skipped: ${missing})` : name, async () => {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const began = Date.now();
  cluster = await startAutoFailover({ log });
  log(`cluster up in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  const report = await runFailover(cluster, { runs: 40, steps: 6, workers: 2, seed: 7, killAfter: 0.3, settleMs: 60_000, log });
  const m = report.measurements;
  const context = `${lines.join("; ")}\n${report.violations.join("\n")}\n${cluster.logs().slice(-3_000)}`;

  expect(report.promoted, context).not.toBe(report.killed);
  expect(await cluster.primary(), context).toEqual(report.promoted);
  // Mid-run: with steps recorded, and runs still to finish.
  expect(report.stepsBeforeKill, context).toBeGreaterThan(0);
  expect(report.completedBeforeKill, context).toBeLessThan(80);
  expect(report.missingEvents, context).toBe(0);
  expect(report.missingExecutions, context).toBe(0);
  expect(report.unexpectedExits, context).toEqual([]);
  expect(m.total, context).toBe(80);
  expect(m.lost, context).toEqual([]);
  expect(m.wrongOutputs, context).toEqual([]);
  expect(m.afterCompletion, context).toEqual([]);
  expect(m.afterLaterPhase, context).toEqual([]);
  expect(m.duplicateEvents, context).toEqual([]);
  expect(m.replayProblems, context).toEqual([]);
  expect(m.timersEarly, context).toEqual([]);
  expect(m.signalsConsumedTwice, context).toEqual([]);
  expect(m.childProblems, context).toEqual([]);
  expect(report.violations, context).toEqual([]);
  console.log(
    `failover: ${m.completed}/${m.total} runs completed; primary ${report.killed.name} SIGKILLed with ${report.stepsBeforeKill} steps recorded and ${report.completedBeforeKill} runs done; ${report.promoted.name} took writes after ${report.outageMs} ms, first step committed ${report.recoveredMs} ms after the kill; lost ${report.missingEvents} events, ${m.afterCompletion.length} executions after completion, ${m.duplicateEvents.length} duplicate events\n  ${lines.join("\n  ")}`,
  );
}, 150_000);
