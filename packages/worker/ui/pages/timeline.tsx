import type { RunEvent } from "../api.js";
import { duration } from "../format.js";

/** One bar of the timeline: an attempt, a retry delay, or a wait. */
export interface Span {
  kind: "attempt-ok" | "attempt-failed" | "retry-delay" | "sleep" | "wait" | "child";
  start: number;
  end: number;
  label: string;
  /** The attempt's error, for a failed attempt. */
  error?: { name: string; message: string; stack?: string };
}

export interface Row {
  position: number;
  name: string;
  spans: Span[];
}

const ms = (iso: unknown) => (typeof iso === "string" ? Date.parse(iso) : NaN);

/**
 * The run's durable calls as rows of bars, from its events: each step's attempts (with the
 * delay before each retry), sleeps, signal waits and children. Positions order the rows.
 */
export function timelineOf(events: readonly RunEvent[], now: number): Row[] {
  const rows = new Map<number, Row>();
  const row = (e: RunEvent) => {
    let found = rows.get(e.position!);
    if (!found) rows.set(e.position!, (found = { position: e.position!, name: e.name ?? "", spans: [] }));
    return found;
  };
  const openWaits = new Map<number, Span>();
  for (const e of events) {
    if (e.position === null || e.position === undefined) continue;
    const p = e.payload ?? {};
    const r = row(e);
    switch (e.kind) {
      case "StepAttemptFailed": {
        const start = ms(p.startedAt);
        const end = start + Number(p.durationMs ?? 0);
        r.spans.push({ kind: "attempt-failed", start, end, label: `attempt ${String(p.attempt)} failed after ${duration(Number(p.durationMs))}`, error: p.error as Span["error"] });
        const retryAt = ms(p.retryAt);
        if (retryAt > end) r.spans.push({ kind: "retry-delay", start: end, end: retryAt, label: `retry in ${duration(retryAt - end)}` });
        break;
      }
      case "StepCompleted":
      case "StepFailed": {
        const start = ms(p.startedAt);
        if (!Number.isFinite(start)) break;
        const ok = e.kind === "StepCompleted";
        const attempt = ok ? p.attempt : p.attempts;
        r.spans.push({
          kind: ok ? "attempt-ok" : "attempt-failed",
          start,
          end: start + Number(p.durationMs ?? 0),
          label: `attempt ${String(attempt)} ${ok ? "took" : "failed after"} ${duration(Number(p.durationMs))}`,
          ...(ok ? {} : { error: p.error as Span["error"] }),
        });
        break;
      }
      case "TimerStarted":
      case "SignalWaitStarted": {
        const waitsSignal = e.kind === "SignalWaitStarted" || p.signal === true;
        const span: Span = {
          kind: waitsSignal ? "wait" : "sleep",
          start: ms(e.createdAt),
          end: waitsSignal ? now : ms(p.wakeAt),
          label: waitsSignal ? `waits for signal "${e.name}"` : `sleeps until ${new Date(ms(p.wakeAt)).toLocaleTimeString()}`,
        };
        r.spans.push(span);
        openWaits.set(e.position, span);
        break;
      }
      case "TimerFired":
      case "SignalConsumed": {
        const span = openWaits.get(e.position);
        if (span) {
          span.end = ms(e.createdAt);
          span.label = e.kind === "SignalConsumed" ? `signal "${e.name}" after ${duration(span.end - span.start)}` : `${span.kind === "wait" ? "timed out" : "slept"} ${duration(span.end - span.start)}`;
        }
        break;
      }
      case "ChildStarted": {
        const span: Span = { kind: "child", start: ms(e.createdAt), end: now, label: `child ${String(p.childId)}` };
        r.spans.push(span);
        openWaits.set(e.position, span);
        break;
      }
      case "ChildCompleted":
      case "ChildFailed": {
        const span = openWaits.get(e.position);
        if (span) {
          span.end = ms(e.createdAt);
          span.label = `child ${e.kind === "ChildCompleted" ? "completed" : "failed"} after ${duration(span.end - span.start)}`;
        }
        break;
      }
      default:
        break;
    }
  }
  return [...rows.values()].filter((r) => r.spans.length > 0).sort((a, b) => a.position - b.position);
}

/** The Gantt chart of a run: one row per durable call, bars placed on the run's own time axis. */
export function Timeline(props: { events: readonly RunEvent[]; start: number; end: number }) {
  const rows = timelineOf(props.events, props.end);
  if (rows.length === 0) return <p class="note">No steps yet.</p>;
  const from = Math.min(props.start, ...rows.flatMap((r) => r.spans.map((s) => s.start)).filter(Number.isFinite));
  const to = Math.max(props.end, ...rows.flatMap((r) => r.spans.map((s) => s.end)).filter(Number.isFinite));
  const total = Math.max(1, to - from);
  const pct = (t: number) => `${(((t - from) / total) * 100).toFixed(3)}%`;
  const width = (s: Span) => `${Math.max(0.4, ((s.end - s.start) / total) * 100).toFixed(3)}%`;
  return (
    <div class="timeline" data-testid="timeline">
      <div class="axis">
        <span>0</span>
        <span>{duration(total)}</span>
      </div>
      {rows.map((r) => (
        <div class="tl-row" data-testid="timeline-row" data-step={r.name}>
          <div class="tl-label" title={`position ${r.position}`}>
            <span class="pos">{r.position}</span> {r.name}
          </div>
          <div class="tl-track">
            {r.spans.map((s) => (
              <div class={`tl-bar ${s.kind}`} style={{ left: pct(s.start), width: width(s) }} title={s.label} />
            ))}
          </div>
          <div class="tl-notes">
            {r.spans
              .filter((s) => s.kind !== "retry-delay")
              .map((s) => (
                <div class={`tl-note ${s.kind}`}>
                  {s.label}
                  {s.error ? (
                    <span class="tl-error" data-testid="timeline-error">
                      {" "}
                      — {s.error.name}: {s.error.message}
                    </span>
                  ) : null}
                </div>
              ))}
          </div>
        </div>
      ))}
    </div>
  );
}
