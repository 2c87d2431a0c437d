import { createRequire } from "node:module";
import type * as OpenTelemetryApi from "@opentelemetry/api";

/** The `@opentelemetry/api` module, as this process has it. */
export type OpenTelemetry = typeof OpenTelemetryApi;

let loaded: { api: OpenTelemetry | undefined } | undefined;

/**
 * `@opentelemetry/api` if the application installed it (an optional peer dependency), else
 * undefined — then Reprise records no trace context and emits no span, at no cost.
 *
 * Loaded on first use with a synchronous `require`, not an `import`: whether it is there
 * can only be known at run time, and a static import would make it mandatory, while an
 * `await import()` would put a turn of the event loop into `client.start` (or a top-level
 * await into this package, which `require(esm)` refuses). In Node, `import` and `require`
 * of the package load the same build, and its copies share one global registry, so spans
 * made through this one are the application's spans.
 */
export function openTelemetry(): OpenTelemetry | undefined {
  if (!loaded) {
    let api: OpenTelemetry | undefined;
    try {
      api = createRequire(import.meta.url)("@opentelemetry/api") as OpenTelemetry;
    } catch {
      api = undefined;
    }
    loaded = { api };
  }
  return loaded.api;
}
