import type { IncomingMessage, ServerResponse } from "node:http";
import { Client } from "@reprise/sdk";
import type { Store } from "@reprise/store";
import { apiRoutes, matchRoute, runRoute } from "./api.js";
import { asset } from "./assets.js";
import { authorized, checkCsrf, loginCookie, sendLoginPage } from "./auth.js";
import { send, sendError, sendJson, type DashboardRequest } from "./http.js";
import { LiveRuns } from "./live.js";

/** Options of {@link dashboard}. */
export interface DashboardOptions {
  /** The store to show (`createStore()`); the dashboard does not close it. */
  store: Store;
  /**
   * When given, every request must carry it: `Authorization: Bearer <token>`, or the
   * HttpOnly cookie that the login page (`/login`) sets.
   * @default none (only for a dashboard bound to loopback)
   */
  token?: string;
}

/** A Node request handler, plus `close()` to end its live streams. */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Ends the live streams (server-sent events) of open pages. */
  close(): void;
}

/**
 * The dashboard as a Node request handler, to mount in a server of your own (`reprise
 * dashboard` and `reprise dev` serve it on their own). The page is served at `/`, its JSON
 * API under `/api/`.
 *
 * ```ts
 * import { createServer } from "node:http";
 * const handler = dashboard({ store, token: process.env.REPRISE_DASHBOARD_TOKEN });
 * createServer(handler).listen(7777, "127.0.0.1");
 * ```
 */
export function dashboard(options: DashboardOptions): DashboardHandler {
  const { store, token } = options;
  const client = new Client({ store, migrate: false });
  const routes = apiRoutes(store, client);
  const live = new LiveRuns(store);

  const handle = async (raw: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(raw.url ?? "/", "http://dashboard.invalid");
    const req: DashboardRequest = { method: raw.method ?? "GET", path: url.pathname, query: url.searchParams, raw };
    if (req.path === "/login") return login(req, res, token);
    if (req.path === "/app.css") return serveAsset(res, "app.css"); // the login page needs it
    if (!authorized(raw, token)) {
      if (req.path.startsWith("/api/")) return sendJson(res, 401, { error: { message: "this dashboard needs its token (Authorization: Bearer <token>)" } });
      return sendLoginPage(res, 401);
    }
    if (req.path.startsWith("/api/")) {
      if (req.method !== "GET") {
        const refused = checkCsrf(raw);
        if (refused) return sendJson(res, 403, { error: { message: refused } });
      }
      const live_ = /^\/api\/runs\/([^/]+)\/live$/.exec(req.path);
      if (live_ && req.method === "GET") return live.watch(decodeURIComponent(live_[1]!), res, req.query.get("known") ?? undefined);
      const matched = matchRoute(routes, req.method, req.path);
      if (matched === "method") return sendJson(res, 405, { error: { message: `${req.method} is not allowed on ${req.path}` } });
      if (!matched) return sendJson(res, 404, { error: { message: `no such endpoint: ${req.path}` } });
      return runRoute(matched, req, res);
    }
    if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: { message: `${req.method} is not allowed` } });
    if (req.path === "/app.js") return serveAsset(res, "app.js");
    // Every other path is the page: it routes itself (/runs/<id>, /schedules, …).
    return serveAsset(res, "index.html");
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => sendError(res, error));
  }) as DashboardHandler;
  handler.close = () => live.close();
  return handler;
}

function serveAsset(res: ServerResponse, name: string): void {
  const found = asset(name);
  if (!found) return send(res, 503, "the dashboard's page is not built: run pnpm build", "text/plain; charset=utf-8");
  send(res, 200, found.body, found.type, name === "index.html" ? {} : { "cache-control": "public, max-age=300" });
}

async function login(req: DashboardRequest, res: ServerResponse, token: string | undefined): Promise<void> {
  if (token === undefined) return send(res, 303, "", "text/plain", { location: "/" });
  if (req.method === "GET") return sendLoginPage(res, 200);
  if (req.method !== "POST") return sendJson(res, 405, { error: { message: "use POST" } });
  const origin = req.raw.headers.origin;
  if (origin !== undefined && (origin === "null" || new URL(origin).host !== req.raw.headers.host)) return sendLoginPage(res, 403, "cross-origin sign-in is refused");
  let text = "";
  for await (const chunk of req.raw) {
    text += String(chunk);
    if (text.length > 10_000) return sendLoginPage(res, 413, "too long");
  }
  const given = new URLSearchParams(text).get("token") ?? "";
  const probe = { headers: { authorization: `Bearer ${given}` } } as IncomingMessage;
  if (!authorized(probe, token)) return sendLoginPage(res, 401, "That token is not right.");
  const secure = (req.raw.headers["x-forwarded-proto"] ?? "") === "https";
  send(res, 303, "", "text/plain", { location: "/", "set-cookie": loginCookie(given, secure) });
}
