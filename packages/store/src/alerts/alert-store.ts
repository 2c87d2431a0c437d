import type {
  AlertLogLine,
  AlertRecord,
  ClaimedDelivery,
  DeliveryOutcome,
  DeliveryRecord,
  EvaluationLocks,
  InboxFact,
  LateSlotRef,
  NewAlert,
  RuleRegistration,
} from "./alert-records.js";

/** Filters of {@link AlertStore.list}. */
export interface AlertFilter {
  status?: string | undefined;
  /** @default 100 */
  limit?: number | undefined;
}

/**
 * One evaluation: a transaction that holds the locks of some rules (see
 * {@link AlertStore.evaluate}), so that one process at a time decides for a rule, in order.
 * Everything written through it commits together with the deletion of the facts it took: a
 * crash before the commit leaves the facts in the inbox and writes nothing; after it, the
 * facts are gone and their alerts and outbox rows exist.
 */
export interface AlertTransaction {
  /** Takes (deletes) up to `limit` facts of these rules (locked by this evaluation), oldest first, with their events and runs. */
  takeInbox(rules: readonly string[], limit: number): Promise<InboxFact[]>;
  /** Runs `fn` in a savepoint: when it throws, only what it wrote is undone. */
  isolated<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * How (`completed` / `failed`) a workflow's latest `limit` runs had ended when the event
   * `(runId, seq)` was written, among the runs created up to `runId`'s, newest first; runs
   * not ended by then (or reopened by a retry) are skipped. Cancelled runs say nothing about
   * the workflow's health and are left out.
   */
  recentOutcomes(args: { workflow: string; runId: string; seq: number; limit: number }): Promise<string[]>;
  /** A run's last `limit` log lines, oldest first. */
  lastLogs(runId: string, limit: number): Promise<AlertLogLine[]>;
  /** The newest unresolved alert of `rule` and `key` first seen at or after `since`. */
  findOpen(rule: string, key: string, since: Date): Promise<{ id: string; count: number } | undefined>;
  /** One more occurrence of an alert (seen at `seenAt`, in run `runId`). */
  repeat(args: { id: string; seenAt: Date; runId: string }): Promise<void>;
  /** Writes a new alert and its `opened` deliveries. */
  open(alert: NewAlert): Promise<AlertRecord>;
  /** Of these late slots, those `rule` had not counted, which are now counted. */
  countLateSlots(rule: string, slots: readonly LateSlotRef[]): Promise<LateSlotRef[]>;
  /** Forgets the late slots these rules counted that are older than `before`. */
  pruneLateSlots(rules: readonly string[], before: Date): Promise<void>;
  /** Escalates the open alerts whose escalation time passed, with their `escalated` deliveries. */
  escalate(): Promise<AlertRecord[]>;
  /**
   * Resolves the autoResolve alerts of workflows that completed a run created at or after
   * the alert's run, after the alert was last seen; with their `resolved` deliveries.
   */
  autoResolve(): Promise<AlertRecord[]>;
  /** The database's clock. */
  now(): Promise<Date>;
}

/**
 * Alerts of one schema (`store.alerts`): the inbox that row triggers fill, the evaluation
 * lock, alerts and their lifecycle, and the delivery outbox. Knows nothing of rules: the
 * worker decides, this stores.
 */
export interface AlertStore {
  /**
   * Says a worker has these rules: facts of their kinds are captured for each of them while
   * it was seen within a day. Also forgets rules, and facts, older than that.
   */
  register(rules: readonly RuleRegistration[]): Promise<void>;
  /**
   * Runs `fn` in a transaction holding the locks of those of `rules` that no other process
   * holds (and of the shared upkeep, if free), or returns `{ ran: false }` at once when it
   * got none. The locks go with the transaction, or with the connection of a process that died.
   */
  evaluate<T>(rules: readonly string[], fn: (tx: AlertTransaction, locks: EvaluationLocks) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** Claims due deliveries, up to `perChannel` for each channel, for `leaseMs`. */
  claimDeliveries(args: { owner: string; channels: readonly string[]; perChannel: number; leaseMs: number }): Promise<ClaimedDelivery[]>;
  /** Records how a claimed delivery went. @returns false when the claim had lapsed and another worker took it */
  finishDelivery(args: { id: string; owner: string } & DeliveryOutcome): Promise<boolean>;

  /** Newest first. */
  list(filter?: AlertFilter): Promise<AlertRecord[]>;
  /** An alert, or undefined when there is no such alert. */
  get(id: string): Promise<AlertRecord | undefined>;
  /** The deliveries of these alerts, oldest first. */
  deliveries(alertIds: readonly string[]): Promise<DeliveryRecord[]>;
  /** Acknowledges an open alert (an acknowledged or resolved one stays as it is). @returns undefined when there is no such alert */
  acknowledge(id: string, by: string | undefined): Promise<AlertRecord | undefined>;
  /** Resolves an alert, telling its resolve channels. @returns undefined when there is no such alert */
  resolve(id: string): Promise<AlertRecord | undefined>;
}
