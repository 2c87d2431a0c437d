import type { ServerResponse } from "node:http";
import { ValidationError, type AlertStatus, type Client, type RunStatus } from "@reprise/sdk";
import { formatInZone, toMillis } from "@reprise/sdk";
import { timetableOf, toRunInfo } from "@reprise/sdk/engine";
import type { Store } from "@reprise/store";
import { HttpError, jsonBody, sendJson, type DashboardRequest } from "./http.js";

/** One endpoint of the JSON API: a method, a path pattern (`:name` segments) and its handler. */
interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  keys: string[];
  handle: (ctx: RouteContext) => Promise<unknown>;
  /** The handler writes the response itself (a stream). */
  streams?: boolean;
}

interface RouteContext {
  req: DashboardRequest;
  res: ServerResponse;
  params: Record<string, string>;
  body: () => Promise<Record<string, unknown>>;
}

const STATUSES: readonly RunStatus[] = ["queued", "running", "sleeping", "waiting", "completed", "failed", "cancelled"];
const PAGE = 50;
const ALERT_STATUSES: readonly AlertStatus[] = ["open", "acknowledged", "resolved"];

function route(method: Route["method"], path: string, handle: Route["handle"], streams = false): Route {
  const keys: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/:([a-z]+)/g, (_m, key: string) => {
      keys.push(key);
      return "([^/]+)";
    })}$`,
  );
  return { method, pattern, keys, handle, streams };
}

function stringParam(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === "" ? undefined : value;
}

function dateParam(query: URLSearchParams, name: string): Date | undefined {
  const value = stringParam(query, name);
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new ValidationError(`${name} must be a date or time, got ${JSON.stringify(value)}`);
  return at;
}

function field(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ValidationError(`${name} must be a string`);
  return value;
}

const BUCKETS_MS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 86_400_000];

/** A bucket size that cuts the window into at most about 60 bars. */
function bucketFor(windowMs: number): number {
  return BUCKETS_MS.find((b) => windowMs / b <= 60) ?? 86_400_000;
}

/** The next fire times of a schedule, in its zone, for the schedules page. */
function upcoming(schedule: { cron?: string; every?: number; timezone: string; nextFireAt: Date | null }, count: number): string[] {
  if (!schedule.nextFireAt) return [];
  const timetable = timetableOf({ cron: schedule.cron ?? null, everyMs: schedule.every ?? null, timezone: schedule.timezone });
  const times: string[] = [];
  let at: Date | null = schedule.nextFireAt;
  for (let i = 0; i < count && at; i++) {
    times.push(formatInZone(at, schedule.timezone));
    at = timetable.next(at);
  }
  return times;
}

/**
 * The JSON API the dashboard page uses, served under `/api/`. Reads go to the store; every
 * action goes through the `Client`, so it validates and fails exactly as the client does.
 */
export function apiRoutes(store: Store, client: Client): Route[] {
  return [
    route("GET", "/api/runs", async ({ req }) => {
      const q = req.query;
      const id = stringParam(q, "id");
      if (id !== undefined) {
        const run = await store.getRun(id);
        return { runs: run ? [toRunInfo(run)] : [] };
      }
      const status = stringParam(q, "status");
      if (status !== undefined && !STATUSES.includes(status as RunStatus)) throw new ValidationError(`unknown status ${JSON.stringify(status)}`);
      const limit = Math.min(Math.max(Number(stringParam(q, "limit") ?? PAGE) || PAGE, 1), 500);
      const runs = await client.listRuns({
        ...(status ? { status: status as RunStatus } : {}),
        ...(stringParam(q, "workflow") ? { workflow: stringParam(q, "workflow")! } : {}),
        ...(dateParam(q, "from") ? { from: dateParam(q, "from")! } : {}),
        ...(dateParam(q, "to") ? { to: dateParam(q, "to")! } : {}),
        ...(stringParam(q, "after") ? { after: stringParam(q, "after")! } : {}),
        limit: limit + 1,
      });
      const page = runs.slice(0, limit);
      return { runs: page, ...(runs.length > limit ? { next: page[page.length - 1]!.id } : {}) };
    }),
    route("GET", "/api/workflows", async () => ({ workflows: await store.workflowNames() })),
    route("GET", "/api/runs/:id", async ({ params }) => {
      const run = await client.status(params.id!);
      const [events, children, logs, deadLetters] = await Promise.all([
        client.history(run.id),
        store.listRuns({ parentId: run.id, limit: 500 }),
        store.logs(run.id, 500),
        client.deadLetters({ runId: run.id }),
      ]);
      return { run, events, children: children.map(toRunInfo), logs, deadLetters };
    }),
    route("POST", "/api/runs/:id/retry", async ({ params }) => ({ id: (await client.retry(params.id!)).id })),
    route("POST", "/api/runs/:id/cancel", async ({ params, body }) => {
      await client.cancel(params.id!, field(await body(), "reason"));
      return { id: params.id };
    }),
    route("POST", "/api/runs/:id/fork", async ({ params, body }) => {
      const fromStep = (await body()).fromStep;
      if (typeof fromStep !== "string" && typeof fromStep !== "number") throw new ValidationError("fork needs fromStep: a position or a step name");
      return { id: (await client.fork(params.id!, { fromStep })).id };
    }),
    route("POST", "/api/runs/:id/signal", async ({ params, body }) => {
      const b = await body();
      const name = field(b, "name");
      if (!name) throw new ValidationError("a signal needs a name");
      await client.signal(params.id!, name, b.payload);
      return { id: params.id };
    }),
    route("GET", "/api/schedules", async () => {
      const schedules = await client.schedules.list();
      return { schedules: schedules.map((s) => ({ ...s, upcoming: upcoming(s, 3) })) };
    }),
    route("GET", "/api/schedules/:id", async ({ params }) => {
      const [schedule, slots] = await Promise.all([client.schedules.get(params.id!), client.schedules.slots(params.id!, { limit: 50 })]);
      return { schedule: { ...schedule, upcoming: upcoming(schedule, 5) }, slots };
    }),
    route("POST", "/api/schedules/:id/pause", async ({ params }) => {
      await client.schedules.pause(params.id!);
      return { id: params.id };
    }),
    route("POST", "/api/schedules/:id/resume", async ({ params }) => {
      await client.schedules.resume(params.id!);
      return { id: params.id };
    }),
    route("POST", "/api/schedules/:id/trigger", async ({ params }) => ({ id: (await client.schedules.trigger(params.id!)).id })),
    // Progress as it goes: one JSON object a line (NDJSON), the result last.
    route(
      "POST",
      "/api/schedules/:id/backfill",
      async ({ params, body, res }) => {
        const b = await body();
        const from = field(b, "from");
        const to = field(b, "to");
        if (!from || !to) throw new ValidationError("a backfill needs from and to");
        const id = params.id!;
        await client.schedules.get(id); // a 404 before the stream starts
        res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" });
        try {
          const result = await client.schedules.backfill(id, { from, to, onProgress: (p) => res.write(`${JSON.stringify({ progress: p })}\n`) });
          res.write(`${JSON.stringify({ result })}\n`);
        } catch (error) {
          res.write(`${JSON.stringify({ error: { name: (error as Error).name, message: (error as Error).message } })}\n`);
        }
        res.end();
      },
      true,
    ),
    route("GET", "/api/breakers", async () => ({ breakers: await store.breakers() })),
    route("GET", "/api/dead-letters", async ({ req }) => {
      const runId = stringParam(req.query, "run");
      const workflow = stringParam(req.query, "workflow");
      return { deadLetters: await client.deadLetters({ ...(runId ? { runId } : {}), ...(workflow ? { workflow } : {}) }) };
    }),
    route("POST", "/api/dead-letters/:id/redrive", async ({ params }) => ({ id: (await client.retryDeadLetter(params.id!)).id })),
    route("GET", "/api/stats", async ({ req }) => {
      const since = stringParam(req.query, "since") ?? "24h";
      const workflow = stringParam(req.query, "workflow");
      let windowMs: number;
      try {
        windowMs = toMillis(since);
      } catch {
        throw new ValidationError(`since must be a duration such as 24h or 7d, got ${JSON.stringify(since)}`);
      }
      if (windowMs <= 0 || windowMs > 366 * 86_400_000) throw new ValidationError("since must be more than 0 and at most a year");
      const bucketMs = bucketFor(windowMs);
      const [stats, series] = await Promise.all([
        client.stats({ since, ...(workflow ? { workflow } : {}) }),
        store.runSeries({ since: new Date(Date.now() - windowMs), bucketMs, workflow }),
      ]);
      return { stats, series, bucketMs };
    }),
    route("GET", "/api/alerts", async ({ req }) => {
      const status = stringParam(req.query, "status");
      if (status !== undefined && !ALERT_STATUSES.includes(status as AlertStatus)) throw new ValidationError(`unknown alert status ${JSON.stringify(status)}`);
      return { alerts: await client.alerts.list({ ...(status ? { status: status as AlertStatus } : {}), limit: 200 }) };
    }),
    route("POST", "/api/alerts/:id/ack", async ({ params, body }) => {
      const by = field(await body(), "by");
      return { alert: await client.alerts.ack(params.id!, by ? { by } : {}) };
    }),
    route("POST", "/api/alerts/:id/resolve", async ({ params }) => ({ alert: await client.alerts.resolve(params.id!) })),
  ];
}

/** Finds the route for a request: `undefined` for no such path, `"method"` for the wrong method. */
export function matchRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: Record<string, string> } | "method" | undefined {
  let wrongMethod = false;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    if (r.method !== method) {
      wrongMethod = true;
      continue;
    }
    const params: Record<string, string> = {};
    r.keys.forEach((key, i) => (params[key] = decodeURIComponent(m[i + 1]!)));
    return { route: r, params };
  }
  return wrongMethod ? "method" : undefined;
}

/** Runs a matched route and answers with its JSON (errors are the caller's). */
export async function runRoute(matched: { route: Route; params: Record<string, string> }, req: DashboardRequest, res: ServerResponse): Promise<void> {
  let body: Promise<Record<string, unknown>> | undefined;
  const result = await matched.route.handle({ req, res, params: matched.params, body: () => (body ??= jsonBody(req.raw)) });
  if (!matched.route.streams) sendJson(res, 200, result);
}

export { HttpError };
