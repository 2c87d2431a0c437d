import type { EmittedEvent } from "@reprise/sdk";
import type { Command } from "commander";
import { Finding, UsageError } from "./cli-error.js";
import { action, type ActionInput } from "./command-action.js";
import { integer, parseJsonArg } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";
import { style, table } from "./style.js";
import { withClient } from "./with-client.js";

/**
 * `reprise emit <name> [json] [--id ID] [--entry file]`: emits an event, as `client.emit`
 * does. With `--entry`, the workflows' schemas check the payload here first (a refused
 * payload starts nothing for that workflow); without it, each worker checks it when the
 * run starts. Prints the event id, then one line per workflow it matched. Exit 1 when a
 * workflow refused the payload.
 */
export function emitCommand(command: Command): void {
  command
    .description("emits an event: starts each workflow declared with on: <name>, once per event id")
    .argument("<name>", "the event's name")
    .argument("[json]", "its payload, as JSON")
    .option("--id <id>", "the event's id: emitting it again starts nothing new (default: a new ULID)")
    .option("--entry <file>", "check the payload with the schemas of this entry's workflows first")
    .option("--json", "print the result as JSON")
    .action(action(emit));
}

async function emit({ values, positionals: [name, json] }: ActionInput<{ id?: string; entry?: string; json?: boolean }>): Promise<void> {
  if (!name) throw new UsageError("usage: reprise emit <event name> [json payload] [--id ID] [--entry file]");
  const payload = parseJsonArg(json, "the payload");
  if (values.entry) await loadWorkflows(values.entry);
  await withClient(values, async (client) => {
    const result = await client.emit(name, payload, values.id ? { id: values.id } : {});
    if (values.json) {
      console.log(
        JSON.stringify(
          { eventId: result.eventId, duplicate: result.duplicate, runs: result.runs.map((r) => r.id), invalid: result.invalid.map((i) => ({ workflow: i.workflowName, error: i.error.message })) },
          null,
          2,
        ),
      );
    } else {
      console.log(`event ${result.eventId}${result.duplicate ? style.dim(" (emitted before: nothing new started for what it had started)") : ""}`);
      for (const run of result.runs) console.log(`  started ${run.id}`);
      for (const refused of result.invalid) console.log(`  ${style.red("refused")} ${refused.workflowName}: ${refused.error.message}`);
      if (result.runs.length === 0 && result.invalid.length === 0) console.log(style.dim(`  no workflow is declared with on: "${name}" (workers declare their triggers when they start)`));
    }
    if (result.invalid.length > 0) throw new Finding(`${result.invalid.length} workflow(s) refused the payload of event ${result.eventId}`);
  });
}

/** `reprise events list [--name N] [--limit N] [--json]` and `reprise events show <id>`. */
export function eventsCommand(events: Command): void {
  events.description("emitted events and the runs each one started");
  events
    .command("list")
    .description("emitted events, newest first, with the runs each started (or why it started none)")
    .option("--name <name>", "only events of this name")
    .option("--after <id>", "the page after this event id")
    .option("--limit <n>", "at most this many", integer({ min: 1, max: 10_000 }), 30)
    .option("--json", "print them as JSON")
    .action(action(list));
  events.command("show").description("one event: its payload and runs").argument("<id>", "the event's id").action(action(show));
}

function describeRuns(event: EmittedEvent): string {
  if (event.runs.length === 0) return style.dim("started nothing");
  return event.runs
    .map((r) => (r.runId ? `${r.runId} ${r.status ?? style.dim("pruned")}` : `${r.workflowName} ${style.red(`refused: ${r.error?.message ?? "invalid"}`.slice(0, 80))}`))
    .join(", ");
}

async function list({ values }: ActionInput<{ name?: string; after?: string; limit: number; json?: boolean }>): Promise<void> {
  const { limit } = values;
  await withClient(values, async (client) => {
    const events = await client.events.list({ ...(values.name ? { name: values.name } : {}), ...(values.after ? { after: values.after } : {}), limit });
    if (values.json) {
      console.log(JSON.stringify(events, null, 2));
      return;
    }
    if (events.length === 0) {
      console.log("no events");
      return;
    }
    const rows = events.map((e) => {
      const payload = "payload" in e ? (JSON.stringify(e.payload) ?? "") : style.dim(`(${e.payloadBytes} bytes)`);
      return [e.id, e.name, e.emittedAt.toISOString(), e.source, payload.length > 40 ? `${payload.slice(0, 39)}…` : payload, describeRuns(e)];
    });
    console.log(table(rows, { header: ["id", "name", "emitted", "from", "payload", "runs"] }));
  });
}

async function show({ values, positionals: [id] }: ActionInput<object>): Promise<void> {
  if (!id) throw new UsageError("usage: reprise events show <id>");
  await withClient(values, async (client) => {
    const event = await client.events.get(id);
    if (!event) throw new UsageError(`no event with id "${id}"`);
    console.log(`${style.bold(event.id)}  ${event.name}  emitted ${event.emittedAt.toISOString()} from ${event.source}`);
    console.log(`payload ${JSON.stringify(event.payload) ?? "(none)"}`);
    for (const r of event.runs) {
      console.log(r.runId ? `  ${r.workflowName}: run ${r.runId} ${r.status ?? "pruned"}` : `  ${r.workflowName}: ${style.red(`refused: ${r.error?.message}`)}`);
    }
  });
}
