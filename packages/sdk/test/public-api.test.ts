import * as sdk from "@reprise/sdk";
import * as engine from "@reprise/sdk/engine";
import { expect, test } from "vitest";

// What users import from @reprise/sdk is the contract of API.md; the engine's internals come
// from @reprise/sdk/engine. A new value export of the root entry must be added here on
// purpose, so that internals do not become public API by accident.
const PUBLIC_VALUES = [
  // API.md: workflow(), Client, replay(), durations, circuit breakers, errors
  "workflow",
  "defineWorkflow",
  "Client",
  "RunHandle",
  "replay",
  "toMillis",
  "circuitBreaker",
  "RepriseError",
  "ErrorCode",
  "NonRetryableError",
  "RetryableError",
  "ValidationError",
  "StepFailedError",
  "StepTimeoutError",
  "WorkflowTimeoutError",
  "WorkflowFailedError",
  "CancelledError",
  "SignalTimeoutError",
  "ChildFailedError",
  "NonDeterminismError",
  "CircuitOpenError",
  // what users also need: the errors Client methods throw, the replay gate and history
  // files of golden-history tests, queues with shared limits, the kinds of history events,
  // formatting a schedule's slot in its zone, and the error of client.alerts for an unknown id
  "SerializationError",
  "RunNotFoundError",
  "DeadLetterNotFoundError",
  "InvalidRunStateError",
  "UnknownWorkflowError",
  "DatabaseError",
  "ResultTimeoutError",
  "ScheduleNotFoundError",
  "ScheduleExistsError",
  "AlertNotFoundError",
  "ReplayDivergenceError",
  "replayHistories",
  "exportHistory",
  "parseHistory",
  "queue",
  "EventKind",
  "formatInZone",
];

test("the root entry exports the public API and nothing else", () => {
  expect(Object.keys(sdk).sort()).toEqual([...PUBLIC_VALUES].sort());
});

test("the engine's internals are not reachable from the root entry", () => {
  const internals = Object.keys(engine).filter((name) => name in sdk);
  expect(internals).toEqual([]);
  expect(Object.keys(engine)).toEqual(expect.arrayContaining(["Execution", "HistoryIndex", "serializeError", "newId", "toJsonText"]));
});
