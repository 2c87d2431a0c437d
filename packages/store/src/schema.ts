import type { ColumnType, Generated } from "kysely";

/** Kysely's view of the tables (see migrations/ for what each column means). */
export interface Database {
  runs: RunsTable;
  events: EventsTable;
  signals: SignalsTable;
  heartbeats: HeartbeatsTable;
  logs: LogsTable;
  dead_letters: DeadLettersTable;
  schedules: SchedulesTable;
  schedule_slots: ScheduleSlotsTable;
  workflows: WorkflowsTable;
  triggers: TriggersTable;
  emitted_events: EmittedEventsTable;
  event_runs: EventRunsTable;
  workers: WorkersTable;
  versions: VersionsTable;
  payloads: PayloadsTable;
  alerts: AlertsTable;
  alert_deliveries: AlertDeliveriesTable;
}

type Json = ColumnType<unknown, string | null, string | null>;
/** A JSON column that inserts may leave out. */
type OptionalJson = ColumnType<unknown, string | null | undefined, string | null>;

export interface RunsTable {
  id: string;
  workflow: string;
  queue: string;
  status: string;
  input: Json;
  output: Json;
  error: Json;
  priority: number;
  available_at: Date | null;
  lease_owner: string | null;
  lease_epoch: number;
  wakeups: number;
  cancel_requested: Json;
  attempt: number;
  parent_id: string | null;
  timeout_ms: number | null;
  deadline_at: Date | null;
  fingerprint: string | null;
  forked_from: string | null;
  /** Set when a worker first claims the run (migration 0003). */
  started_at: Generated<Date | null>;
  /** The version of the worker that first ran it, and whether it is pinned to it (migration 0009). */
  version: Generated<string | null>;
  pinned: Generated<boolean>;
  /** `{ traceparent, tracestate? }` of the span active where the run was started (migration 0006). */
  trace_context: OptionalJson;
  /** The steps in flight, as the worker holding the run last wrote them (migration 0006). */
  progress: OptionalJson;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface EventsTable {
  run_id: string;
  seq: number;
  kind: string;
  position: number | null;
  name: string | null;
  payload: Json;
  created_at: Generated<Date>;
}

export interface SignalsTable {
  id: Generated<string>;
  run_id: string;
  name: string;
  payload: Json;
  created_at: Generated<Date>;
}

export interface HeartbeatsTable {
  run_id: string;
  position: number;
  details: Json;
  updated_at: Generated<Date>;
}

export interface LogsTable {
  run_id: string;
  id: Generated<string>;
  at: Date;
  level: string;
  message: string;
  fields: Json;
  position: number | null;
  step: string | null;
  attempt: number | null;
}

export interface DeadLettersTable {
  id: Generated<string>;
  run_id: string;
  workflow: string;
  map: string;
  item_index: number;
  position: number;
  item: Json;
  error: Json;
  created_at: Generated<Date>;
  retried_by: string | null;
}

export interface SchedulesTable {
  id: string;
  workflow: string;
  queue: string | null;
  cron: string | null;
  every_ms: number | null;
  timezone: string;
  catchup: string;
  catchup_window_ms: number;
  overlap: string;
  input: Json;
  source: string;
  paused: Generated<boolean>;
  version: Generated<number>;
  next_fire_at: Date | null;
  last_slot_at: Date | null;
  last_run_id: string | null;
  buffered_at: Date | null;
  locked_by: string | null;
  locked_until: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface ScheduleSlotsTable {
  schedule_id: string;
  slot_at: Date;
  run_id: string | null;
  outcome: string;
  reason: string | null;
  recorded_at: Generated<Date>;
}

export interface WorkflowsTable {
  name: string;
  queue: string;
  priority: number;
  timeout_ms: number | null;
  fingerprint: string | null;
  versioning: string;
  has_input_schema: boolean;
  version: string | null;
  declared_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface TriggersTable {
  event: string;
  workflow: string;
}

export interface EmittedEventsTable {
  id: string;
  name: string;
  payload: Json;
  payload_bytes: number;
  source: string;
  emitted_at: Generated<Date>;
}

export interface EventRunsTable {
  event_id: string;
  workflow: string;
  run_id: string | null;
  error: Json;
  created_at: Generated<Date>;
}

export interface WorkersTable {
  id: string;
  version: string | null;
  workflows: string[];
  queues: string[];
  started_at: Generated<Date>;
  seen_at: Generated<Date>;
  expires_at: Date;
}

export interface VersionsTable {
  version: string;
  first_seen_at: Generated<Date>;
}

export interface PayloadsTable {
  run_id: string;
  id: string;
  bytes: number;
  data: string;
  created_at: Generated<Date>;
}

/** Migration 0005. */
export interface AlertsTable {
  id: Generated<string>;
  rule: string;
  key: string;
  severity: string;
  status: Generated<string>;
  workflow: string;
  step: string | null;
  run_id: string;
  error_name: string;
  message: string;
  attempt: number;
  last_log_lines: ColumnType<string[], string, string>;
  runbook_url: string | null;
  run_url: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  count: Generated<number>;
  escalate_at: Date | null;
  escalate_to: Generated<string[]>;
  escalated_at: Date | null;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  auto_resolve: Generated<boolean>;
  resolve_after: Date | null;
  resolve_notify: Generated<string[]>;
  resolved_at: Date | null;
  created_at: Generated<Date>;
}

export interface AlertDeliveriesTable {
  id: Generated<string>;
  alert_id: string;
  channel: string;
  notification: string;
  idempotency_key: Generated<string>;
  status: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Generated<Date>;
}
