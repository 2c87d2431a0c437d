// The dashboard's JSON API as the page sees it (dates arrive as ISO strings).

export type Status = "queued" | "running" | "sleeping" | "waiting" | "completed" | "failed" | "cancelled";
export const STATUSES: Status[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];
export const TERMINAL: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

export interface StoredError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: StoredError;
}

export interface Run {
  id: string;
  workflowName: string;
  status: Status;
  input?: unknown;
  output?: unknown;
  error?: StoredError;
  attempt: number;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  parentId?: string;
  forkedFrom?: string;
  queue: string;
  fingerprint?: string;
  /** Step attempts running now (written by the worker about once a second). */
  stepsInFlight?: { name: string; position: number; attempt: number; startedAt: string; workerId: string }[];
}

export interface RunEvent {
  seq: number;
  kind: string;
  position: number | null;
  name: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface LogLine {
  at: string;
  level: string;
  message: string;
  fields: unknown;
  position: number | null;
  step: string | null;
  attempt: number | null;
}

export interface DeadLetter {
  id: string;
  runId: string;
  workflowName: string;
  map: string;
  index: number;
  item: unknown;
  error: StoredError;
  createdAt: string;
  retriedBy?: string;
}

export interface RunDetail {
  run: Run;
  events: RunEvent[];
  children: Run[];
  logs: LogLine[];
  deadLetters: DeadLetter[];
}

export interface Schedule {
  id: string;
  workflowName: string;
  cron?: string;
  every?: number;
  timezone: string;
  paused: boolean;
  source: string;
  nextFireAt: string | null;
  upcoming: string[];
  lastRun?: { id: string; status: string };
}

export interface Breaker {
  name: string;
  state: string;
  failures: number;
  openedAt: string | null;
  updatedAt: string;
}

/** An error the API answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok) throw new ApiError(res.status, body.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

export function get<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const qs = query.toString();
  return fetch(`/api${path}${qs ? `?${qs}` : ""}`, { credentials: "same-origin" }).then((r) => answer<T>(r));
}

/** A state-changing call: JSON, with the header the server requires of the page (CSRF). */
export function post<T>(path: string, body: unknown = {}): Promise<T> {
  return fetch(`/api${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-reprise-dashboard": "1" },
    body: JSON.stringify(body),
  }).then((r) => answer<T>(r));
}

/** Reads an NDJSON stream line by line (a backfill's progress). */
export async function postStream(path: string, body: unknown, onLine: (line: Record<string, unknown>) => void): Promise<void> {
  const res = await fetch(`/api${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-reprise-dashboard": "1" },
    body: JSON.stringify(body),
  });
  if (!res.ok || !res.body) return void (await answer(res));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(JSON.parse(line) as Record<string, unknown>);
    }
  }
}

export interface Alert {
  id: string;
  rule: string;
  severity: "info" | "warning" | "high" | "critical";
  status: "open" | "acknowledged" | "resolved";
  workflowName: string;
  stepName?: string;
  runId: string;
  errorName: string;
  message: string;
  attempt: number;
  lastLogLines: string[];
  runbookUrl?: string;
  firstSeenAt: string;
  lastSeenAt: string;
  count: number;
  escalatedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  deliveries: { channel: string; notification: string; status: string; attempts: number; lastError?: string }[];
}

export interface WorkflowStats {
  workflowName: string;
  runs: number;
  completed: number;
  failed: number;
  cancelled: number;
  successRate: number | null;
  stepRetries: number;
  meanTimeToRecoveryMs: number | null;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}

export interface SeriesBucket {
  at: string;
  completed: number;
  failed: number;
  cancelled: number;
  retries: number;
  meanTimeToRecoveryMs: number | null;
}
