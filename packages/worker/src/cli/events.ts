import { Client, type EmittedEvent } from "@reprise/sdk";
import { Finding, UsageError } from "./cli-error.js";
import { openStore } from "./connection.js";
import { intFlag, parseFlags, parseJsonArg } from "./flags.js";
import { loadWorkflows } from "./load-entry.js";
import { style, table } from "./style.js";

async function withClient<T>(flags: { "database-url"?: string | undefined; schema?: string | undefined }, fn: (client: Client) => Promise<T>): Promise<T> {
  const store = await openStore(flags);
  try {
    return await fn(new Client({ store, migrate: false }));
  } finally {
    await store.close();
  }
}

/**
 * `reprise emit <name> [json] [--id ID] [--entry file]`: emits an event, as `client.emit`
 * does. With `--entry`, the workflows' schemas check the payload here first (a refused
 * payload starts nothing for that workflow); without it, each worker checks it when the
 * run starts. Prints the event id, then one line per workflow it matched. Exit 1 when a
 * workflow refused the payload.
 */
export async function emitCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { id: { type: "string" }, entry: { type: "string" }, json: { type: "boolean" } });
  const [name, json, extra] = positionals;
  if (!name || extra !== undefined) throw new UsageError("usage: reprise emit <event name> [json payload] [--id ID] [--entry file]");
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
export async function eventsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === "list") return list(rest);
  if (sub === "show") return show(rest);
  throw new UsageError("usage: reprise events <list|show> …");
}

function describeRuns(event: EmittedEvent): string {
  if (event.runs.length === 0) return style.dim("started nothing");
  return event.runs
    .map((r) => (r.runId ? `${r.runId} ${r.status ?? style.dim("pruned")}` : `${r.workflowName} ${style.red(`refused: ${r.error?.message ?? "invalid"}`.slice(0, 80))}`))
    .join(", ");
}

async function list(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { name: { type: "string" }, limit: { type: "string" }, after: { type: "string" }, json: { type: "boolean" } });
  if (positionals.length > 0) throw new UsageError("usage: reprise events list [--name N] [--limit N] [--json]");
  const limit = intFlag(values.limit, "limit") ?? 30;
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

async function show(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {});
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError("usage: reprise events show <id>");
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
