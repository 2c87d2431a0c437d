import type { Client } from "@reprise/sdk";
import { crashResume } from "./workflow.js";

export { crashResume };

/**
 * Called by `reprise dev`: resumes the unfinished crash-resume run if there is one (the
 * previous process was killed), else starts a new one, and prints its result.
 */
export async function dev({ client, log }: { client: Client; log: (line: string) => void }): Promise<void> {
  const unfinished = (await client.listRuns({ workflow: crashResume.name, limit: 20 })).find(
    (r) => r.status !== "completed" && r.status !== "failed" && r.status !== "cancelled",
  );
  const handle = unfinished ? client.handle<Awaited<ReturnType<typeof crashResume.fn>>>(unfinished.id) : await client.start(crashResume, {});
  log(
    unfinished
      ? `\nResuming run ${handle.id}, left unfinished by a process that died. Steps it completed will not run again.\n`
      : `\nStarted run ${handle.id}. Kill this process mid-run (kill -9 ${process.pid}, or Ctrl-C twice), then run the same command again.\n`,
  );
  const result = await handle.result();
  log(`\nRun ${handle.id} completed: ${result.steps} steps, run by process(es) ${result.processes.join(", ")}.`);
  for (const r of result.ran) log(`  step-${r.step}  process ${r.pid}  ${r.at}`);
  log(`\nSee its timeline with: npx reprise runs show ${handle.id}\n`);
}
