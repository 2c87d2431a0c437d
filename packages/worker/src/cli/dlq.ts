import { Client } from "@reprise/sdk";
import type { Command } from "commander";
import { action, type ActionInput } from "./command-action.js";
import { openStore } from "./connection.js";
import { integer } from "./flags.js";
import { cut, style, table } from "./style.js";

/** `reprise dlq list [--workflow W] [--run R] [--json]` and `reprise dlq retry <id>`. */
export function dlqCommand(dlq: Command): void {
  dlq.description("the items ctx.map dead-lettered, and their redrive");
  dlq
    .command("list")
    .description("items ctx.map dead-lettered, newest first")
    .option("--workflow <name>", "only those of this workflow")
    .option("--run <id>", "only those of this run")
    .option("--limit <n>", "at most this many", integer({ min: 1 }), 50)
    .option("--json", "print them as JSON")
    .action(action(list));
  dlq
    .command("retry")
    .description("redrive one: it runs again, its map's other items keep their results")
    .argument("<id>", "the dead letter's id (from dlq list)")
    .action(action(retry));
}

async function list({ values }: ActionInput<{ workflow?: string; run?: string; limit: number; json?: boolean }>): Promise<void> {
  const store = await openStore(values);
  try {
    const letters = await store.deadLetters({ workflow: values.workflow, runId: values.run, limit: values.limit });
    if (values.json) {
      console.log(JSON.stringify(letters, null, 2));
      return;
    }
    if (letters.length === 0) {
      console.log("no dead letters");
      return;
    }
    const rows = letters.map((l) => {
      const error = l.error as { name?: string; message?: string };
      return [
        l.id,
        l.runId,
        l.workflow,
        `${l.map}[${l.index}]`,
        cut(JSON.stringify(l.item) ?? "", 30),
        style.red(cut(`${error.name}: ${error.message}`, 60)),
        l.retriedBy ? style.green(`retried by ${l.retriedBy}`) : l.createdAt.toISOString(),
      ];
    });
    console.log(table(rows, { header: ["id", "run", "workflow", "item", "value", "error", "when"] }));
  } finally {
    await store.close();
  }
}

async function retry({ values, positionals: [id] }: ActionInput<object>): Promise<void> {
  const store = await openStore(values);
  try {
    const handle = await new Client({ store, migrate: false }).retryDeadLetter(id!);
    console.log(`dead letter ${id} redriven in run ${handle.id}: the item runs again, the rest of its map keeps its results`);
  } finally {
    await store.close();
  }
}
