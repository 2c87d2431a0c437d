import { toMillis, type InFlightStep, type RunInfo } from "@reprise/sdk";
import { formatMillis, newId } from "@reprise/sdk/engine";
import type { RunRecord } from "@reprise/store";
import { UsageError } from "./cli-error.js";
import { intFlag, parseFlags, parseJsonArg } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";
import { formatLogLine } from "./log-lines.js";
import { runLogsCommand } from "./run-logs.js";
import { style, table } from "./style.js";
import { buildTimeline, markInFlight, renderTimeline } from "./timeline.js";
import { withClient } from "./with-client.js";

const STATUSES = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];

/** `reprise runs <list|show|start|retry|cancel|fork|signal> …` */
export async function runsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const command = sub ? SUBCOMMANDS[sub] : undefined;
  if (!command) throw new UsageError(`usage: reprise runs <${Object.keys(SUBCOMMANDS).join("|")}> …`);
  await command(rest);
}

function statusStyle(status: string): string {
  if (status === "completed") return style.green(status);
  if (status === "failed") return style.red(status);
  if (status === "cancelled") return style.yellow(status);
  if (status === "running") return style.blue(status);
  return status;
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  async list(args) {
    const { values } = parseFlags(args, { status: { type: "string" }, workflow: { type: "string" }, limit: { type: "string" }, after: { type: "string" } });
    if (values.status && !STATUSES.includes(values.status)) throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
    const limit = intFlag(values.limit, "limit") ?? 30;
    await withClient(values, async (client) => {
      const runs = await client.listRuns({
        ...(values.status ? { status: values.status as RunInfo["status"] } : {}),
        ...(values.workflow ? { workflow: values.workflow } : {}),
        ...(values.after ? { after: values.after } : {}),
        limit,
      });
      if (runs.length === 0) {
        console.log("no runs");
        return;
      }
      const rows = runs.map((r) => [
        r.id,
        r.workflowName,
        r.waitingForVersion ? `${statusStyle(r.status)} ${style.yellow(`(waits for a worker of version ${r.waitingForVersion})`)}` : statusStyle(r.status),
        String(r.attempt),
        r.version ? `${r.version}${r.pinned ? " pinned" : ""}` : "",
        r.createdAt.toISOString(),
        r.error ? style.red(`${r.error.name}: ${r.error.message}`.slice(0, 80)) : "",
      ]);
      console.log(table(rows, { header: ["id", "workflow", "status", "attempt", "version", "created", "error"] }));
    });
  },

  async show(args) {
    const { values, positionals } = parseFlags(args, { json: { type: "boolean" } });
    const id = positionals[0];
    if (!id) throw new UsageError("usage: reprise runs show <id>");
    await withClient(values, async (client, store) => {
      const info = await client.status(id);
      const history = await client.history(id);
      if (values.json) {
        console.log(JSON.stringify({ run: info, history }, null, 2));
        return;
      }
      console.log(renderRunHeader(info));
      const rows = buildTimeline(history);
      if (info.stepsInFlight) {
        const [now, run] = await Promise.all([store.now(), store.getRun(id)]);
        console.log(renderInFlight(info.stepsInFlight, run, now));
        markInFlight(rows, info.stepsInFlight, now);
      }
      console.log("");
      console.log(renderTimeline(rows));
      const logs = await store.logs(id, 20);
      if (logs.length > 0) {
        console.log(`\n${style.bold("log")} ${style.dim(`(first ${logs.length}; all: reprise runs logs ${id})`)}`);
        for (const l of logs) console.log(`  ${formatLogLine(l)}`);
      }
    });
  },

  logs: runLogsCommand,

  async start(args) {
    const { values, positionals } = parseFlags(args, {
      id: { type: "string" },
      entry: { type: "string" },
      delay: { type: "string" },
      priority: { type: "string" },
      queue: { type: "string" },
      force: { type: "boolean" },
    });
    const [name, json] = positionals;
    if (!name) throw new UsageError("usage: reprise runs start <workflow> [json input] [--entry file]");
    const input = parseJsonArg(json, "the input");
    const priority = intFlag(values.priority, "priority");
    if (values.delay) toMillis(values.delay);
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
        const known = (await store.fleet.declared([name])).has(name) || (await store.listRuns({ workflow: name, limit: 1 })).length > 0;
        if (!values.force && !known) {
          throw new UsageError(`no worker has declared workflow "${name}" and it has no runs: pass --entry <file> to start it with its code (or --force)`);
        }
        id = values.id ?? newId();
        await store.startRuns([
          {
            id,
            workflow: name,
            queue: values.queue ?? "default",
            input: input === undefined ? undefined : JSON.stringify(input),
            ...(priority !== undefined ? { priority } : {}),
            ...(values.delay ? { delayMs: toMillis(values.delay) } : {}),
          },
        ]);
      }
      console.log(id);
    });
  },

  async retry(args) {
    const { values, positionals } = parseFlags(args, {});
    const id = positionals[0];
    if (!id) throw new UsageError("usage: reprise runs retry <id>");
    await withClient(values, async (client) => {
      await client.retry(id);
      console.log(`run ${id} queued again: completed steps keep their results, the failed step runs again`);
    });
  },

  async cancel(args) {
    const { values, positionals } = parseFlags(args, { reason: { type: "string" } });
    const id = positionals[0];
    if (!id) throw new UsageError("usage: reprise runs cancel <id> [--reason text]");
    await withClient(values, async (client) => {
      await client.cancel(id, values.reason);
      console.log(`run ${id}: cancellation recorded`);
    });
  },

  async fork(args) {
    const { values, positionals } = parseFlags(args, { from: { type: "string" }, id: { type: "string" } });
    const id = positionals[0];
    if (!id || values.from === undefined) throw new UsageError("usage: reprise runs fork <id> --from <step name or position> [--id new-id]");
    const fromStep = /^\d+$/.test(values.from) ? Number(values.from) : values.from;
    await withClient(values, async (client) => {
      const handle = await client.fork(id, { fromStep, ...(values.id ? { id: values.id } : {}) });
      console.log(handle.id);
    });
  },

  async signal(args) {
    const { values, positionals } = parseFlags(args, { entry: { type: "string" } });
    const [id, name, json] = positionals;
    if (!id || !name) throw new UsageError("usage: reprise runs signal <id> <name> [json payload] [--entry file]");
    const payload = parseJsonArg(json, "the payload");
    // With the code at hand, the client checks the payload against the workflow's declared
    // signal schema before anything is stored (without it, the wait checks it on arrival).
    if (values.entry) await loadWorkflows(values.entry);
    await withClient(values, async (client) => {
      await client.signal(id, name, payload);
      console.log(`signal "${name}" delivered to run ${id}`);
    });
  },
};

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
