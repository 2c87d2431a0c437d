import { toMillis, NonRetryableError, RetryableError, ValidationError, StepFailedError, CircuitOpenError } from "@reprise/sdk";
import { resolveRetryPolicy, retryDelayMs, decideRetry, toJsonText, serializeError, deserializeError } from "@reprise/sdk/engine";
import { describe, expect, test } from "vitest";

describe("durations", () => {
  test("parse numbers and unit strings", () => {
    expect(toMillis(250)).toBe(250);
    expect(toMillis("250ms")).toBe(250);
    expect(toMillis("30s")).toBe(30_000);
    expect(toMillis("5m")).toBe(300_000);
    expect(toMillis("2h")).toBe(7_200_000);
    expect(toMillis("1d")).toBe(86_400_000);
    expect(toMillis("1h30m")).toBe(5_400_000);
  });
  test("anything else is a TypeError naming the value", () => {
    for (const bad of ["", "5 minutes", "1x", "-5s", -1, Number.NaN, "1h 30m"]) {
      expect(() => toMillis(bad as never)).toThrow(TypeError);
    }
    expect(() => toMillis("5 minutes")).toThrow(/"5 minutes"/);
  });
});

describe("retry policies", () => {
  test("exponential backoff with a cap, linear, fixed, explicit delays", () => {
    const exp = resolveRetryPolicy({ initialDelay: "100ms", factor: 2, jitter: 0, maxDelay: "350ms" });
    expect([1, 2, 3, 4].map((n) => retryDelayMs(exp, n, new Error()))).toEqual([100, 200, 350, 350]);
    const linear = resolveRetryPolicy({ initialDelay: 100, backoff: "linear", jitter: 0 });
    expect([1, 2, 3].map((n) => retryDelayMs(linear, n, new Error()))).toEqual([100, 200, 300]);
    const fixed = resolveRetryPolicy({ initialDelay: 100, backoff: "fixed", jitter: 0 });
    expect([1, 2, 3].map((n) => retryDelayMs(fixed, n, new Error()))).toEqual([100, 100, 100]);
    const explicit = resolveRetryPolicy({ delays: ["1s", "5s"], jitter: 0 });
    expect(explicit.maxAttempts).toBe(3);
    expect([1, 2, 3].map((n) => retryDelayMs(explicit, n, new Error()))).toEqual([1000, 5000, 5000]);
  });
  test("jitter adds up to its fraction of the delay", () => {
    const p = resolveRetryPolicy({ initialDelay: 1000, jitter: 0.5 });
    expect(retryDelayMs(p, 1, new Error(), () => 0)).toBe(1000);
    expect(retryDelayMs(p, 1, new Error(), () => 0.999999)).toBeCloseTo(1500, 0);
  });
  test("RetryableError's retryAfter overrides the computed delay", () => {
    const p = resolveRetryPolicy({ initialDelay: 1000, jitter: 0 });
    expect(retryDelayMs(p, 1, new RetryableError("429", { retryAfter: "30s" }))).toBe(30_000);
  });
  test("an open circuit breaker's remaining cool-down overrides the computed delay", () => {
    const p = resolveRetryPolicy({ initialDelay: 1000, jitter: 0.5 });
    expect(retryDelayMs(p, 1, new CircuitOpenError("payments-api", 12_000))).toBe(12_000);
  });
  test("classification: non-retryable, validation, retryIf, then attempts left", () => {
    const p = resolveRetryPolicy({ maxAttempts: 3 });
    expect(decideRetry(p, new NonRetryableError("404"), 1)).toEqual({ retry: false, reason: "non-retryable" });
    expect(decideRetry(p, Object.assign(new Error("x"), { retryable: false }), 1)).toMatchObject({ retry: false });
    expect(decideRetry(p, new ValidationError("bad"), 1)).toEqual({ retry: false, reason: "validation" });
    expect(decideRetry(p, new Error("x"), 1, () => false)).toEqual({ retry: false, reason: "retryIf" });
    expect(decideRetry(p, new Error("x"), 1)).toMatchObject({ retry: true });
    expect(decideRetry(p, new Error("x"), 3)).toEqual({ retry: false, reason: "exhausted" });
  });
  test("out-of-range fields are ValidationErrors", () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(ValidationError);
    expect(() => resolveRetryPolicy({ jitter: 2 })).toThrow(ValidationError);
    expect(() => resolveRetryPolicy({ initialDelay: "soon" })).toThrow(TypeError);
  });
});

describe("JSON and errors", () => {
  test("toJsonText refuses what JSON would change, naming where", () => {
    expect(toJsonText({ a: [1, "x", null, { b: true }] }, "v")).toBe('{"a":[1,"x",null,{"b":true}]}');
    expect(toJsonText(new Date(0), "v")).toBe('"1970-01-01T00:00:00.000Z"');
    expect(() => toJsonText({ a: { b: [1, () => 1] } }, "thing")).toThrow(/thing is not JSON-serialisable: a function at value\.a\.b\[1\]/);
    expect(() => toJsonText({ n: Number.NaN }, "v")).toThrow(/NaN at value\.n/);
    expect(() => toJsonText({ big: 1n }, "v")).toThrow(/BigInt/);
    expect(() => toJsonText(new Set([1]), "v")).toThrow(/Set/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => toJsonText(circular, "v")).toThrow(/not JSON-serialisable/);
  });
  test("errors round-trip through their stored form with name, message, code and cause", () => {
    const original = new StepFailedError("ping", 3, new TypeError("fetch failed"));
    const back = deserializeError(serializeError(original));
    expect(back).toBeInstanceOf(StepFailedError);
    expect(back).toMatchObject({ name: "StepFailedError", code: "STEP_FAILED", stepName: "ping", attempts: 3 });
    expect((back as StepFailedError).cause).toMatchObject({ name: "TypeError", message: "fetch failed" });
  });
});

test("durations read as people read them, past hours too", async () => {
  const { formatMillis } = await import("@reprise/sdk/engine");
  expect(formatMillis(850)).toBe("850ms");
  expect(formatMillis(1_234)).toBe("1.23s");
  expect(formatMillis(119_600)).toBe("2m00s");
  expect(formatMillis(3 * 3_600_000 + 5 * 60_000)).toBe("3h05m");
  expect(formatMillis(7 * 86_400_000)).toBe("7d00h");
  expect(formatMillis(7871 * 3_600_000 + 19 * 60_000)).toBe("327d23h");
  expect(formatMillis(-90_000)).toBe("-1m30s");
});
