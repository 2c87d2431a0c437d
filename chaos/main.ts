// `pnpm chaos` and `pnpm chaos --soak` (see HELP in options.ts). Not part of `pnpm test`,
// which runs a reduced chaos run (packages/worker/test/chaos.test.ts).
import { runChaos } from "./chaos-run.js";
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
} else {
  const report = await runChaos(command.options);
  for (const line of formatReport(report)) console.log(line);
  process.exitCode = report.violations.length ? 1 : 0;
}
