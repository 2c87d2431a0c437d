import type { Context, Span, Tracer } from "@opentelemetry/api";
import { openTelemetry, parentContextOf, storedTraceContext, type OpenTelemetry, type StepAttemptEnd, type StepAttemptStart } from "@reprise/sdk/engine";
import type { ClaimedRun } from "@reprise/store";

/** How an execution of a run ended, for its span. */
export type ExecutionEnd =
  | { status: "completed" }
  | { status: "failed" | "aborted"; message: string }
  | { status: "cancelled" | "suspended" };

/** One execution's `reprise.run` span, and what its step spans hang from. */
export interface RunSpan {
  /** Runs `fn` with the run's span active (the workflow function's own spans nest under it). */
  within<T>(fn: () => T): T;
  /** A `reprise.step` span for one attempt, a child of the run's span. */
  step(attempt: StepAttemptStart): StepSpan;
  /** The run span's context as a child run stores it. */
  childTraceContext(): string;
  end(outcome: ExecutionEnd): void;
}

export interface StepSpan {
  within<T>(fn: () => T): T;
  end(result: StepAttemptEnd): void;
}

/**
 * Spans through `@opentelemetry/api`, the application's own copy (an optional peer
 * dependency): without it, or with tracing turned off, there is no tracing at all. The
 * tracer is a proxy of the global provider, so a provider registered after the worker was
 * made is still used. A run whose span does not record (no provider, or not sampled) gets
 * no step spans either, so a process without tracing pays one no-op span per execution.
 */
export class WorkerTracing {
  private constructor(
    private readonly api: OpenTelemetry,
    private readonly tracer: Tracer,
  ) {}

  static create(enabled: boolean): WorkerTracing | undefined {
    if (!enabled) return undefined;
    const api = openTelemetry();
    return api ? new WorkerTracing(api, api.trace.getTracer("@reprise/worker")) : undefined;
  }

  /**
   * The span of one execution of a claimed run: a child of the span that was active where
   * the run was started (its stored context), else the root of a trace of its own.
   */
  startRun(claimed: ClaimedRun): RunSpan | undefined {
    const { api, tracer } = this;
    const parent = parentContextOf(claimed.traceContext) ?? api.ROOT_CONTEXT;
    let span: Span;
    try {
      span = tracer.startSpan(
        "reprise.run",
        {
          kind: api.SpanKind.INTERNAL,
          attributes: { "reprise.run_id": claimed.id, "reprise.workflow": claimed.workflow, "reprise.queue": claimed.queue, "reprise.run_attempt": claimed.attempt },
        },
        parent,
      );
    } catch {
      return undefined;
    }
    if (!span.isRecording()) {
      span.end();
      return undefined;
    }
    const context: Context = api.trace.setSpan(parent, span);
    return {
      within: (fn) => api.context.with(context, fn),
      step: (attempt) => this.startStep(context, claimed, attempt),
      childTraceContext: () => storedTraceContext(span.spanContext()),
      end: (outcome) => {
        span.setAttribute("reprise.outcome", outcome.status);
        if (outcome.status === "failed" || outcome.status === "aborted") span.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome.message });
        else if (outcome.status === "completed") span.setStatus({ code: api.SpanStatusCode.OK });
        span.end();
      },
    };
  }

  private startStep(parent: Context, claimed: ClaimedRun, attempt: StepAttemptStart): StepSpan {
    const { api } = this;
    const span = this.tracer.startSpan(
      "reprise.step",
      {
        kind: api.SpanKind.INTERNAL,
        attributes: {
          "reprise.run_id": claimed.id,
          "reprise.workflow": claimed.workflow,
          "reprise.step": attempt.name,
          "reprise.attempt": attempt.attempt,
          "reprise.position": attempt.position,
        },
      },
      parent,
    );
    const context = api.trace.setSpan(parent, span);
    return {
      within: (fn) => api.context.with(context, fn),
      end: (result) => {
        span.setAttribute("reprise.outcome", result.outcome);
        if (result.outcome === "failed") {
          if (result.error) span.recordException(result.error);
          span.setAttribute("reprise.retrying", result.retrying ?? false);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: result.error?.message ?? "failed" });
        } else if (result.outcome === "succeeded") {
          span.setStatus({ code: api.SpanStatusCode.OK });
        }
        span.end();
      },
    };
  }
}
