import type { Client } from "@reprise/sdk";
import { nightlyPipeline } from "./workflow.js";

export { nightlyPipeline };

/**
 * Called by `reprise dev`: the worker has already written the schedule declared in the code
 * (id "nightly-pipeline", 02:00 New York time). Rather than wait for 2 am, run it once now.
 */
export async function dev({ client, log }: { client: Client; log: (line: string) => void }): Promise<void> {
  const schedule = await client.schedules.get(nightlyPipeline.name);
  log(`\nSchedule ${schedule.id}: "${schedule.cron}" in ${schedule.timezone}, next run ${schedule.nextFireAt?.toISOString()}.`);
  const handle = await client.schedules.trigger(nightlyPipeline.name);
  log(`Triggered ${handle.id} now.`);
  const result = (await handle.result()) as Awaited<ReturnType<typeof nightlyPipeline.fn>>;
  log(`Loaded ${result.loaded} orders of ${result.day} (revenue ${result.revenue}).`);
  log(`\nBackfill the first week of January from another terminal:\n  npx reprise schedules backfill nightly-pipeline --from 2026-01-01 --to 2026-01-07\n`);
}
