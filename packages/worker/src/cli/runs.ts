import { toMillis, type InFlightStep, type RunInfo } from "@reprise/sdk";
import { formatMillis, newId, newRunId, toJsonText } from "@reprise/sdk/engine";
import type { RunRecord } from "@reprise/store";
import { Option, type Command } from "commander";
import { UsageError } from "./cli-error.js";
import { action, type ActionInput } from "./command-action.js";
import { INT4, integer, parseJsonArg } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";
import { formatLogLine } from "./log-lines.js";
import { runLogsCommand } from "./run-logs.js";
import { cut, outputWidth, roomForLast, style, table } from "./style.js";
import { buildTimeline, markInFlight, renderTimeline } from "./timeline.js";
import { withClient } from "./with-client.js";

/** Every status a run can be in. */
export const RUN_STATUSES = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"] satisfies RunInfo["status"][];

/** `reprise runs <list|show|logs|start|retry|cancel|fork|signal> …` */
export function runsCommand(runs: Command): void {
  runs.description("list, inspect, start, retry, cancel, fork and signal runs");

  runs
    .command("list")
    .description("the latest runs, newest first, with their errors")
    .addOption(new Option("--status <status>", "only runs in this status").choices(RUN_STATUSES))
    .option("--workflow <name>", "only runs of this workflow")
    .option("--after <id>", "the next page: runs created before this one (the last id of the page before)")
    .option("--limit <n>", "at most this many runs", integer({ min: 1 }), 30)
    .option("--json", "print the runs as JSON")
    .action(action(list));

  runs
    .command("show")
    .description("the run's timeline: steps, attempts, durations, errors, the step in flight")
    .argument("<id>", "the run's id")
    .option("--json", "print the run and its history as JSON")
    .action(action(show));

  runLogsCommand(runs.command("logs"));

  runs
    .command("start")
    .description("starts a run of a workflow (its input checked by the workflow's schema with --entry)")
    .argument("<workflow>", "the workflow's name")
    .argument("[json]", "its input, as JSON")
    .option("--id <id>", "the run's id (starting an id that exists does nothing)")
    .option("--entry <file>", "the file that exports the workflow: its input is checked before anything is stored")
    .option("--delay <duration>", "start it this much later: 10s, 5m, 1h")
    .option("--priority <n>", "higher runs are claimed first", integer(INT4))
    .option("--queue <name>", 'the queue it waits in (default: the workflow\'s; without --entry, "default")')
    .option("--force", "without --entry, start it even if no run of that workflow exists yet")
    .action(action(start));

  runs
    .command("retry")
    .description("queues a failed or cancelled run again: completed steps keep their results")
    .argument("<id>", "the run's id")
    .action(action(retry));

  runs
    .command("cancel")
    .description("cancels a run: its current step is aborted, onFailure hooks run")
    .argument("<id>", "the run's id")
    .option("--reason <text>", "recorded with the cancellation")
    .action(
      action<{ reason?: string }>(async ({ values, positionals: [id] }) => {
        await withClient(values, async (client) => {
          await client.cancel(id!, values.reason);
          console.log(`run ${id}: cancellation recorded`);
        });
      }),
    );

  runs
    .command("fork")
    .description("a new run with the history before a step, running on from there with today's code")
    .argument("<id>", "the run to fork")
    .requiredOption("--from <step>", "the step to run again: its name or its position")
    .option("--id <id>", "the new run's id")
    .action(
      action<{ from: string; id?: string }>(async ({ values, positionals: [id] }) => {
        const fromStep = /^\d+$/.test(values.from) ? Number(values.from) : values.from;
        await withClient(values, async (client) => {
          const handle = await client.fork(id!, { fromStep, ...(values.id ? { id: values.id } : {}) });
          console.log(handle.id);
        });
      }),
    );

  runs
    .command("signal")
    .description("sends a signal to a run (ctx.waitForSignal)")
    .argument("<id>", "the run's id")
    .argument("<name>", "the signal's name")
    .argument("[json]", "its payload, as JSON")
    .option("--entry <file>", "the file that exports the workflow: the payload is checked by the signal's schema before it is stored")
    .action(
      action<{ entry?: string }>(async ({ values, positionals: [id, name, json] }) => {
        const payload = parseJsonArg(json, "the payload");
        // With the code at hand, the client checks the payload against the workflow's declared
        // signal schema before anything is stored (without it, the wait checks it on arrival).
        if (values.entry) await loadWorkflows(values.entry);
        await withClient(values, async (client) => {
          await client.signal(id!, name!, payload);
          console.log(`signal "${name}" delivered to run ${id}`);
        });
      }),
    );
}

function statusStyle(status: string): string {
  if (status === "completed") return style.green(status);
  if (status === "failed") return style.red(status);
  if (status === "cancelled") return style.yellow(status);
  if (status === "running") return style.blue(status);
  return status;
}

async function list({ values }: ActionInput<{ status?: RunInfo["status"]; workflow?: string; after?: string; limit: number; json?: boolean }>): Promise<void> {
  await withClient(values, async (client) => {
    const runs = await client.listRuns({
      ...(values.status ? { status: values.status } : {}),
      ...(values.workflow ? { workflow: values.workflow } : {}),
      ...(values.after ? { after: values.after } : {}),
      limit: values.limit,
    });
    if (values.json) {
      console.log(JSON.stringify(runs, null, 2));
      return;
    }
    if (runs.length === 0) {
      console.log("no runs");
      return;
    }
    // The version column only when some run has one: unversioned deploys keep the room for errors.
    const versioned = runs.some((r) => r.version);
    const header = ["id", "workflow", "status", "attempt", ...(versioned ? ["version"] : []), "created", "error"];
    const rows = runs.map((r) => [
      r.id,
      r.workflowName,
      r.waitingForVersion ? `${statusStyle(r.status)} ${style.yellow(`(waits for a worker of version ${r.waitingForVersion})`)}` : statusStyle(r.status),
      String(r.attempt),
      ...(versioned ? [r.version ? `${r.version}${r.pinned ? " pinned" : ""}` : ""] : []),
      r.createdAt.toISOString(),
      "",
    ]);
    // The error takes what the other columns leave of the line (at least enough to read its start).
    const room = Math.max(24, roomForLast([header, ...rows], outputWidth()));
    runs.forEach((r, i) => {
      if (r.error) rows[i]![header.length - 1] = style.red(cut(`${r.error.name}: ${r.error.message}`, room));
    });
    console.log(table(rows, { header }));
  });
}

async function show({ values, positionals: [id] }: ActionInput<{ json?: boolean }>): Promise<void> {
  await withClient(values, async (client, store) => {
    const info = await client.status(id!);
    const history = await client.history(id!);
    if (values.json) {
      console.log(JSON.stringify({ run: info, history }, null, 2));
      return;
    }
    console.log(renderRunHeader(info));
    const rows = buildTimeline(history);
    if (info.stepsInFlight) {
      const [now, run] = await Promise.all([store.now(), store.getRun(id!)]);
      console.log(renderInFlight(info.stepsInFlight, run, now));
      markInFlight(rows, info.stepsInFlight, now);
    }
    console.log("");
    console.log(renderTimeline(rows));
    const logs = await store.logs(id!, 20);
    if (logs.length > 0) {
      console.log(`\n${style.bold("log")} ${style.dim(`(first ${logs.length}; all: reprise runs logs ${id})`)}`);
      for (const l of logs) console.log(`  ${formatLogLine(l)}`);
    }
  });
}

async function start({
  values,
  positionals: [name, json],
}: ActionInput<{ id?: string; entry?: string; delay?: string; priority?: number; queue?: string; force?: boolean }>): Promise<void> {
  const input = parseJsonArg(json, "the input");
  const { priority } = values;
  if (values.delay) toMillis(values.delay);
  // The client checks these when it starts the run; without --entry the store is given it directly.
  if (values.id !== undefined) newRunId(values.id);
  if (values.queue === "") throw new UsageError("--queue must not be empty");
  await withClient(values, async (client, store) => {
    let id: string;
    if (values.entry) {
      const entry = await loadWorkflows(values.entry);
      const wf = entry.workflows.find((w) => w.name === name);
      if (!wf) throw new UsageError(`${values.entry} exports no workflow "${name}" (it has: ${entry.workflows.map((w) => w.name).join(", ")})`);
      const handle = await client.start(wf, input, {
        ...(values.id ? { id: values.id } : {}),
        ...(values.delay ? { delay: values.delay } : {}),
        ...(priority !== undefined ? { priority } : {}),
        ...(values.queue ? { queue: values.queue } : {}),
      });
      id = handle.id;
    } else {
      // Without the code the input cannot be checked here (the worker parses it with the
      // workflow's schema when it runs it), nor the name: a typo would make a run no worker
      // ever takes. A workflow some worker declared, or that has runs already, exists.
      const known = (await store.fleet.declared([name!])).has(name!) || (await store.listRuns({ workflow: name!, limit: 1 })).length > 0;
      if (!values.force && !known) {
        throw new UsageError(`no worker has declared workflow "${name}" and it has no runs: pass --entry <file> to start it with its code (or --force)`);
      }
      id = values.id ?? newId();
      await store.startRuns([
        {
          id,
          workflow: name!,
          queue: values.queue ?? "default",
          // As the client stores it: checked to be JSON Postgres can hold (no \u0000).
          input: toJsonText(input, `input of workflow "${name}"`),
          ...(priority !== undefined ? { priority } : {}),
          ...(values.delay ? { delayMs: toMillis(values.delay) } : {}),
        },
      ]);
    }
    console.log(id);
  });
}

async function retry({ values, positionals: [id] }: ActionInput<object>): Promise<void> {
  await withClient(values, async (client) => {
    const { status } = await client.status(id!);
    await client.retry(id!);
    // Either way the retry reopens the run's terminal event: a failed run replays up to the
    // step that failed and runs it again; a cancelled one goes on from where it was stopped.
    const what = status === "cancelled" ? "it resumes where it was cancelled" : "the failed step runs again";
    console.log(`run ${id} queued again: completed steps keep their results, ${what}`);
  });
}

export function renderRunHeader(info: RunInfo): string {
  const lines = [
    `${style.bold(info.id)}  ${info.workflowName}  ${statusStyle(info.status)}  attempt ${info.attempt}`,
    style.dim(`created ${info.createdAt.toISOString()} · updated ${info.updatedAt.toISOString()} · queue ${info.queue}`),
  ];
  if (info.fingerprint) lines.push(style.dim(`code fingerprint ${info.fingerprint}`));
  if (info.version) lines.push(`version ${info.version}${info.pinned ? " (pinned: only its workers continue it)" : ""}`);
  if (info.waitingForVersion) lines.push(style.yellow(`waits for a worker of version ${info.waitingForVersion}: none is alive`));
  if (info.parentId) lines.push(`parent ${info.parentId}`);
  if (info.forkedFrom) lines.push(`forked from ${info.forkedFrom}`);
  if (info.error) lines.push(style.red(`error ${info.error.name}: ${info.error.message}`));
  return lines.join("\n");
}


/**
 * The steps in flight: which, which attempt, on which worker, for how long (database
 * time). A worker whose lease lapsed stopped renewing it: it died, or lost the database.
 */
export function renderInFlight(steps: readonly InFlightStep[], run: RunRecord | undefined, now: Date): string {
  const lines = steps.map(
    (s) =>
      `${style.blue("in flight")}  step ${style.bold(s.name)} (#${s.position}) attempt ${s.attempt} · running for ${formatMillis(Math.max(0, now.getTime() - s.startedAt.getTime()))} (since ${s.startedAt.toISOString()}) · worker ${s.workerId}`,
  );
  const leaseEnd = run?.availableAt;
  if (leaseEnd && leaseEnd.getTime() < now.getTime()) {
    lines.push(
      style.yellow(
        `  ↳ worker ${steps[0]!.workerId} has not renewed its lease since it lapsed ${formatMillis(now.getTime() - leaseEnd.getTime())} ago: if it died, the step runs again once another worker claims the run`,
      ),
    );
  }
  return lines.join("\n");
}
