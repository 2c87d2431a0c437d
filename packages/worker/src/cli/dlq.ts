import { Client } from "@reprise/sdk";
import { UsageError } from "./cli-error.js";
import { openStore } from "./connection.js";
import { intFlag, parseFlags } from "./flags.js";
import { style, table } from "./style.js";

/** `reprise dlq list [--workflow W] [--run R]` and `reprise dlq retry <id>`. */
export async function dlqCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === "list") return list(rest);
  if (sub === "retry") return retry(rest);
  throw new UsageError("usage: reprise dlq <list|retry> …");
}

async function list(args: string[]): Promise<void> {
  const { values } = parseFlags(args, { workflow: { type: "string" }, run: { type: "string" }, limit: { type: "string" } });
  const limit = intFlag(values.limit, "limit") ?? 50;
  const store = await openStore(values);
  try {
    const letters = await store.deadLetters({ workflow: values.workflow, runId: values.run, limit });
    if (letters.length === 0) {
      console.log("no dead letters");
      return;
    }
    const rows = letters.map((l) => {
      const error = l.error as { name?: string; message?: string };
      const item = JSON.stringify(l.item) ?? "";
      return [
        l.id,
        l.runId,
        l.workflow,
        `${l.map}[${l.index}]`,
        item.length > 30 ? `${item.slice(0, 29)}…` : item,
        style.red(`${error.name}: ${error.message}`.slice(0, 60)),
        l.retriedBy ? style.green(`retried by ${l.retriedBy}`) : l.createdAt.toISOString(),
      ];
    });
    console.log(table(rows, { header: ["id", "run", "workflow", "item", "value", "error", "when"] }));
  } finally {
    await store.close();
  }
}

async function retry(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {});
  const id = positionals[0];
  if (!id) throw new UsageError("usage: reprise dlq retry <dead letter id>");
  const store = await openStore(values);
  try {
    const handle = await new Client({ store, migrate: false }).retryDeadLetter(id);
    console.log(`dead letter ${id} redriven in run ${handle.id}: the item runs again, the rest of its map keeps its results`);
  } finally {
    await store.close();
  }
}
