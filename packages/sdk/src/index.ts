export { workflow, findWorkflow, parseWith } from "./workflow.js";
export type {
  AnyWorkflow,
  Workflow,
  WorkflowOptions,
  WorkflowFunction,
  WorkflowContext,
  StepContext,
  StepOptions,
  WaitForSignalOptions,
  ChildOptions,
  MapOptions,
  MapResult,
  DeadLetter,
  FailureHook,
  FailureInfo,
  Logger,
  Schema,
} from "./workflow.js";
export { Client, toRunInfo } from "./client.js";
export type { ClientOptions, StartOptions, RunInfo, RunStatus, ListRunsOptions } from "./client.js";
export type { ClientStore, StoredRun, StoredEvent, StoredDeadLetter } from "./client-store.js";
export { RunHandle } from "./run-handle.js";
export { toMillis, formatMillis } from "./duration.js";
export type { Duration } from "./duration.js";
export { resolveRetryPolicy, retryDelayMs, decideRetry } from "./retry.js";
export type { RetryPolicy, ResolvedRetryPolicy, RetryDecision } from "./retry.js";
export { queue, hasSharedLimit } from "./queue.js";
export type { QueueDefinition, QueueOptions } from "./queue.js";
export { circuitBreaker } from "./breaker.js";
export type { CircuitBreaker, CircuitBreakerOptions } from "./breaker.js";
export type { ScheduleSpec } from "./schedule-spec.js";
export { ScheduleClient, scheduleRow } from "./schedule/schedule-client.js";
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
export type {
  ScheduleStore,
  ScheduleRowInput,
  StoredScheduleRow,
  SlotRecordInput,
  StoredSlotRow,
  LateSlotRow,
} from "./schedule/schedule-store.js";
export { resolveScheduleSpec, checkScheduleId, checkTimezone, CATCHUP, OVERLAP } from "./schedule/resolve-spec.js";
export type { ResolvedScheduleSpec, Catchup, Overlap } from "./schedule/resolve-spec.js";
export { timetableOf } from "./schedule/timetable.js";
export type { Timetable } from "./schedule/timetable.js";
export { slotRun, slotRunId, scheduledInput } from "./schedule/slot-run.js";
export { parseScheduleTime, formatInZone } from "./schedule/zoned-time.js";
export { MAX_BACKFILL_SLOTS } from "./schedule/backfill.js";
export { EventKind, TERMINAL_KINDS } from "./events.js";
export { TERMINAL_STATUSES } from "./run-status.js";
export type {
  HistoryEvent,
  NewEvent,
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
export { toJsonText } from "./json.js";
export { callFailureHook } from "./hooks.js";
export { newId } from "./ids.js";
export { RepriseError, ErrorCode, NonRetryableError, RetryableError, ValidationError, SerializationError, StepFailedError, StepTimeoutError, WorkflowTimeoutError, WorkflowFailedError, CancelledError, SignalTimeoutError, ChildFailedError, NonDeterminismError, CircuitOpenError, RunNotFoundError, DeadLetterNotFoundError, InvalidRunStateError, UnknownWorkflowError, DatabaseError, ResultTimeoutError, ScheduleNotFoundError, ScheduleExistsError, ReplayDivergenceError, serializeError, deserializeError, toError } from "./errors.js";
export type { SerializedError, CallDescription } from "./errors.js";
export { replay } from "./replay/replay.js";
export type { ReplayReport, ReplayOptions, Divergence, RecordedOutcome } from "./replay/replay.js";
export { replayHistories } from "./replay/replay-histories.js";
export type { ReplayableHistory, ReplayHistoriesOptions, HistoryReplayResult, ReplayProblem } from "./replay/replay-histories.js";
export { exportHistory, parseHistory, HISTORY_FORMAT } from "./replay/exported-history.js";
export type { ExportedHistory, ExportedEvent, HistoryEventLike, ParsedHistory } from "./replay/exported-history.js";
export { Execution } from "./replay/execution.js";
export { HistoryIndex } from "./replay/history-index.js";
export type { Outcome, ExecutionOptions, RecordedFailure } from "./replay/execution.js";
export type { ExecutionHost, LogEntry, InboxSignal, ChildStart, ChildOutcome, BreakerPermit } from "./replay/host.js";
