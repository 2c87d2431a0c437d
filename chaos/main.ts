// `pnpm chaos` and `pnpm chaos --soak` (see HELP in options.ts). Not part of `pnpm test`,
// which runs a reduced chaos run (packages/worker/test/chaos.test.ts).
import { startAutoFailover } from "../test-support/auto-failover.js";
import { runChaos } from "./chaos-run.js";
import { runFailover } from "./failover-run.js";
import { parseCommand } from "./options.js";
import { formatReport } from "./report.js";
import { formatSoak, runSoak } from "./soak.js";

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

let command;
try {
  command = parseCommand(process.argv.slice(2), process.env, log);
} catch (error) {
  console.error(`pnpm chaos: ${(error as Error).message} (--help for the options)`);
  process.exit(2);
}
if (command.mode === "help") {
  console.log(command.text);
} else if (command.mode === "soak") {
  const report = await runSoak(command.options);
  for (const line of formatSoak(report)) console.log(line);
} else if (command.mode === "failover") {
  const cluster = await startAutoFailover({ log });
  try {
    const r = await runFailover(cluster, command.options);
    const m = r.measurements;
    console.log(
      `failover: ${m.completed}/${m.total} runs and children completed; primary ${r.killed.name} SIGKILLed with ${r.eventsBeforeKill} events recorded; ${r.promoted.name} took writes ${(r.outageMs / 1000).toFixed(1)} s after the kill, first step committed ${(r.recoveredMs / 1000).toFixed(1)} s after the kill`,
    );
    console.log(
      `lost: ${r.missingEvents} events, ${r.missingExecutions} executions; executions after completion ${m.afterCompletion.length}, after a later phase ${m.afterLaterPhase.length}; duplicate events ${m.duplicateEvents.length}; histories that replay clean ${m.replayed}/${m.total}`,
    );
    for (const v of r.violations) console.log(`  - ${v}`);
    console.log(r.violations.length ? "FAILED" : "every invariant holds");
    process.exitCode = r.violations.length ? 1 : 0;
  } finally {
    await cluster.stop();
  }
} else {
  const report = await runChaos(command.options);
  for (const line of formatReport(report)) console.log(line);
  process.exitCode = report.violations.length ? 1 : 0;
}
