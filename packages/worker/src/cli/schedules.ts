import { formatInZone, type BackfillProgress, type Client, type ScheduleInfo } from "@reprise/sdk";
import { CATCHUP, formatMillis, OVERLAP, timetableOf } from "@reprise/sdk/engine";
import { Option, type Command } from "commander";
import { action, type ActionInput } from "./command-action.js";
import { integer, parseJsonArg } from "./flags.js";
import { loadEntry } from "./load-entry.js";
import { style, table } from "./style.js";
import { withClient } from "./with-client.js";

/** `reprise schedules <list|show|create|pause|resume|trigger|delete|backfill> …` */
export function schedulesCommand(schedules: Command): void {
  schedules.description("list, create, pause, trigger and backfill schedules");

  schedules
    .command("list")
    .description("next fire times (in each schedule's zone), last outcome, paused")
    .option("--workflow <name>", "only schedules of this workflow")
    .option("--json", "print the schedules as JSON")
    .action(action(list));

  schedules
    .command("show")
    .description("the timetable and the recent slots: when each run started, how long it took")
    .argument("<id>", "the schedule's id")
    .option("--limit <n>", "at most this many recent slots", integer({ min: 1 }), 20)
    .action(action(show));

  schedules
    .command("create")
    .description("creates a schedule through the API (schedules declared in code come from the workers)")
    .argument("<id>", "the schedule's id")
    .requiredOption("--workflow <name>", "the workflow it starts")
    .option("--cron <expr>", 'a cron expression: "0 9 * * 1-5", "@daily" (or --every)')
    .option("--every <duration>", "a fixed interval: 15m, 1h (or --cron)")
    .option("--timezone <zone>", "the zone the cron expression reads in: Europe/Paris", "UTC")
    .addOption(new Option("--catchup <policy>", "what to run for slots missed while nothing ran").choices(CATCHUP))
    .option("--catchup-window <duration>", "how far back missed slots are caught up")
    .addOption(new Option("--overlap <policy>", "what a slot does while the previous run still runs").choices(OVERLAP))
    .option("--input <json>", "the input of every run it starts, as a JSON object")
    .option("--queue <name>", "the queue its runs wait in")
    .option("--paused", "create it paused")
    .action(action(create));

  const byId = (name: string, description: string, fn: (client: Client, id: string) => Promise<string>) =>
    schedules
      .command(name)
      .description(description)
      .argument("<id>", "the schedule's id")
      .action(
        action<{ entry?: string }>(async ({ values, positionals: [id] }) => {
          // With the workflows' code loaded, a triggered run's input is checked by its schema.
          if (values.entry) await loadEntry(values.entry);
          await withClient(values, async (client) => console.log(await fn(client, id!)));
        }),
      );
  byId("pause", "stops it firing until it is resumed", async (client, id) => {
    await client.schedules.pause(id);
    return `schedule ${id} paused`;
  });
  byId("resume", "it fires again from the next slot on", async (client, id) => {
    await client.schedules.resume(id);
    return `schedule ${id} resumed: it fires from the next slot on (backfill what it missed if that should run)`;
  });
  byId("trigger", "starts a run now, outside the timetable; prints its id", async (client, id) => (await client.schedules.trigger(id)).id).option(
    "--entry <file>",
    "the file that exports the workflows: the run's input is checked by the workflow's schema",
  );
  byId("delete", "deletes the schedule (its runs stay)", async (client, id) => {
    await client.schedules.delete(id);
    return `schedule ${id} deleted (its runs stay)`;
  });

  schedules
    .command("backfill")
    .description("starts the runs of the slots in a range of dates (each once, however often it is run); shows progress")
    .argument("<id>", "the schedule's id")
    .requiredOption("--from <date>", "the first day: 2026-01-01 (or 2026-01-01T06:00), in the schedule's zone")
    .requiredOption("--to <date>", "the last day, included")
    .option("--batch-size <n>", "slots created per transaction", integer({ min: 1, max: 10_000 }))
    .option("--entry <file>", "the file that exports the workflows: each slot's input is checked by the workflow's schema")
    .action(action(backfill));
}

/** `1h30m`, `45s`. */
function formatSpan(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join("");
}

function describeTimetable(s: ScheduleInfo): string {
  return s.cron !== undefined ? s.cron : `every ${formatSpan(s.every!)}`;
}

function outcomeStyle(status: string): string {
  if (status === "completed") return style.green(status);
  if (status === "failed") return style.red(status);
  if (status === "cancelled") return style.yellow(status);
  if (status === "running") return style.blue(status);
  return status;
}

/** The next `count` slots from a schedule's next fire time, as its zone's wall clock shows them. */
function nextFireTimes(s: ScheduleInfo, count: number): string[] {
  if (!s.nextFireAt) return [];
  const out = [s.nextFireAt];
  const tt = timetableOf({ cron: s.cron ?? null, everyMs: s.every ?? null, timezone: s.timezone });
  while (out.length < count) {
    const next = tt.next(out[out.length - 1]!);
    if (!next) break;
    out.push(next);
  }
  return out.map((d) => formatInZone(d, s.timezone));
}

async function list({ values }: ActionInput<{ workflow?: string; json?: boolean }>): Promise<void> {
  await withClient(values, async (client) => {
    const schedules = await client.schedules.list(values.workflow ? { workflow: values.workflow } : {});
    if (values.json) {
      console.log(JSON.stringify(schedules, null, 2));
      return;
    }
    if (schedules.length === 0) {
      console.log("no schedules");
      return;
    }
    const rows = schedules.map((s) => [
      s.id,
      s.workflowName,
      describeTimetable(s),
      s.timezone,
      s.paused ? style.yellow("paused") : (nextFireTimes(s, 1)[0] ?? "-"),
      s.lastRun ? `${outcomeStyle(s.lastRun.status)}${s.lastSlotAt ? style.dim(` (${formatInZone(s.lastSlotAt, s.timezone)})`) : ""}` : style.dim("never ran"),
      `${s.catchup}/${s.overlap}${s.source === "code" ? style.dim(" code") : ""}`,
    ]);
    console.log(table(rows, { header: ["id", "workflow", "schedule", "zone", "next", "last", "catchup/overlap"] }));
  });
}

async function show({ values, positionals: [id] }: ActionInput<{ limit: number }>): Promise<void> {
  await withClient(values, async (client) => {
    const s = await client.schedules.get(id!);
    console.log(`${style.bold(s.id)}  ${s.workflowName}  ${describeTimetable(s)}  ${s.timezone}  ${s.paused ? style.yellow("paused") : style.green("active")}`);
    console.log(style.dim(`catchup ${s.catchup} (window ${formatSpan(s.catchupWindow)}) · overlap ${s.overlap} · ${s.source === "code" ? "declared in code" : "created through the API"}`));
    if (s.input) console.log(style.dim(`input ${JSON.stringify(s.input)}`));
    const next = nextFireTimes(s, 5);
    if (next.length) console.log(`next  ${next.join(", ")}`);
    if (s.bufferedSlotAt) console.log(`buffered  ${formatInZone(s.bufferedSlotAt, s.timezone)} (waits for ${s.lastRun?.id})`);
    const slots = await client.schedules.slots(id!, { limit: values.limit });
    if (slots.length === 0) return;
    console.log("");
    const rows = slots.map((slot) => [
      formatInZone(slot.slotAt, s.timezone),
      slot.outcome,
      slot.runId ? `${slot.runId} ${outcomeStyle(slot.runStatus ?? "pruned")}` : style.dim(slot.reason ?? ""),
      slot.startDelayMs !== undefined ? formatMillis(Math.max(0, slot.startDelayMs)) : "",
      slot.endedAt && slot.startedAt ? formatMillis(slot.endedAt.getTime() - slot.startedAt.getTime()) : "",
    ]);
    console.log(table(rows, { header: ["slot", "outcome", "run", "started after", "took"] }));
  });
}

interface CreateFlags {
  workflow: string;
  cron?: string;
  every?: string;
  timezone: string;
  catchup?: (typeof CATCHUP)[number];
  "catchup-window"?: string;
  overlap?: (typeof OVERLAP)[number];
  input?: string;
  queue?: string;
  paused?: boolean;
}

async function create({ values, positionals: [id] }: ActionInput<CreateFlags>): Promise<void> {
  const input = parseJsonArg(values.input, "--input");
  await withClient(values, async (client, store) => {
    const s = await client.schedules.create({
      id: id!,
      workflow: values.workflow,
      ...(values.cron !== undefined ? { cron: values.cron } : {}),
      ...(values.every !== undefined ? { every: values.every } : {}),
      timezone: values.timezone,
      ...(values.catchup ? { catchup: values.catchup } : {}),
      ...(values["catchup-window"] ? { catchupWindow: values["catchup-window"] } : {}),
      ...(values.overlap ? { overlap: values.overlap } : {}),
      ...(input !== undefined ? { input: input as Record<string, unknown> } : {}),
      ...(values.queue ? { queue: values.queue } : {}),
      ...(values.paused ? { paused: true } : {}),
    });
    console.log(`schedule ${s.id} created: ${describeTimetable(s)} ${s.timezone}${s.paused ? ", paused" : `, next ${nextFireTimes(s, 1)[0]}`}`);
    // Only a worker that has the workflow fires its slots: say so when none ever declared it.
    if (!(await store.fleet.declared([values.workflow])).has(values.workflow)) {
      console.error(style.yellow(`no worker has declared workflow "${values.workflow}" yet: its slots fire once a worker that has it starts`));
    }
  });
}

async function backfill({ values, positionals: [id] }: ActionInput<{ from: string; to: string; "batch-size"?: number; entry?: string }>): Promise<void> {
  const batchSize = values["batch-size"];
  // With the workflows' code loaded, each slot's input is checked by the workflow's schema.
  if (values.entry) await loadEntry(values.entry);
  await withClient(values, async (client) => {
    const bar = progressBar(id!);
    const result = await client.schedules.backfill(id!, {
      from: values.from,
      to: values.to,
      ...(batchSize !== undefined ? { batchSize } : {}),
      onProgress: bar.update,
    });
    bar.done();
    const { timezone } = await client.schedules.get(id!);
    console.log(
      `backfill of ${id} from ${formatInZone(result.from, timezone)} to ${formatInZone(result.to, timezone)}: ${result.total} slots: ` +
        `${style.green(`${result.created} created`)}, ${result.existed} already existed, ${result.skipped} skipped (not due yet)`,
    );
  });
}

/** A progress bar on a terminal; a plain line per batch otherwise (logs, CI). */
function progressBar(id: string): { update: (p: BackfillProgress) => void; done: () => void } {
  const tty = Boolean(process.stdout.isTTY);
  let drawn = false;
  const counts = (p: BackfillProgress) => `created ${p.created} · existed ${p.existed} · skipped ${p.skipped}`;
  return {
    update(p) {
      if (!tty) {
        console.log(`backfill ${id}: ${p.done}/${p.total} slots (${counts(p)})`);
        return;
      }
      const width = 30;
      const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
      process.stdout.write(`\r${style.bold(id)} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${p.done}/${p.total}  ${style.dim(counts(p))}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) process.stdout.write("\n");
    },
  };
}
