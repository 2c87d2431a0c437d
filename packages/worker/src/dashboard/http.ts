import type { IncomingMessage, ServerResponse } from "node:http";
import { RepriseError } from "@reprise/sdk";

/** A request the dashboard answers, with its path split off the query. */
export interface DashboardRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  raw: IncomingMessage;
}

const MAX_BODY_BYTES = 1 << 20;

/** The request body parsed as JSON (`{}` when empty). A body past 1 MiB or not JSON is a 400. */
export async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "the request body is over 1 MiB");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch {
    throw new HttpError(400, "the request body must be a JSON object");
  }
}

/** An error with the HTTP status it answers with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  // The page loads only its own script and style; nothing a run recorded can add a source.
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on its own form posts.
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

export function send(res: ServerResponse, status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": contentType, "cache-control": "no-store", ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), "application/json; charset=utf-8");
}

/** Answers with the error: Reprise's own by their kind (400, 404, 409), anything else 500. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (error instanceof HttpError) return sendJson(res, error.status, { error: { message: error.message } });
  if (error instanceof RepriseError) {
    return sendJson(res, statusOf(error.code), { error: { name: error.name, code: error.code, message: error.message } });
  }
  sendJson(res, 500, { error: { message: (error as Error)?.message ?? String(error) } });
}

function statusOf(code: string): number {
  switch (code) {
    case "VALIDATION":
    case "NOT_SERIALIZABLE":
    case "SCHEDULE_EXISTS":
      return 400;
    case "RUN_NOT_FOUND":
    case "DEAD_LETTER_NOT_FOUND":
    case "SCHEDULE_NOT_FOUND":
    case "ALERT_NOT_FOUND":
      return 404;
    case "INVALID_RUN_STATE":
      return 409;
    case "DATABASE":
      return 503;
    default:
      return 500;
  }
}
