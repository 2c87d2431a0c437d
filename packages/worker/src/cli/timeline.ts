import { type HistoryEvent, type InFlightStep, type SerializedError } from "@reprise/sdk";
import { formatMillis } from "@reprise/sdk/engine";
import { style, table } from "./style.js";

/** One line of a run's timeline: a durable call (by position) or a run-level event. */
export interface TimelineRow {
  seq: number;
  position: number | null;
  call: string;
  name: string;
  status: string;
  attempts: number | null;
  durationMs: number | null;
  at: Date;
  detail: string;
  /** Failed attempts and other sub-lines. */
  notes: TimelineNote[];
  /** A line that must stand out (a divergence found by replay), shown under the row. */
  alert?: string;
}

/** A line under a row: a failed attempt (with where it threw), where the row's error was thrown, an event. */
export interface TimelineNote {
  text: string;
  /** Where this attempt's error was thrown, printed under it: `at chargeCard (src/pay.ts:12:9)`. */
  at?: string | undefined;
  /** The attempt that ended the step: the row's own error (until a retry reopens the step). */
  last?: boolean;
}

const RUN_LEVEL: Record<string, string> = {
  RunStarted: "started",
  RunRetried: "retried",
  RunForked: "forked",
  CancelRequested: "cancel requested",
  RunCompleted: "completed",
  RunFailed: "failed",
  RunCancelled: "cancelled",
  HookCompleted: "hook",
};

/** `Name: message`, then the causes that the message does not already quote. */
export function errorLine(error: SerializedError | undefined): string {
  if (!error) return "";
  let line = `${error.name}: ${error.message}`;
  let cause = error.cause;
  for (let depth = 0; cause && depth < 3; depth++, cause = cause.cause) {
    if (!line.includes(cause.message)) line += ` ← ${cause.name}: ${cause.message}`;
  }
  return line;
}

/**
 * Where an error was thrown: the first frame of its innermost cause's stack that is the
 * user's code (not Node's internals, not a dependency, not Reprise's own engine).
 */
export function errorOrigin(error: SerializedError | undefined): string | undefined {
  let innermost = error;
  for (let depth = 0; innermost?.cause && depth < 8; depth++) innermost = innermost.cause;
  const frames = innermost?.stack?.split("\n").filter((l) => /^\s+at .*:\d+:\d+\)?$/.test(l)) ?? [];
  const frame = frames.find((l) => !/node:internal|node_modules|\/packages\/(sdk|worker|store)\/(dist|src)\//.test(l))?.trim();
  // Paths under the current directory read better relative: `at charge (src/pay.ts:12:9)`.
  return frame && readableFrame(frame).replace(`file://${process.cwd()}/`, "").replace(`${process.cwd()}/`, "");
}

/**
 * `at chargeCard (src/pay.ts:12:9)`; only the place for a function V8 named by guessing:
 * an arrow passed to `ctx.step` is `<anonymous>`, or gets a name made of the call and of
 * the keys of the options that follow it (`ctx.step.retry.maxAttempts`), which reads as
 * if the options had thrown.
 */
function readableFrame(frame: string): string {
  const match = /^at (?:async )?(.+?) \((.+)\)$/.exec(frame);
  if (!match) return frame;
  const [, name, place] = match;
  return /<anonymous>$/.test(name!) || /^[a-z_$][\w$]*\.[\w$.]+$/.test(name!) ? `at ${place}` : frame;
}

function summary(value: unknown, max = 60): string {
  if (value === undefined) return "";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Groups a history into timeline rows, in the order things happened. */
export function buildTimeline(events: readonly HistoryEvent[]): TimelineRow[] {
  const rows: TimelineRow[] = [];
  const byPosition = new Map<number, TimelineRow>();
  for (const event of events) {
    const p = (event.payload ?? {}) as Record<string, any>;
    if (event.position === null || event.position === undefined) {
      if (event.kind === "MarkerRecorded" && event.name?.startsWith("patch:")) {
        rows.push(row(event, "patch", event.name.slice(6), "recorded", ""));
        continue;
      }
      const status = RUN_LEVEL[event.kind];
      if (!status) continue;
      let detail = "";
      if (event.kind === "RunStarted") detail = `${p.workflow ?? ""} ${summary(p.input)}`.trim();
      if (event.kind === "RunCompleted") detail = summary(p.output);
      if (event.kind === "RunFailed") detail = errorLine(p.error);
      if (event.kind === "RunFailed" && p.position === undefined) {
        rows.push(row(event, "run", "", status, detail));
        origin(rows[rows.length - 1]!, p.error);
        continue;
      }
      if (event.kind === "RunRetried") detail = p.position !== undefined ? `reopens position ${p.position}` : "";
      if (event.kind === "RunForked") detail = `from ${p.from} at position ${p.fromPosition}`;
      if (event.kind === "CancelRequested" || event.kind === "RunCancelled") detail = p.reason ?? "";
      if (event.kind === "HookCompleted") detail = `onFailure (${p.hook}) ${p.ok ? "ran" : `threw ${errorLine(p.error)}`}`;
      rows.push(row(event, "run", "", status, detail));
      continue;
    }
    let current = byPosition.get(event.position);
    if (!current) {
      current = row(event, "", event.name ?? "", "", "");
      current.position = event.position;
      // A step's row starts when its first attempt did, not when its first event was written.
      const startedAt = typeof p.startedAt === "string" ? new Date(p.startedAt) : undefined;
      if (startedAt && !Number.isNaN(startedAt.getTime())) current.at = startedAt;
      byPosition.set(event.position, current);
      rows.push(current);
    }
    apply(current, event, p);
  }
  return rows;
}

/**
 * Shows the step attempts in flight in the timeline: a running step has no event yet (or
 * only its failed attempts), so its row is added, or its `retrying` row says `running`.
 * An attempt the history already shows ended (the snapshot is up to a second old) is left out.
 */
export function markInFlight(rows: TimelineRow[], steps: readonly InFlightStep[], now: Date): void {
  for (const s of steps) {
    const row = rows.find((r) => r.position === s.position);
    if (row && (row.status !== "retrying" || (row.attempts ?? 0) >= s.attempt)) continue;
    const running: TimelineRow = row ?? {
      seq: Number.MAX_SAFE_INTEGER,
      position: s.position,
      call: "step",
      name: s.name,
      status: "",
      attempts: null,
      durationMs: null,
      at: s.startedAt,
      detail: "",
      notes: [],
    };
    running.status = "running";
    running.attempts = s.attempt;
    running.durationMs = Math.max(0, now.getTime() - s.startedAt.getTime());
    running.detail = `in flight on ${s.workerId}`;
    if (!row) rows.push(running);
  }
}

function origin(r: TimelineRow, error: SerializedError | undefined): void {
  const at = errorOrigin(error);
  if (at) r.notes.push({ text: at });
}

function row(event: HistoryEvent, call: string, name: string, status: string, detail: string): TimelineRow {
  return { seq: event.seq, position: null, call, name, status, attempts: null, durationMs: null, at: event.createdAt, detail, notes: [] };
}

function apply(r: TimelineRow, event: HistoryEvent, p: Record<string, any>): void {
  // The call failed for good, then a manual retry reopened it: keep that failure in sight.
  if (r.status === "failed") {
    const last = r.notes.find((n) => n.last);
    if (last) {
      last.text += "; reopened by a retry";
      last.last = false;
    } else r.notes.push({ text: `${r.attempts === null ? "" : `attempt ${r.attempts} `}failed: ${r.detail} · gave up; reopened by a retry` });
  }
  switch (event.kind) {
    case "StepCompleted":
      r.call = "step";
      r.status = "completed";
      r.attempts = p.attempt ?? 1;
      r.durationMs = p.durationMs ?? null;
      r.detail = summary(p.result);
      break;
    case "StepAttemptFailed":
      r.call = "step";
      r.status = "retrying";
      r.attempts = p.attempt ?? null;
      r.durationMs = p.durationMs ?? null;
      r.notes.push({
        text: `attempt ${p.attempt} failed${typeof p.durationMs === "number" ? ` after ${formatMillis(p.durationMs)}` : ""}: ${errorLine(p.error)} · retried in ${formatMillis(p.delayMs ?? 0)}`,
        at: errorOrigin(p.error),
      });
      break;
    case "StepFailed":
      r.call = "step";
      r.status = "failed";
      r.attempts = p.attempts ?? null;
      r.durationMs = p.durationMs ?? r.durationMs;
      r.detail = errorLine(p.error);
      // Each attempt is listed with where it threw, this one too: a frame under the row
      // alone would read as the earlier attempt's.
      r.notes.push({ text: `attempt ${r.attempts ?? "?"} failed: ${r.detail} · gave up`, at: errorOrigin(p.error), last: true });
      break;
    case "DeadLettered":
      r.status = "dead-lettered";
      r.detail = `${errorLine(p.error)} · item ${summary(p.item, 40)}`;
      break;
    case "TimerStarted":
      if (p.signal) {
        r.call = "signal";
        r.status = "waiting";
        r.detail = `timeout at ${p.wakeAt}`;
      } else {
        r.call = "sleep";
        r.name = "";
        r.status = "sleeping";
        r.detail = `until ${p.wakeAt}`;
      }
      break;
    case "TimerFired":
      r.status = r.call === "signal" ? "timed out" : "fired";
      r.durationMs = event.createdAt.getTime() - r.at.getTime();
      break;
    case "SignalWaitStarted":
      r.call = "signal";
      r.status = "waiting";
      r.detail = "no timeout";
      break;
    case "SignalConsumed":
      r.call = "signal";
      r.status = "received";
      r.durationMs = event.createdAt.getTime() - r.at.getTime();
      r.detail = summary(p.payload);
      break;
    case "ChildStarted":
      r.call = "child";
      r.status = "running";
      r.detail = p.childId ?? "";
      break;
    case "ChildCompleted":
      r.call = "child";
      r.status = "completed";
      r.durationMs = event.createdAt.getTime() - r.at.getTime();
      r.detail = `${p.childId} → ${summary(p.output, 40)}`;
      break;
    case "ChildFailed":
      r.call = "child";
      r.status = p.status === "cancelled" ? "cancelled" : "failed";
      r.durationMs = event.createdAt.getTime() - r.at.getTime();
      r.detail = `${p.childId}: ${errorLine(p.error)}`;
      break;
    case "MarkerRecorded":
      r.call = event.name ?? "marker";
      r.name = "";
      r.status = "recorded";
      r.detail = summary(p.value);
      break;
    default:
      r.notes.push({ text: event.kind });
  }
}

const STATUS_STYLE: Record<string, (text: string) => string> = {
  completed: style.green,
  received: style.green,
  fired: style.green,
  recorded: style.dim,
  started: style.blue,
  running: style.blue,
  failed: style.red,
  "timed out": style.red,
  cancelled: style.yellow,
  "dead-lettered": style.yellow,
  retrying: style.yellow,
};

/** Renders rows as an aligned table with error lines under their row. */
export function renderTimeline(rows: readonly TimelineRow[]): string {
  const start = rows[0]?.at.getTime() ?? 0;
  const cells = rows.map((r) => [
    r.position === null ? "" : String(r.position),
    r.call,
    r.name,
    (STATUS_STYLE[r.status] ?? ((t: string) => t))(r.status),
    r.attempts === null ? "" : String(r.attempts),
    r.durationMs === null ? "" : formatMillis(r.durationMs),
    `+${formatMillis(Math.max(0, r.at.getTime() - start))}`,
    r.status === "failed" ? style.red(r.detail) : r.detail,
  ]);
  const lines = table(cells, { header: ["#", "call", "name", "status", "att", "took", "at", "detail"] }).split("\n");
  const out: string[] = [lines[0]!];
  rows.forEach((r, i) => {
    out.push(lines[i + 1]!);
    // A step that failed at its only attempt: the row says the error, the note only where it was thrown.
    const alone = r.status === "failed" && r.notes.length === 1 && r.notes[0]!.last;
    for (const note of r.notes) {
      if (alone) {
        if (note.at) out.push(style.dim(`     ↳ ${note.at}`));
        continue;
      }
      out.push(style.dim(`     ↳ ${note.text}`));
      if (note.at) out.push(style.dim(`         ${note.at}`));
    }
    if (r.alert) out.push(style.red(style.bold(`     ✗ ${r.alert}`)));
  });
  return out.join("\n");
}
