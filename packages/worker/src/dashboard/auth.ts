import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { send } from "./http.js";

export const COOKIE = "reprise_dashboard";
/** The header every state-changing request of the page carries (see `checkCsrf`). */
export const CSRF_HEADER = "x-reprise-dashboard";

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

/** True when the request carries the token: `Authorization: Bearer <token>`, or the login cookie. */
export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization;
  if (header?.startsWith("Bearer ") && equal(header.slice(7).trim(), token)) return true;
  const cookie = cookieOf(req, COOKIE);
  return cookie !== undefined && equal(cookie, token);
}

/**
 * State-changing requests must come from the page itself: they carry a custom header (a
 * cross-site form cannot set one, and a cross-site fetch that sets one needs a CORS
 * preflight this server never grants), and an `Origin`, when the browser sends one, must be
 * this server's. With a SameSite=Strict cookie that closes cross-site request forgery.
 */
export function checkCsrf(req: IncomingMessage): string | undefined {
  if (req.headers[CSRF_HEADER] !== "1") return `state-changing requests need the ${CSRF_HEADER} header`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== "null") {
    try {
      if (new URL(origin).host !== req.headers.host) return "cross-origin requests are refused";
    } catch {
      return "a malformed Origin is refused";
    }
  } else if (origin === "null") {
    return "cross-origin requests are refused";
  }
  return undefined;
}

/** The login form: a token typed once becomes an HttpOnly cookie. */
export function sendLoginPage(res: ServerResponse, status: number, message = ""): void {
  const note = message ? `<p class="error">${message}</p>` : "";
  send(
    res,
    status,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reprise — sign in</title><link rel="stylesheet" href="/app.css"></head>
<body class="login"><form method="post" action="/login"><h1>Reprise</h1>${note}
<label>Dashboard token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
<button type="submit">Sign in</button></form></body></html>`,
    "text/html; charset=utf-8",
  );
}

/** `Set-Cookie` for a valid token. */
export function loginCookie(token: string, secure: boolean): string {
  return `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/${secure ? "; Secure" : ""}`;
}
