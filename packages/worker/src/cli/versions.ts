import { Client } from "@reprise/sdk";
import type { Command } from "commander";
import { action, type ActionInput } from "./command-action.js";
import { openStore } from "./connection.js";
import { style, table } from "./style.js";

/**
 * `reprise versions [--json]`: each deployment version, newest first, with its open runs
 * (how many are pinned to it) and its live workers — so an operator knows when the workers
 * of an old version can go (0 open runs), and which pinned runs wait for a version whose
 * workers are all gone.
 */
export function versionsCommand(command: Command): void {
  command
    .description("deployment versions: open runs (pinned ones) and live workers; when an old version can go")
    .option("--json", "print them as JSON")
    .action(action(versions));
}

async function versions({ values }: ActionInput<{ json?: boolean }>): Promise<void> {
  const store = await openStore(values);
  try {
    const all = await new Client({ store, migrate: false }).versions();
    if (values.json) {
      console.log(JSON.stringify(all, null, 2));
      return;
    }
    const shown = all.filter((v) => v.version !== undefined || v.openRuns > 0 || v.liveWorkers > 0);
    if (shown.length === 0) {
      console.log("no versions: no worker with a version has run, and no run is open");
      return;
    }
    const rows = shown.map((v) => {
      let note = "";
      if (v.state === "stopped" && v.pinnedRuns > 0) note = style.red(`${v.pinnedRuns} pinned run(s) wait for a worker of ${v.version}`);
      else if (v.state === "draining" && v.openRuns === 0) note = style.green("no open runs: its workers can go");
      else if (v.state === "stopped" && v.openRuns === 0) note = style.dim("retired");
      else if (v.state === "unversioned") note = style.dim("not run yet, or run by workers without a version");
      return [
        v.version ?? style.dim("(none)"),
        v.state === "current" ? style.green(v.state) : v.state === "draining" ? style.yellow(v.state) : v.state,
        String(v.openRuns),
        String(v.pinnedRuns),
        String(v.liveWorkers),
        v.lastSeenAt ? v.lastSeenAt.toISOString() : "",
        note,
      ];
    });
    console.log(table(rows, { header: ["version", "state", "open runs", "pinned", "workers", "last seen", ""] }));
  } finally {
    await store.close();
  }
}
