import { workflow } from "@reprise/sdk";
import { consoleChannel, email, webhook, Worker, WorkerConfigError, type AlertRule, type AlertsOptions } from "@reprise/worker";
import { expect, test } from "vitest";

const wf = workflow({ name: "config-check" }, async () => "ok");
const channels = { team: consoleChannel({ write: () => undefined }) };

function build(alerts: Partial<AlertsOptions>): Worker {
  return new Worker({ connectionString: "postgres://127.0.0.1:1/none", workflows: [wf], alerts: { channels, rules: [], ...alerts } as AlertsOptions });
}
const rule = (r: Partial<AlertRule>) => build({ rules: [{ on: "run.failed", severity: "high", notify: ["team"], ...r } as AlertRule] });

test("alert rules are checked when the worker is built, with a WorkerConfigError that names the mistake", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => rule({ notify: ["pager"] }), /alert rule "run\.failed-0": notify: unknown channel "pager" \(known: team\)/],
    [() => rule({ escalateAfter: "15m", escalateTo: ["oncall"] }), /escalateTo: unknown channel "oncall"/],
    [() => rule({ dedupWindow: "30 minutes" }), /alert rule "run\.failed-0": dedupWindow: invalid duration "30 minutes"/],
    [() => rule({ on: "run.crashed" as never }), /alerts\.rules\[0\]: unknown on "run\.crashed" \(one of run\.failed, step\.failed, step\.retrying, run\.late, breaker\.opened\)/],
    [() => rule({ severity: "urgent" as never }), /severity must be one of info, warning, high, critical, got "urgent"/],
    [() => rule({ dedupwindow: "1m" } as never), /alert rule "run\.failed-0": unknown option "dedupwindow"/],
    [() => rule({ on: "run.late" }), /on: "run\.late" needs lateBy/],
    [() => rule({ lateBy: "1h" }), /lateBy applies to on: "run\.late" only, not "run\.failed"/],
    [() => rule({ on: "step.failed", consecutiveFailures: 3 }), /consecutiveFailures applies to on: "run\.failed" only/],
    [() => rule({ consecutiveFailures: 0 }), /consecutiveFailures must be an integer from 1 to 1000, got 0/],
    [() => rule({ on: "step.retrying", minAttempt: 1.5 }), /minAttempt must be an integer >= 1/],
    [() => rule({ escalateTo: ["team"] }), /escalateTo needs escalateAfter/],
    [() => rule({ dedupBy: ["workflow", "queue" as never] }), /dedupBy must list some of workflow, step, error, run/],
    [() => build({ rules: [{ id: "x", on: "run.failed", severity: "info", notify: [] }, { id: "x", on: "step.failed", severity: "info", notify: [] }] }), /two rules have the id "x"/],
    [() => build({ channels: { team: "https://hooks.example.com" as never } }), /alerts\.channels\.team must be a channel/],
    [() => build({ dashboardUrl: "localhost:7777" }), /alerts\.dashboardUrl must be an http\(s\) URL, got "localhost:7777"/],
    [() => build({ deliveryRetry: { maxAttempts: 0 } }), /alerts\.deliveryRetry: retry\.maxAttempts must be an integer >= 1/],
    [() => webhook(undefined), /webhook\(\) needs an http\(s\) URL, got undefined/],
    [() => webhook("ftp://example.com/x"), /webhook\(\) needs an http\(s\) URL/],
    [() => email({ to: "nobody", from: "a@b.c", smtp: "smtp://localhost" }), /email\(\): to must be one or more addresses/],
    [() => email({ to: "a@b.c", from: "a@b.c", smtp: "localhost:25" }), /email\(\): smtp must be an smtp:\/\/ or smtps:\/\/ URL/],
  ];
  for (const [make, message] of cases) {
    let thrown: unknown;
    try {
      make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown, String(message)).toBeInstanceOf(WorkerConfigError);
    expect((thrown as Error).message).toMatch(message);
  }
  // Valid rules build.
  expect(rule({ id: "page", consecutiveFailures: 3, escalateAfter: "15m", escalateTo: ["team"], autoResolve: true, dedupBy: ["workflow", "run"] })).toBeInstanceOf(Worker);
});
