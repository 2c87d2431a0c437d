import type { Context, SpanContext } from "@opentelemetry/api";
import { openTelemetry } from "./open-telemetry.js";

/** A span context as a run stores it (W3C Trace Context). */
export interface StoredTraceContext {
  traceparent: string;
  tracestate?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const INVALID_TRACE = "0".repeat(32);
const INVALID_SPAN = "0".repeat(16);

/** The W3C `traceparent` of a span context. */
export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** A span context as JSON text for the run's `trace_context` column. */
export function storedTraceContext(span: SpanContext): string {
  const stored: StoredTraceContext = { traceparent: formatTraceparent(span) };
  const state = span.traceState?.serialize();
  if (state) stored.tracestate = state;
  return JSON.stringify(stored);
}

/**
 * The span context active in the caller (`client.start` inside a request's span) as JSON
 * text, or undefined when there is none: no `@opentelemetry/api`, no context manager, or
 * no valid span.
 */
export function activeTraceContext(): string | undefined {
  const api = openTelemetry();
  if (!api) return undefined;
  const span = api.trace.getSpanContext(api.context.active());
  return span && api.isSpanContextValid(span) ? storedTraceContext(span) : undefined;
}

/**
 * The context to parent a run's spans on: the stored remote span context, else none (the
 * run's span then starts a trace of its own). A malformed value counts as none.
 */
export function parentContextOf(stored: { traceparent?: string; tracestate?: string } | null | undefined): Context | undefined {
  const api = openTelemetry();
  if (!api || !stored?.traceparent) return undefined;
  const match = TRACEPARENT.exec(stored.traceparent);
  if (!match || match[1] === "ff" || match[2] === INVALID_TRACE || match[3] === INVALID_SPAN) return undefined;
  const span: SpanContext = { traceId: match[2]!, spanId: match[3]!, traceFlags: parseInt(match[4]!, 16), isRemote: true };
  if (stored.tracestate && typeof api.createTraceState === "function") span.traceState = api.createTraceState(stored.tracestate);
  return api.trace.setSpanContext(api.ROOT_CONTEXT, span);
}
