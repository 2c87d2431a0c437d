export { createStore, migrate } from "./create-store.js";
export type {
  Store,
  StoreSession,
  StoreOptions,
  RunRecord,
  RunFilter,
  RunVersion,
  RunEnd,
  CancelArgs,
  DeadLetterRecord,
  DeadLetterFilter,
  LogRecord,
  LogFilter,
  RunProgress,
  BreakerRecord,
} from "./store.js";
export { migrateSchema, loadMigrations } from "./migrate.js";
export type { Migration, MigrateOptions } from "./migrate.js";
export type { Listener, ListenOptions } from "./listener.js";
export { pgConnection } from "./multi-host.js";
export type { PgConnection } from "./multi-host.js";
export { StoreError, StoreErrorCode, isConnectionError, isDataError, isRefusedValue, isUniqueViolation } from "./errors.js";
export { TERMINAL_STATUSES } from "./run-status.js";
export type { NewRun } from "./queries/start-runs.js";
export type { CallerTransaction, KyselyTransactionLike } from "./caller-transaction.js";
export type { StepTransaction, TransactionQueryResult } from "./step-transaction.js";
export type { StepLease, StepCompletion, TransactionalStepOutcome } from "./operations/transactional-step.js";
export type { ClaimedRun, ClaimArgs, SharedLimits } from "./queries/claim-runs.js";
export { CLAIM_SESSION } from "./queries/claim-runs.js";
export type { AppendArgs } from "./queries/append-event.js";
export type { CommitBatch, AppendEvent, RunMove, LogLine } from "./queries/commit-runs.js";
export type { RenewedLease } from "./queries/renew-leases.js";
export type { ProgressUpdate } from "./queries/save-progress.js";
export type { QueueDepth } from "./queries/queue-depths.js";
export type { StatsFilter, WorkflowStatsRecord } from "./queries/run-stats.js";
export type { EventRow, LoadedHistory } from "./queries/load-histories.js";
export type { InboxRow } from "./queries/read-signal.js";
export type { SignalResult } from "./operations/signal-run.js";
export type { CancelResult } from "./operations/cancel-run.js";
export type { RetryResult } from "./operations/retry-run.js";
export type { ForkResult } from "./operations/fork-run.js";
export type { ScheduleStore, SlotFilter } from "./schedules/schedule-store.js";
export type { ScheduleRow, StoredSchedule, StoredSlot, LateSlot, OverrunSlot } from "./schedules/schedule-row.js";
export type { ClaimedSchedule } from "./queries/claim-schedules.js";
export type { ScheduleAdvance, SlotRecord } from "./queries/advance-schedules.js";
export type { DeclaredOutcome } from "./queries/sync-declared-schedules.js";
export type { EventStore, EventTarget, StoredEvent, StoredEventRun, EventFilter } from "./events/event-store.js";
export type { EmitArgs, EventTargetRun } from "./queries/emit-event.js";
export type { FleetStore, WorkerPresence, WorkerRecord, VersionRecord } from "./fleet/fleet-store.js";
export type { DeclaredWorkflow, TriggerChange } from "./queries/declare-workflows.js";
export type { NewPayload } from "./queries/save-payloads.js";
export type { RunPayload } from "./queries/insert-payloads.js";
export type { AlertStore, AlertTransaction, AlertFilter } from "./alerts/alert-store.js";
export type {
  AlertRecord,
  NewAlert,
  InboxFact,
  DeliveryRecord,
  ClaimedDelivery,
  DeliveryOutcome,
  LateSlotRef,
  RuleRegistration,
  EvaluationLocks,
  AlertLogLine,
} from "./alerts/alert-records.js";
export type { SeriesBucket, SeriesFilter } from "./queries/run-series.js";
export type { Queryable } from "./queryable.js";
