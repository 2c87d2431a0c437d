import type { AlertsOptions } from "../alerts/alerts-options.js";
import { consoleChannel } from "../alerts/console-channel.js";
import { UsageError } from "./cli-error.js";
import type { Entry } from "./load-entry.js";

/**
 * The alert rules an entry exports as `alerts` (the Worker's `alerts` option), for
 * `reprise worker` and `reprise dev`; they are checked when the worker is built.
 */
export function entryAlerts(entry: Entry): AlertsOptions | undefined {
  const alerts = entry.module.alerts;
  if (alerts === undefined) return undefined;
  if (typeof alerts !== "object" || alerts === null) throw new UsageError(`${entry.path}: the exported "alerts" must be the Worker's alerts option ({ channels, rules })`);
  return alerts as AlertsOptions;
}

/** What `reprise dev` alerts with when the entry exports no rules: every failed run, one line on the console. */
export function devAlerts(entry: Entry): AlertsOptions {
  return (
    entryAlerts(entry) ?? {
      channels: { console: consoleChannel() },
      rules: [{ id: "dev-run-failed", on: "run.failed", severity: "warning", notify: ["console"], dedupWindow: "1m" }],
    }
  );
}
