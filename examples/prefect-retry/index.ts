import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { StepFailedError, WorkflowFailedError, type Client } from "@reprise/sdk";
import { executions, prefectRetry } from "./workflow.js";

export { prefectRetry };

/** The `reprise` CLI of the installed @reprise/worker. */
const cli = join(dirname(createRequire(import.meta.url).resolve("@reprise/worker")), "..", "bin", "reprise.js");

/** Runs `npx reprise <args>` against the dev database and shows what it printed. */
async function reprise(args: string[], databaseUrl: string, log: (line: string) => void): Promise<void> {
  log(`$ npx reprise ${args.join(" ")}`);
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args, "--database-url", databaseUrl]);
  for (const line of stdout.trimEnd().split("\n")) log(`  ${line}`);
}

/**
 * Called by `reprise dev examples/prefect-retry/index.ts`: runs the scenario once. The
 * service starts down, so the run fails at `ping`; then the service comes up and the run
 * is retried with the CLI. `create-payload` ran once in all.
 */
export async function dev(
  { client, databaseUrl, log }: { client: Client; databaseUrl: string; log: (line: string) => void },
  options: { dir?: string; payloadMs?: number } = {},
): Promise<void> {
  const upFile = resolve(options.dir ?? ".reprise/prefect-retry", "service-up");
  const shown = relative(process.cwd(), upFile);
  mkdirSync(dirname(upFile), { recursive: true });
  rmSync(upFile, { force: true });

  const handle = await client.start(prefectRetry, { serviceUpFile: shown, ...(options.payloadMs === undefined ? {} : { payloadMs: options.payloadMs }) });
  log(`\n1. Started run ${handle.id} with the service down (${shown} does not exist).\n`);
  const failure = await handle.result().then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(failure instanceof WorkflowFailedError) || !(failure.cause instanceof StepFailedError)) {
    throw new Error(`expected the run to fail at ping, got ${String(failure)}`);
  }
  const counts = executions.get(handle.id)!;
  log(`\n2. Run ${handle.id} failed: step "${failure.cause.stepName}" gave up after ${failure.cause.attempts} attempts.`);
  log(`   ${failure.cause.cause.message}`);
  log(`   So far create-payload ran ${counts["create-payload"]} time, ping ${counts.ping} times.\n`);

  writeFileSync(upFile, "");
  log(`3. The service is back (created ${shown}). Retry the run in place:\n`);
  await reprise(["runs", "retry", handle.id], databaseUrl, log);
  const output = await handle.result();
  log(`\n4. Run ${handle.id} completed: ${output}`);
  log(`   create-payload ran ${counts["create-payload"]} time in all; ping ran ${counts.ping} times (the retry started its attempts over at 1).\n`);
  await reprise(["runs", "show", handle.id], databaseUrl, log);
  log(`\nTry it by hand while this worker runs (see the README): rm ${shown}, then`);
  log(`npx reprise runs start ${prefectRetry.name} '{}' --entry examples/prefect-retry/index.ts, touch ${shown},`);
  log(`npx reprise runs retry <id>. Ctrl-C stops the worker.\n`);
}
