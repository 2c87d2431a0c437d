// The public API of @reprise/sdk: what ../shared/API.md names, plus the types users need to
// write against it. What the worker needs of the engine comes from ./engine.ts
// (`@reprise/sdk/engine`), which is not public API.
export { workflow, defineWorkflow } from "./workflow.js";
export type {
  AnyWorkflow,
  AnyWorkflowRef,
  Workflow,
  WorkflowRef,
  WorkflowDefinition,
  WorkflowContract,
  ImplementationOptions,
  Versioning,
  WorkflowOptions,
  WorkflowFunction,
  WorkflowContext,
  StepContext,
  StepOptions,
  TransactionContext,
  TransactionOptions,
  WaitForSignalOptions,
  ChildOptions,
  MapOptions,
  MapResult,
  DeadLetter,
  FailureHook,
  FailureInfo,
  Logger,
} from "./workflow-types.js";
export type { TransactionQueryResult } from "./transaction-context.js";
export type { Schema } from "./schema.js";
export { Client } from "./client.js";
export type { ClientOptions } from "./client.js";
export type { EventClient, EmitOptions, EmitResult, InvalidEventTarget, EmittedEvent, EventRunInfo } from "./event/event-client.js";
export type { PayloadOptions } from "./payload.js";
export type { VersionInfo } from "./version-info.js";
export type { StartOptions, StartTransaction, StartManyItem, RunInfo, RunStatus, ListRunsOptions, InFlightStep } from "./run-info.js";
export type { RunLogLine, LogsOptions } from "./run-logs.js";
export type { StatsOptions, WorkflowStats } from "./stats.js";
export { RunHandle } from "./run-handle.js";
export { toMillis } from "./duration.js";
export type { Duration } from "./duration.js";
export type { RetryPolicy } from "./retry.js";
export { queue } from "./queue.js";
export type { QueueDefinition, QueueOptions } from "./queue.js";
export { circuitBreaker } from "./breaker.js";
export type { CircuitBreaker, CircuitBreakerOptions } from "./breaker.js";
export type { ScheduleSpec } from "./schedule-spec.js";
export type { ScheduleClient } from "./schedule/schedule-client.js";
export type {
  CreateScheduleOptions,
  SchedulePatch,
  ScheduleInfo,
  ScheduleSlot,
  LateSlot,
  BackfillOptions,
  BackfillProgress,
  BackfillResult,
} from "./schedule/schedule-info.js";
export type { Catchup, Overlap } from "./schedule/resolve-spec.js";
export { formatInZone } from "./schedule/zoned-time.js";
export type { AlertClient } from "./alerts/alert-client.js";
export type {
  Alert,
  AlertInfo,
  AlertDeliveryInfo,
  AlertSeverity,
  AlertStatus,
  AlertEvent,
  AlertNotification,
  ListAlertsOptions,
} from "./alerts/alert-info.js";
export { EventKind } from "./events.js";
export type {
  HistoryEvent,
  RunStartedPayload,
  StepCompletedPayload,
  StepAttemptFailedPayload,
  StepFailedPayload,
  TimerStartedPayload,
  SignalConsumedPayload,
  ChildStartedPayload,
  ChildCompletedPayload,
  ChildFailedPayload,
  MarkerPayload,
  DeadLetteredPayload,
  RunRetriedPayload,
  RunForkedPayload,
  CancelRequestedPayload,
  RunCompletedPayload,
  RunFailedPayload,
  RunCancelledPayload,
  HookCompletedPayload,
} from "./events.js";
export {
  RepriseError,
  ErrorCode,
  ValidationError,
  SerializationError,
  StepFailedError,
  StepTimeoutError,
  WorkflowTimeoutError,
  WorkflowFailedError,
  CancelledError,
  SignalTimeoutError,
  ChildFailedError,
  NonDeterminismError,
  CircuitOpenError,
  RunNotFoundError,
  DeadLetterNotFoundError,
  InvalidRunStateError,
  UnknownWorkflowError,
  DatabaseError,
  ResultTimeoutError,
  ScheduleNotFoundError,
  ScheduleExistsError,
  AlertNotFoundError,
} from "./errors.js";
export { NonRetryableError, RetryableError } from "./errors.js";
export type { SerializedError } from "./error-codec.js";
export type { CallDescription } from "./divergence.js";
export { replay } from "./replay/replay.js";
export type { ReplayReport, ReplayOptions, Divergence, RecordedOutcome } from "./replay/replay.js";
export type { RecordedFailure } from "./replay/outcome.js";
export type { LogEntry } from "./replay/host.js";
export { replayHistories, ReplayDivergenceError } from "./replay/replay-histories.js";
export type { ReplayableHistory, ReplayHistoriesOptions, HistoryReplayResult, ReplayProblem } from "./replay/replay-histories.js";
export { exportHistory, parseHistory } from "./replay/exported-history.js";
export type { ExportedHistory, ExportedEvent, HistoryEventLike, ParsedHistory } from "./replay/exported-history.js";
