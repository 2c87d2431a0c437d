import { Client, formatInZone, type BackfillProgress, type ScheduleInfo } from "@reprise/sdk";
import { formatMillis, timetableOf } from "@reprise/sdk/engine";
import { UsageError } from "./cli-error.js";
import { openStore } from "./connection.js";
import { intFlag, parseFlags, parseJsonArg } from "./flags.js";
import { loadEntry } from "./load-entry.js";
import { style, table } from "./style.js";

/** `reprise schedules <list|show|create|pause|resume|trigger|delete|backfill> …` */
export async function schedulesCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const command = sub ? SUBCOMMANDS[sub] : undefined;
  if (!command) throw new UsageError(`usage: reprise schedules <${Object.keys(SUBCOMMANDS).join("|")}> …`);
  await command(rest);
}

async function withClient<T>(flags: { "database-url"?: string | undefined; schema?: string | undefined }, fn: (client: Client) => Promise<T>): Promise<T> {
  const store = await openStore(flags);
  const client = new Client({ store, migrate: false });
  try {
    return await fn(client);
  } finally {
    await store.close();
  }
}

function oneId(positionals: string[], usage: string): string {
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError(`usage: reprise schedules ${usage}`);
  return id;
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

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  async list(args) {
    const { values } = parseFlags(args, { workflow: { type: "string" }, json: { type: "boolean" } });
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
  },

  async show(args) {
    const { values, positionals } = parseFlags(args, { limit: { type: "string" } });
    const id = oneId(positionals, "show <id> [--limit N]");
    const limit = intFlag(values.limit, "limit") ?? 20;
    await withClient(values, async (client) => {
      const s = await client.schedules.get(id);
      console.log(`${style.bold(s.id)}  ${s.workflowName}  ${describeTimetable(s)}  ${s.timezone}  ${s.paused ? style.yellow("paused") : style.green("active")}`);
      console.log(style.dim(`catchup ${s.catchup} (window ${formatSpan(s.catchupWindow)}) · overlap ${s.overlap} · ${s.source === "code" ? "declared in code" : "created through the API"}`));
      if (s.input) console.log(style.dim(`input ${JSON.stringify(s.input)}`));
      const next = nextFireTimes(s, 5);
      if (next.length) console.log(`next  ${next.join(", ")}`);
      if (s.bufferedSlotAt) console.log(`buffered  ${formatInZone(s.bufferedSlotAt, s.timezone)} (waits for ${s.lastRun?.id})`);
      const slots = await client.schedules.slots(id, { limit });
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
  },

  async create(args) {
    const { values, positionals } = parseFlags(args, {
      workflow: { type: "string" },
      cron: { type: "string" },
      every: { type: "string" },
      timezone: { type: "string" },
      catchup: { type: "string" },
      "catchup-window": { type: "string" },
      overlap: { type: "string" },
      input: { type: "string" },
      queue: { type: "string" },
      paused: { type: "boolean" },
    });
    const id = oneId(positionals, "create <id> --workflow W (--cron EXPR | --every 1h) [--timezone TZ] [--catchup none|latest|all] [--overlap P] [--input json]");
    if (!values.workflow) throw new UsageError("reprise schedules create needs --workflow");
    const input = parseJsonArg(values.input, "--input");
    await withClient(values, async (client) => {
      const s = await client.schedules.create({
        id,
        workflow: values.workflow!,
        ...(values.cron !== undefined ? { cron: values.cron } : {}),
        ...(values.every !== undefined ? { every: values.every } : {}),
        ...(values.timezone ? { timezone: values.timezone } : {}),
        ...(values.catchup ? { catchup: values.catchup as never } : {}),
        ...(values["catchup-window"] ? { catchupWindow: values["catchup-window"] } : {}),
        ...(values.overlap ? { overlap: values.overlap as never } : {}),
        ...(input !== undefined ? { input: input as Record<string, unknown> } : {}),
        ...(values.queue ? { queue: values.queue } : {}),
        ...(values.paused ? { paused: true } : {}),
      });
      console.log(`schedule ${s.id} created: ${describeTimetable(s)} ${s.timezone}${s.paused ? ", paused" : `, next ${nextFireTimes(s, 1)[0]}`}`);
    });
  },

  async pause(args) {
    const { values, positionals } = parseFlags(args, {});
    const id = oneId(positionals, "pause <id>");
    await withClient(values, async (client) => {
      await client.schedules.pause(id);
      console.log(`schedule ${id} paused`);
    });
  },

  async resume(args) {
    const { values, positionals } = parseFlags(args, {});
    const id = oneId(positionals, "resume <id>");
    await withClient(values, async (client) => {
      await client.schedules.resume(id);
      console.log(`schedule ${id} resumed: it fires from the next slot on (backfill what it missed if that should run)`);
    });
  },

  async trigger(args) {
    const { values, positionals } = parseFlags(args, { entry: { type: "string" } });
    const id = oneId(positionals, "trigger <id> [--entry file]");
    if (values.entry) await loadEntry(values.entry);
    await withClient(values, async (client) => {
      const handle = await client.schedules.trigger(id);
      console.log(handle.id);
    });
  },

  async delete(args) {
    const { values, positionals } = parseFlags(args, {});
    const id = oneId(positionals, "delete <id>");
    await withClient(values, async (client) => {
      await client.schedules.delete(id);
      console.log(`schedule ${id} deleted (its runs stay)`);
    });
  },

  async backfill(args) {
    const { values, positionals } = parseFlags(args, { from: { type: "string" }, to: { type: "string" }, "batch-size": { type: "string" }, entry: { type: "string" } });
    const id = oneId(positionals, "backfill <id> --from 2026-01-01 --to 2026-01-07 [--batch-size N] [--entry file]");
    if (!values.from || !values.to) throw new UsageError("reprise schedules backfill needs --from and --to (dates like 2026-01-01, in the schedule's zone)");
    const batchSize = intFlag(values["batch-size"], "batch-size");
    // With the workflows' code loaded, each slot's input is checked by the workflow's schema.
    if (values.entry) await loadEntry(values.entry);
    await withClient(values, async (client) => {
      const bar = progressBar(id);
      const result = await client.schedules.backfill(id, {
        from: values.from!,
        to: values.to!,
        ...(batchSize !== undefined ? { batchSize } : {}),
        onProgress: bar.update,
      });
      bar.done();
      const { timezone } = await client.schedules.get(id);
      console.log(
        `backfill of ${id} from ${formatInZone(result.from, timezone)} to ${formatInZone(result.to, timezone)}: ${result.total} slots: ` +
          `${style.green(`${result.created} created`)}, ${result.existed} already existed, ${result.skipped} skipped (not due yet)`,
      );
    });
  },
};

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
