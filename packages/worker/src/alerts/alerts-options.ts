import { toMillis, type Alert, type AlertEvent, type AlertSeverity, type Duration, type RetryPolicy } from "@reprise/sdk";
import { resolveRetryPolicy, type ResolvedRetryPolicy } from "@reprise/sdk/engine";
import { WorkerConfigError } from "../errors.js";
import type { AlertChannel } from "./channel.js";

export const ALERT_EVENTS: readonly AlertEvent[] = ["run.failed", "step.failed", "step.retrying", "run.late", "breaker.opened"];
export const SEVERITIES: readonly AlertSeverity[] = ["info", "warning", "high", "critical"];
/** What occurrences must share to be one alert, in the order a key lists them. */
export const DEDUP_FIELDS = ["workflow", "step", "error", "run"] as const;
/** What occurrences of a rule must share to count into one alert (`AlertRule.dedupBy`). */
export type DedupField = (typeof DEDUP_FIELDS)[number];

/** An alert as it opens, for `runbookUrl`. */
export type AlertDraft = Omit<Alert, "id" | "runbookUrl">;

/** One alert rule: what to listen for, how to group occurrences, whom to tell. */
export interface AlertRule {
  /**
   * Stable, and one rule in the whole database: workers that have a rule of the same id
   * share it (each fact is evaluated by one of them), so an id must mean the same rule on
   * every worker. Alerts are grouped by it.
   * @default `${on}-${index}`
   */
  id?: string;
  on: AlertEvent;
  /** Only these workflows. @default all */
  workflows?: readonly string[];
  severity: AlertSeverity;
  /** Channel names (keys of `alerts.channels`) told when an alert opens. */
  notify: readonly string[];
  /**
   * Occurrences of this rule with the same key within this time of the alert's first one
   * count into it (`count` grows) instead of opening a new alert.
   * @default "30m"
   */
  dedupWindow?: Duration;
  /**
   * What occurrences must share to be one alert; add `"run"` to keep one alert per run. An
   * alert of `breaker.opened` is always about one breaker, one of `run.late` about one
   * schedule, whatever this says.
   * @default ["workflow", "step", "error"]; for `breaker.opened` and `run.late`, []
   */
  dedupBy?: readonly DedupField[];
  /** `run.failed` only: fire when the workflow's last N ended runs all failed. */
  consecutiveFailures?: number;
  /** `step.retrying` only: fire from this failed attempt on. @default 1 */
  minAttempt?: number;
  /** `run.late` (required): a schedule slot not started, or its run not finished, this long after it was due. */
  lateBy?: Duration;
  /** Unacknowledged this long after it opened, the alert escalates (once) to `escalateTo`. */
  escalateAfter?: Duration;
  /** @default the `notify` channels */
  escalateTo?: readonly string[];
  /**
   * Resolve the alert when a later run of the workflow completes (or its failed run, retried).
   * @default false
   */
  autoResolve?: boolean;
  /**
   * Tell the `notify` channels when the alert is resolved (by hand or automatically).
   * @default false
   */
  notifyOnResolve?: boolean;
}

/**
 * The `alerts` option of `new Worker()`: rules, and the channels they notify.
 *
 * ```ts
 * new Worker({ connectionString, workflows, alerts: {
 *   channels: { team: webhook(process.env.SLACK_WEBHOOK_URL, { format: "slack" }) },
 *   rules: [{ id: "etl-failed", on: "run.failed", workflows: ["nightly-etl"], severity: "high", notify: ["team"], autoResolve: true }],
 *   dashboardUrl: "https://reprise.internal.example.com",
 * } });
 * ```
 */
export interface AlertsOptions {
  /**
   * Where alerts go, by name. A name means the same channel on every worker: any worker that
   * has a channel of that name may deliver a notification to it.
   */
  channels: Readonly<Record<string, AlertChannel>>;
  rules: readonly AlertRule[];
  /**
   * The runbook of an alert: a URL, or a function of the alert (called once, as it opens,
   * before it has an id).
   */
  runbookUrl?: string | ((alert: AlertDraft) => string | undefined);
  /** The dashboard: alerts link to `${dashboardUrl}/runs/${runId}`. */
  dashboardUrl?: string;
  /**
   * How often this worker evaluates new facts and sends due deliveries.
   * @default "1s"
   */
  interval?: Duration;
  /**
   * How long one delivery may take; a slower one counts as failed and is retried.
   * @default "10s"
   */
  deliveryTimeout?: Duration;
  /**
   * How failed deliveries are retried (exponential backoff with jitter).
   * @default { maxAttempts: 20, initialDelay: "1s", maxDelay: "5m" } (about an hour and a half in all)
   */
  deliveryRetry?: RetryPolicy;
  /**
   * How many of the run's last log lines an alert carries.
   * @default 10
   */
  logLines?: number;
}

/** An {@link AlertRule} checked, with defaults applied and durations in milliseconds. */
export interface ResolvedAlertRule {
  readonly id: string;
  readonly on: AlertEvent;
  readonly workflows: ReadonlySet<string> | undefined;
  readonly severity: AlertSeverity;
  readonly notify: readonly string[];
  readonly dedupWindowMs: number;
  readonly dedupBy: readonly DedupField[];
  readonly consecutiveFailures: number | undefined;
  readonly minAttempt: number;
  readonly lateByMs: number | undefined;
  readonly escalateAfterMs: number | undefined;
  readonly escalateTo: readonly string[];
  readonly autoResolve: boolean;
  readonly notifyOnResolve: boolean;
}

/** {@link AlertsOptions} checked once, at `new Worker()`. */
export interface ResolvedAlerts {
  readonly channels: ReadonlyMap<string, AlertChannel>;
  readonly rules: readonly ResolvedAlertRule[];
  readonly runbookUrl: ((alert: AlertDraft) => string | undefined) | undefined;
  readonly dashboardUrl: string | undefined;
  readonly intervalMs: number;
  readonly deliveryTimeoutMs: number;
  readonly deliveryRetry: ResolvedRetryPolicy;
  readonly logLines: number;
}

const RULE_FIELDS: ReadonlySet<string> = new Set([
  "id",
  "on",
  "workflows",
  "severity",
  "notify",
  "dedupWindow",
  "dedupBy",
  "consecutiveFailures",
  "minAttempt",
  "lateBy",
  "escalateAfter",
  "escalateTo",
  "autoResolve",
  "notifyOnResolve",
]);
const OPTION_FIELDS: ReadonlySet<string> = new Set(["channels", "rules", "runbookUrl", "dashboardUrl", "interval", "deliveryTimeout", "deliveryRetry", "logLines"]);

/** @throws WorkerConfigError naming what is wrong (an unknown channel, a bad duration, an unknown `on`, …) */
export function resolveAlertsOptions(options: AlertsOptions): ResolvedAlerts {
  if (!isObject(options)) throw new WorkerConfigError("alerts must be an object { channels, rules }");
  unknownFields(options, OPTION_FIELDS, "alerts");
  if (!isObject(options.channels)) throw new WorkerConfigError("alerts.channels must be an object of named channels");
  const channels = new Map<string, AlertChannel>();
  for (const [name, channel] of Object.entries(options.channels)) {
    if (typeof channel !== "function") {
      throw new WorkerConfigError(`alerts.channels.${name} must be a channel (webhook(), email(), consoleChannel() or a function), got ${describe(channel)}`);
    }
    channels.set(name, channel);
  }
  if (!Array.isArray(options.rules)) throw new WorkerConfigError("alerts.rules must be an array of rules");
  const rules: ResolvedAlertRule[] = [];
  const ids = new Set<string>();
  options.rules.forEach((rule, index) => {
    const resolved = resolveRule(rule, index, channels);
    if (ids.has(resolved.id)) throw new WorkerConfigError(`alerts.rules: two rules have the id "${resolved.id}"; rule ids must be unique`);
    ids.add(resolved.id);
    rules.push(resolved);
  });
  const runbook = options.runbookUrl;
  if (runbook !== undefined && typeof runbook !== "string" && typeof runbook !== "function") {
    throw new WorkerConfigError(`alerts.runbookUrl must be a URL or a function of the alert, got ${describe(runbook)}`);
  }
  let dashboardUrl: string | undefined;
  if (options.dashboardUrl !== undefined) {
    if (typeof options.dashboardUrl !== "string" || !URL.canParse(options.dashboardUrl) || !/^https?:$/.test(new URL(options.dashboardUrl).protocol)) {
      throw new WorkerConfigError(`alerts.dashboardUrl must be an http(s) URL, got ${describe(options.dashboardUrl)}`);
    }
    dashboardUrl = options.dashboardUrl.replace(/\/+$/, "");
  }
  const logLines = options.logLines ?? 10;
  if (!Number.isInteger(logLines) || logLines < 0 || logLines > 1000) throw new WorkerConfigError(`alerts.logLines must be an integer from 0 to 1000, got ${describe(logLines)}`);
  let deliveryRetry: ResolvedRetryPolicy;
  try {
    deliveryRetry = resolveRetryPolicy({ maxAttempts: 20, initialDelay: "1s", maxDelay: "5m" }, options.deliveryRetry);
  } catch (error) {
    throw new WorkerConfigError(`alerts.deliveryRetry: ${(error as Error).message}`);
  }
  const intervalMs = duration(options.interval ?? "1s", "alerts.interval");
  if (intervalMs < 10) throw new WorkerConfigError(`alerts.interval must be at least 10ms, got ${intervalMs}ms`);
  const deliveryTimeoutMs = duration(options.deliveryTimeout ?? "10s", "alerts.deliveryTimeout");
  if (deliveryTimeoutMs < 10) throw new WorkerConfigError(`alerts.deliveryTimeout must be at least 10ms, got ${deliveryTimeoutMs}ms`);
  return Object.freeze({
    channels,
    rules: Object.freeze(rules),
    runbookUrl: typeof runbook === "string" ? () => runbook : runbook,
    dashboardUrl,
    intervalMs,
    deliveryTimeoutMs,
    deliveryRetry,
    logLines,
  });
}

function resolveRule(rule: AlertRule, index: number, channels: ReadonlyMap<string, AlertChannel>): ResolvedAlertRule {
  if (!isObject(rule)) throw new WorkerConfigError(`alerts.rules[${index}] must be a rule object, got ${describe(rule)}`);
  if (!ALERT_EVENTS.includes(rule.on)) {
    throw new WorkerConfigError(`alerts.rules[${index}]: unknown on ${describe(rule.on)} (one of ${ALERT_EVENTS.join(", ")})`);
  }
  const id = rule.id ?? `${rule.on}-${index}`;
  if (typeof id !== "string" || id.length === 0 || id.length > 200) throw new WorkerConfigError(`alerts.rules[${index}]: id must be a non-empty string, got ${describe(rule.id)}`);
  const where = `alert rule "${id}"`;
  unknownFields(rule, RULE_FIELDS, where);
  if (!SEVERITIES.includes(rule.severity)) {
    throw new WorkerConfigError(`${where}: severity must be one of ${SEVERITIES.join(", ")}, got ${describe(rule.severity)}`);
  }
  const notify = channelNames(rule.notify, `${where}: notify`, channels);
  let workflows: Set<string> | undefined;
  if (rule.workflows !== undefined) {
    if (!Array.isArray(rule.workflows) || rule.workflows.some((w) => typeof w !== "string")) {
      throw new WorkerConfigError(`${where}: workflows must be an array of workflow names`);
    }
    workflows = new Set(rule.workflows);
  }
  const dedupBy = rule.dedupBy ?? (rule.on === "breaker.opened" || rule.on === "run.late" ? [] : ["workflow", "step", "error"]);
  if (!Array.isArray(dedupBy) || dedupBy.some((f) => !DEDUP_FIELDS.includes(f))) {
    throw new WorkerConfigError(`${where}: dedupBy must list some of ${DEDUP_FIELDS.join(", ")}, got ${describe(rule.dedupBy)}`);
  }
  const only = (field: keyof AlertRule, on: AlertEvent) => {
    if (rule[field] !== undefined && rule.on !== on) throw new WorkerConfigError(`${where}: ${field} applies to on: "${on}" only, not "${rule.on}"`);
  };
  only("consecutiveFailures", "run.failed");
  only("minAttempt", "step.retrying");
  only("lateBy", "run.late");
  const consecutiveFailures = rule.consecutiveFailures;
  if (consecutiveFailures !== undefined && (!Number.isInteger(consecutiveFailures) || consecutiveFailures < 1 || consecutiveFailures > 1000)) {
    throw new WorkerConfigError(`${where}: consecutiveFailures must be an integer from 1 to 1000, got ${describe(consecutiveFailures)}`);
  }
  const minAttempt = rule.minAttempt ?? 1;
  if (!Number.isInteger(minAttempt) || minAttempt < 1) throw new WorkerConfigError(`${where}: minAttempt must be an integer >= 1, got ${describe(rule.minAttempt)}`);
  let lateByMs: number | undefined;
  if (rule.on === "run.late") {
    if (rule.lateBy === undefined) throw new WorkerConfigError(`${where}: on: "run.late" needs lateBy (how late is late)`);
    lateByMs = duration(rule.lateBy, `${where}: lateBy`);
  }
  const escalateAfterMs = rule.escalateAfter === undefined ? undefined : duration(rule.escalateAfter, `${where}: escalateAfter`);
  if (rule.escalateTo !== undefined && escalateAfterMs === undefined) throw new WorkerConfigError(`${where}: escalateTo needs escalateAfter (when to escalate)`);
  const escalateTo = rule.escalateTo === undefined ? notify : channelNames(rule.escalateTo, `${where}: escalateTo`, channels);
  for (const flag of ["autoResolve", "notifyOnResolve"] as const) {
    if (rule[flag] !== undefined && typeof rule[flag] !== "boolean") throw new WorkerConfigError(`${where}: ${flag} must be true or false, got ${describe(rule[flag])}`);
  }
  return Object.freeze({
    id,
    on: rule.on,
    workflows,
    severity: rule.severity,
    notify,
    dedupWindowMs: duration(rule.dedupWindow ?? "30m", `${where}: dedupWindow`),
    dedupBy: DEDUP_FIELDS.filter((f) => dedupBy.includes(f)),
    consecutiveFailures,
    minAttempt,
    lateByMs,
    escalateAfterMs,
    escalateTo: escalateAfterMs === undefined ? [] : escalateTo,
    autoResolve: rule.autoResolve ?? false,
    notifyOnResolve: rule.notifyOnResolve ?? false,
  });
}

function channelNames(names: unknown, where: string, channels: ReadonlyMap<string, AlertChannel>): string[] {
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) throw new WorkerConfigError(`${where} must be an array of channel names`);
  for (const name of names as string[]) {
    if (!channels.has(name)) {
      const known = [...channels.keys()];
      throw new WorkerConfigError(`${where}: unknown channel "${name}" (${known.length ? `known: ${known.join(", ")}` : "alerts.channels is empty"})`);
    }
  }
  return [...new Set(names as string[])];
}

function duration(value: Duration, where: string): number {
  try {
    return toMillis(value);
  } catch (error) {
    throw new WorkerConfigError(`${where}: ${(error as Error).message}`);
  }
}

function unknownFields(value: object, known: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new WorkerConfigError(`${where}: unknown option "${key}" (known: ${[...known].join(", ")})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> & object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === "function") return "a function";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
