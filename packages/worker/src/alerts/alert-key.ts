import type { ResolvedAlertRule } from "./alerts-options.js";
import type { Occurrence } from "./occurrence.js";

/**
 * The key occurrences of a rule must share to count into one alert: the rule's `dedupBy`
 * fields (always in the same order), after what the alert is about (a breaker, a
 * schedule). Readable, since people see it: `workflow=nightly step=extract error=Error`.
 * Values are URI-encoded, so two different combinations never make the same key.
 */
export function alertKey(rule: ResolvedAlertRule, o: Occurrence): string {
  const parts: string[] = [];
  if (o.subject) parts.push(`${o.subject.kind}=${encodeURIComponent(o.subject.name)}`);
  for (const field of rule.dedupBy) {
    const value = field === "workflow" ? o.workflow : field === "step" ? o.step : field === "error" ? o.errorName : o.runId;
    if (value !== undefined) parts.push(`${field}=${encodeURIComponent(value)}`);
  }
  return parts.length > 0 ? parts.join(" ") : "*";
}
