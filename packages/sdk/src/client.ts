import { createStore, StoreError, StoreErrorCode, type NewRun, type RunPayload, type Store } from "@reprise/store";
import { AlertClient } from "./alerts/alert-client.js";
import { toMillis, type Duration } from "./duration.js";
import { DatabaseError, DeadLetterNotFoundError, InvalidRunStateError, RepriseError, RunNotFoundError, UnknownWorkflowError, ValidationError } from "./errors.js";
import { cancelledError, type SerializedError } from "./error-codec.js";
import type { EventKind, HistoryEvent } from "./events.js";
import { devDatabaseUrl } from "./dev-database.js";
import { newId } from "./ids.js";
import { toJsonText, unstorableIn } from "./json.js";
import { RunHandle } from "./run-handle.js";
import { resolveLogsOptions, toRunLogLine, type LogsOptions, type RunLogLine } from "./run-logs.js";
import { newRunId, runIdOf } from "./run-id.js";
import { toRunInfo, type ListRunsOptions, type RunInfo, type StartManyItem, type StartOptions } from "./run-info.js";
import { TERMINAL_STATUSES } from "./run-status.js";
import { ScheduleClient } from "./schedule/schedule-client.js";
import { parseWith } from "./schema.js";
import { findWorkflow, isImplementation } from "./workflow.js";
import type { DeadLetter, WorkflowRef } from "./workflow-types.js";
import { EventClient, type EmitOptions, type EmitResult } from "./event/event-client.js";
import { PAYLOAD_KEY, placeValue, resolvePayloadLimits, type PayloadLimits, type PayloadOptions } from "./payload.js";
import { loadEventValues, loadStoredValues } from "./stored-values.js";
import { toVersionInfo, type VersionInfo } from "./version-info.js";
import { resolveStatsOptions, toWorkflowStats, type StatsOptions, type WorkflowStats } from "./stats.js";
import { activeTraceContext } from "./trace-context.js";

/** Runs per statement of `startMany` (about 0.3 MB of parameters at 300 bytes of input each). */
const START_BATCH = 1000;

/**
 * Options of {@link Client}. Give `connectionString` or `store`; with neither, the client
 * uses `DATABASE_URL`, else the database of a `reprise dev` running for this project.
 */
export interface ClientOptions {
  /** Postgres connection string. */
  connectionString?: string;
  /** A store from `createStore()` (the client then does not close it). */
  store?: Store;
  /**
   * Postgres schema of Reprise's tables (with `connectionString`).
   * @default "reprise"
   */
  schema?: string;
  /**
   * Apply the store's migrations on first use.
   * @default true
   */
  migrate?: boolean;
  /**
   * Large values (a run's input, a signal's payload, an event's): over `inlineLimit` they
   * are stored out of line, over `maxSize` refused with `SerializationError`.
   * @default { inlineLimit: 262144, maxSize: 67108864 }
   */
  payloads?: PayloadOptions;
}

/**
 * Starts, inspects and steers runs. Talks to Postgres only; runs execute on workers.
 *
 * ```ts
 * const client = new Client({ connectionString: process.env.DATABASE_URL });
 * const handle = await client.start(pingService, { url }, { id: "ping-2026-11-22" });
 * const text = await handle.result();
 * ```
 */
export class Client {
  private readonly options: ClientOptions;
  private storePromise: Promise<Store> | undefined;
  private readonly ownsStore: boolean;
  /** Schedules: create, pause, resume, trigger, backfill, list, update, delete. */
  readonly schedules: ScheduleClient;
  /** Emitted events and the runs each started (`emit` is on the client itself). */
  readonly events: EventClient;
  private readonly payloads: PayloadLimits;
  /** Workflow names some worker has declared (once declared, always: checked once per name). */
  private readonly declared = new Set<string>();
  /** Alerts raised by workers' alert rules: list, ack, resolve. */
  readonly alerts: AlertClient;

  constructor(options: ClientOptions = {}) {
    if (!options.connectionString && !options.store) {
      // As the CLI does: DATABASE_URL, else the database of a `reprise dev` of this project.
      const found = process.env.DATABASE_URL || devDatabaseUrl();
      if (!found) {
        throw new ValidationError("new Client() needs a connectionString or a store: set DATABASE_URL, pass { connectionString }, or run `reprise dev` in this project");
      }
      options = { ...options, connectionString: found };
    }
    this.options = options;
    this.ownsStore = !options.store;
    this.payloads = resolvePayloadLimits(options.payloads, "new Client()");
    this.schedules = new ScheduleClient({ call: (fn) => this.call(fn), handle: (runId) => this.handle(runId) });
    this.events = new EventClient({ call: (fn) => this.call(fn), handle: (runId) => this.handle(runId), payloads: this.payloads });
    this.alerts = new AlertClient({ call: (fn) => this.call(fn) });
  }

  /** The store, created and migrated on first use. */
  store(): Promise<Store> {
    this.storePromise ??= (async () => {
      const store =
        this.options.store ??
        createStore({ connectionString: this.options.connectionString!, ...(this.options.schema ? { schema: this.options.schema } : {}) });
      if (this.options.migrate !== false) await store.migrate();
      return store;
    })().catch((error: unknown) => {
      this.storePromise = undefined;
      throw wrapStoreError(error);
    });
    return this.storePromise;
  }

  /** Runs a store call, turning driver failures into `DatabaseError`. */
  private async call<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    const store = await this.store();
    try {
      return await fn(store);
    } catch (error) {
      throw wrapStoreError(error);
    }
  }

  /**
   * Starts a run of a workflow, or of a definition (`defineWorkflow`) that some worker
   * implements. The input is validated (and checked to be JSON) before anything is stored;
   * one over `payloads.inlineLimit` is stored out of line. Starting an id that exists
   * returns the existing run and creates nothing. With `transaction`, the run is created in
   * your transaction and exists only if it commits:
   *
   * ```ts
   * await db.transaction().execute(async (trx) => {
   *   await trx.insertInto("orders").values(order).execute();
   *   await client.start(fulfil, { orderId: order.id }, { transaction: trx });
   * });
   * ```
   *
   * @throws ValidationError on invalid input or options, or an id used by another workflow;
   *   SerializationError for an input over `payloads.maxSize`; UnknownWorkflowError for a
   *   definition no worker has declared (unless `allowUndeclared`)
   */
  async start<I, O, In>(wf: WorkflowRef<I, O, In>, input: In, options: StartOptions = {}): Promise<RunHandle<O>> {
    // The caller's span, if it is in one: the worker parents the run's spans on it.
    const { run, payloads } = this.newRun(wf, input, options, activeTraceContext());
    // With the code in this process the name is no typo; a definition promises a worker
    // that only the registry of declared workflows can vouch for.
    if (!isImplementation(wf) && options.allowUndeclared !== true) await this.assertDeclared(wf.name);
    const transaction = options.transaction;
    const created = await this.call((s) => s.startRuns([run], { transaction, payloads }));
    if (!created.has(run.id)) {
      const existing = (await this.call((s) => s.existingRuns([run.id], { transaction }))).get(run.id);
      if (existing !== undefined && existing !== wf.name) {
        throw new ValidationError(`run id "${run.id}" is already used by a run of workflow "${existing}"`);
      }
    }
    return new RunHandle<O>(this, run.id);
  }

  /**
   * Starts many runs of one workflow (or definition). Every item is validated first (one
   * invalid item is a `ValidationError` naming its index, and nothing is stored); then the
   * runs are created in one transaction, with one statement per 1,000 runs. Returns the
   * handles in the order of `items`; an id that exists returns its existing run.
   *
   * ```ts
   * const handles = await client.startMany(resize, images.map((image) => ({ input: { image }, id: `resize-${image}` })));
   * ```
   *
   * @throws ValidationError naming the item, for an invalid one or an id used by another
   *   workflow; UnknownWorkflowError for a definition no worker has declared
   */
  async startMany<I, O, In>(wf: WorkflowRef<I, O, In>, items: readonly StartManyItem<In>[], options: { allowUndeclared?: boolean } = {}): Promise<RunHandle<O>[]> {
    if (!Array.isArray(items)) throw new ValidationError(`startMany needs an array of { input, id?, delay?, priority? }, got ${typeof items}`);
    const traceContext = activeTraceContext();
    const runs = items.map((item, index) => {
      try {
        if (typeof item !== "object" || item === null) throw new ValidationError(`expected { input, id?, delay?, priority? }, got ${String(item)}`);
        return this.newRun(wf, item.input, item, traceContext);
      } catch (error) {
        if (!(error instanceof ValidationError) && !(error instanceof TypeError)) throw error;
        throw new ValidationError(`startMany item ${index}: ${error.message}`, { cause: error });
      }
    });
    if (runs.length === 0) return [];
    if (!isImplementation(wf) && options.allowUndeclared !== true) await this.assertDeclared(wf.name);
    await this.call((s) =>
      s.withTransaction(async (transaction) => {
        for (let from = 0; from < runs.length; from += START_BATCH) {
          const batch = runs.slice(from, from + START_BATCH);
          const created = await s.startRuns(
            batch.map((r) => r.run),
            { transaction, payloads: batch.flatMap((r) => r.payloads) },
          );
          if (created.size === batch.length) continue;
          const existing = await s.existingRuns(batch.filter((r) => !created.has(r.run.id)).map((r) => r.run.id), { transaction });
          const clash = batch.findIndex((r) => existing.has(r.run.id) && existing.get(r.run.id) !== wf.name);
          if (clash >= 0) {
            const id = batch[clash]!.run.id;
            throw new ValidationError(`startMany item ${from + clash}: run id "${id}" is already used by a run of workflow "${existing.get(id)}"`);
          }
        }
      }),
    );
    return runs.map((r) => new RunHandle<O>(this, r.run.id));
  }

  /**
   * The stored form of a run to start, and its input's value if that is stored out of line.
   * @throws ValidationError, SerializationError, TypeError (a bad delay)
   */
  private newRun<I, O, In>(
    wf: WorkflowRef<I, O, In>,
    input: In,
    options: Omit<StartOptions, "transaction">,
    traceContext: string | undefined,
  ): { run: NewRun; payloads: RunPayload[] } {
    const what = `input of workflow "${wf.name}"`;
    const parsed = wf.parseInput(input);
    const stored = placeValue(toJsonText(parsed, what), this.payloads, what);
    const id = newRunId(options.id ?? newId());
    const priority = options.priority ?? wf.options.priority ?? 0;
    if (!Number.isInteger(priority)) throw new ValidationError(`priority must be an integer, got ${String(options.priority)}`);
    const delayMs = options.delay === undefined ? undefined : toMillis(options.delay);
    const queue = options.queue ?? wf.queue;
    return {
      run: { id, workflow: wf.name, queue, input: stored.text, priority, delayMs, timeoutMs: wf.timeoutMs, fingerprint: wf.fingerprint, traceContext },
      payloads: stored.outOfLine ? [{ runId: id, id: stored.outOfLine.id, text: stored.outOfLine.text }] : [],
    };
  }

  /** @throws UnknownWorkflowError when no worker has declared `name` */
  private async assertDeclared(name: string): Promise<void> {
    if (this.declared.has(name)) return;
    const found = await this.call((s) => s.fleet.declared([name]));
    if (!found.has(name)) {
      throw new UnknownWorkflowError(
        name,
        [],
        "no worker has declared it (workers declare their workflows when they start): start a worker that implements it, or pass { allowUndeclared: true } to queue the run for the first one",
      );
    }
    this.declared.add(name);
  }

  /**
   * Emits an event: starts one run of each workflow declared with `on: name`, with
   * `payload` as its input; one run per (event id, workflow) however often it is emitted.
   * A workflow whose schema (known in this process) refuses the payload starts nothing and
   * is reported in `invalid`; the others start.
   *
   * ```ts
   * const { eventId, runs, invalid } = await client.emit("order.created", { orderId: "A-1" }, { id: "evt-123" });
   * ```
   *
   * @throws ValidationError for a bad name, id or payload (nothing is stored)
   */
  emit(name: string, payload?: unknown, options: EmitOptions = {}): Promise<EmitResult> {
    return this.events.emit(name, payload, options);
  }

  /** Deployment versions, newest first: each one's open runs and live workers. */
  async versions(): Promise<VersionInfo[]> {
    return toVersionInfo(await this.call((s) => s.fleet.versions()));
  }

  /** `start`, then `result`. */
  async run<I, O, In>(wf: WorkflowRef<I, O, In>, input: In, options: StartOptions & { timeout?: Duration } = {}): Promise<O> {
    // Waiting for the result inside the transaction that creates the run would wait forever.
    if (options.transaction !== undefined) throw new ValidationError("client.run cannot take a transaction: start() in it, commit, then await handle.result()");
    const handle = await this.start(wf, input, options);
    return handle.result(options.timeout === undefined ? {} : { timeout: options.timeout });
  }

  /** A handle for an existing run (not checked until used). */
  handle<O = unknown>(runId: string): RunHandle<O> {
    return new RunHandle<O>(this, runIdOf(runId));
  }

  /** The run, with its input and output (loaded if stored out of line). @throws RunNotFoundError */
  async status(runId: string): Promise<RunInfo> {
    runIdOf(runId);
    const run = await this.call((s) => s.getRun(runId));
    if (!run) throw new RunNotFoundError(runId);
    const [input, output] = await this.call((s) => loadStoredValues(s, runId, [run.input, run.output] as const));
    return toRunInfo({ ...run, input, output });
  }

  /** The run once it has ended, with its output; undefined while it goes on. @throws RunNotFoundError */
  async settled(runId: string): Promise<RunInfo | undefined> {
    runIdOf(runId);
    const run = await this.call((s) => s.getRun(runId));
    if (!run) throw new RunNotFoundError(runId);
    if (!TERMINAL_STATUSES.has(run.status)) return undefined;
    const [output] = await this.call((s) => loadStoredValues(s, runId, [run.output] as const));
    return toRunInfo({ ...run, output });
  }

  /**
   * Waits for the run to end and returns its output.
   * @throws WorkflowFailedError when it failed or was cancelled (cause: its error);
   *   ResultTimeoutError after `timeout`; RunNotFoundError
   */
  result<O = unknown>(runId: string, options: { timeout?: Duration } = {}): Promise<O> {
    return new RunHandle<O>(this, runId).result(options);
  }

  /**
   * The run's events in order. Values stored out of line are loaded in their place, unless
   * `values: "references"` (then `replay()` needs its `loadPayload`). @throws RunNotFoundError
   */
  async history(runId: string, options: { values?: "loaded" | "references" } = {}): Promise<HistoryEvent[]> {
    runIdOf(runId);
    const stored = await this.call((s) => s.history(runId));
    if (stored.length === 0) throw new RunNotFoundError(runId);
    const events = options.values === "references" ? stored : await this.call((s) => loadEventValues(s, runId, stored));
    return events.map((e) => ({
      runId: e.runId,
      seq: e.seq,
      kind: e.kind as EventKind,
      position: e.position,
      name: e.name,
      payload: e.payload,
      createdAt: e.createdAt,
    }));
  }

  /**
   * A value of a run stored out of line, by the id its reference names (for `replay()`'s
   * `loadPayload` with a history read with `values: "references"`).
   * @throws DatabaseError when the run has no such value
   */
  async payload(runId: string, id: string): Promise<unknown> {
    runIdOf(runId);
    const [value] = await this.call((s) => loadStoredValues(s, runId, [{ [PAYLOAD_KEY]: { id, bytes: 0 } }] as const));
    return value;
  }

  /**
   * A run's `ctx.log` / `stepCtx.log` lines, oldest first. A running step's lines are
   * written about once a second while it runs, so they are here before it ends (and after
   * its worker died).
   *
   * ```ts
   * for (const line of await client.logs(runId, { step: "charge" })) console.log(line.at, line.message);
   * ```
   *
   * @throws RunNotFoundError; ValidationError for a bad `step`, `limit` or `after`
   */
  async logs(runId: string, options: LogsOptions = {}): Promise<RunLogLine[]> {
    runIdOf(runId);
    const filter = resolveLogsOptions(options);
    const rows = await this.call((s) => s.logs(runId, filter));
    // No line: the run may not exist. (A line's run always does: logs are pruned with it.)
    if (rows.length === 0 && !(await this.call((s) => s.getRun(runId)))) throw new RunNotFoundError(runId);
    return rows.map((r) => toRunLogLine(runId, r));
  }

  /**
   * Success rate, retries, time to recovery and durations per workflow, over the runs that
   * ended in a window, from the event log (every worker's runs).
   *
   * ```ts
   * const [checkout] = await client.stats({ workflow: "checkout", since: "24h" });
   * console.log(checkout?.successRate, checkout?.meanTimeToRecoveryMs);
   * ```
   *
   * @throws ValidationError for a bad `workflow` or `since`
   */
  async stats(options: StatsOptions = {}): Promise<WorkflowStats[]> {
    const window = resolveStatsOptions(options);
    const rows = await this.call((s) => s.runStats(window));
    return rows.map(toWorkflowStats);
  }

  /** Newest first. Values stored out of line are left as their references (`status()` loads them). */
  async listRuns(options: ListRunsOptions = {}): Promise<RunInfo[]> {
    for (const key of ["from", "to"] as const) {
      const at = options[key];
      if (at !== undefined && (!(at instanceof Date) || Number.isNaN(at.getTime()))) throw new ValidationError(`listRuns ${key} must be a valid Date`);
    }
    if (options.after !== undefined) runIdOf(options.after, "after");
    const { from, to, ...rest } = options;
    const runs = await this.call((s) => s.listRuns({ ...rest, createdFrom: from, createdTo: to }));
    return runs.map(toRunInfo);
  }

  /**
   * Delivers a signal (durable, first-in first-out per name). When the run's workflow
   * declares a schema for the signal (`signals` option) and is known in this process, the
   * payload is validated first.
   *
   * @throws RunNotFoundError; InvalidRunStateError when the run has ended; ValidationError
   */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    runIdOf(runId);
    if (typeof name !== "string" || name.length === 0) throw new ValidationError("signal name must be a non-empty string");
    const unstorable = unstorableIn(name);
    if (unstorable) throw new ValidationError(`signal name ${JSON.stringify(name)} is invalid: it holds ${unstorable}`);
    const run = await this.call((s) => s.getRun(runId));
    if (!run) throw new RunNotFoundError(runId);
    if (TERMINAL_STATUSES.has(run.status)) throw new InvalidRunStateError(runId, run.status, `signal "${name}" to`);
    const schema = findWorkflow(run.workflow)?.options.signals?.[name];
    const what = `payload of signal "${name}"`;
    const checked = parseWith(schema, payload, what);
    const stored = placeValue(toJsonText(checked, what), this.payloads, what);
    const payloads = stored.outOfLine ? [{ id: stored.outOfLine.id, text: stored.outOfLine.text }] : [];
    const result = await this.call((s) => s.signalRun({ runId, name, payload: stored.text, payloads }));
    if (!result.delivered) {
      if (result.status === null) throw new RunNotFoundError(runId);
      throw new InvalidRunStateError(runId, result.status, `signal "${name}" to`);
    }
  }

  /**
   * Cancels a run: it ends `cancelled`, running steps see their `signal` aborted, and its
   * unfinished children are cancelled too. Cancelling a cancelled run does nothing.
   *
   * @throws RunNotFoundError; InvalidRunStateError when it already completed or failed
   */
  async cancel(runId: string, reason?: string): Promise<void> {
    runIdOf(runId);
    if (reason !== undefined && typeof reason !== "string") throw new ValidationError(`cancel reason must be a string, got ${typeof reason}`);
    const error = JSON.stringify(cancelledError(runId, reason));
    const result = await this.call((s) => s.cancelRun({ runId, reason, error }));
    if (result.outcome === "not-found") throw new RunNotFoundError(runId);
    if (result.outcome === "finished" && result.status !== "cancelled") throw new InvalidRunStateError(runId, result.status, "cancel");
  }

  /**
   * Resumes a failed or cancelled run in place: completed steps keep their recorded
   * results; the step that failed runs again with a fresh attempt count.
   *
   * @throws RunNotFoundError; InvalidRunStateError when the run is not failed or cancelled
   */
  async retry<O = unknown>(runId: string): Promise<RunHandle<O>> {
    runIdOf(runId);
    const result = await this.call((s) => s.retryRun(runId));
    if (result.outcome === "not-found") throw new RunNotFoundError(runId);
    if (result.outcome === "invalid") {
      throw new InvalidRunStateError(runId, result.status, "retry", "only failed or cancelled runs can be retried");
    }
    return new RunHandle<O>(this, runId);
  }

  /**
   * Starts a new run whose history is the source's before `fromStep` (a position, or a step
   * name), then runs on with today's code.
   *
   * @throws RunNotFoundError; ValidationError when there is no such step
   */
  async fork<O = unknown>(runId: string, options: { fromStep: number | string; id?: string }): Promise<RunHandle<O>> {
    runIdOf(runId);
    if (typeof options?.fromStep !== "string" && !Number.isInteger(options?.fromStep)) {
      throw new ValidationError(`fork needs fromStep: a step name or a position, got ${JSON.stringify(options?.fromStep)}`);
    }
    const forkId = newRunId(options.id ?? newId());
    const result = await this.call((s) => s.forkRun({ sourceId: runId, fromStep: options.fromStep, newId: forkId }));
    if (result.outcome === "not-found") throw new RunNotFoundError(runId);
    if (result.outcome === "no-such-step") {
      throw new ValidationError(`run ${runId} has no step ${JSON.stringify(options.fromStep)} to fork from`);
    }
    return new RunHandle<O>(this, result.id);
  }

  /** Items dead-lettered by `ctx.map`, newest first. */
  async deadLetters(filter: { runId?: string; workflow?: string } = {}): Promise<DeadLetter[]> {
    if (filter.runId !== undefined) runIdOf(filter.runId);
    const rows = await this.call((s) => s.deadLetters(filter));
    return rows.map((r) => ({
      id: r.id,
      runId: r.runId,
      workflowName: r.workflow,
      map: r.map,
      index: r.index,
      item: r.item,
      error: r.error as SerializedError,
      createdAt: r.createdAt,
      ...(r.retriedBy ? { retriedBy: r.retriedBy } : {}),
    }));
  }

  /**
   * Redrives a dead letter: a new run of the same workflow whose history is the original's
   * up to the end of its `ctx.map`, without the dead-lettered item. Replay answers every
   * other item from the log; that item runs again with today's code, and so does everything
   * after the map (it sees the new result). Redriving the same dead letter twice returns
   * the same run.
   *
   * @throws DeadLetterNotFoundError
   */
  async retryDeadLetter<O = unknown>(id: string): Promise<RunHandle<O>> {
    // Dead letters are numbered: anything else names none (and must not reach the database as a bigint).
    if ((typeof id !== "string" && typeof id !== "number") || !/^[1-9][0-9]{0,18}$/.test(String(id))) throw new DeadLetterNotFoundError(String(id));
    const [letter] = await this.call((s) => s.deadLetters({ id: String(id) }));
    if (!letter) throw new DeadLetterNotFoundError(String(id));
    if (letter.retriedBy) return new RunHandle<O>(this, letter.retriedBy);
    const history = await this.call((s) => s.history(letter.runId));
    let end = letter.position;
    for (const e of history) {
      if (e.position !== null && e.name?.startsWith(`${letter.map}[`) && e.position > end) end = e.position;
    }
    const forkId = `${letter.runId}-redrive-${letter.id}`;
    const result = await this.call((s) => s.forkRun({ sourceId: letter.runId, fromStep: end + 1, newId: forkId, reopen: [letter.position] }));
    if (result.outcome !== "forked") throw new RunNotFoundError(letter.runId);
    await this.call((s) => s.markDeadLetterRetried(letter.id, forkId));
    return new RunHandle<O>(this, forkId);
  }

  /** Ends the client's connections (not a store it was given); a script ends only once they are. */
  async close(): Promise<void> {
    const pending = this.storePromise;
    this.storePromise = undefined;
    if (pending && this.ownsStore) await (await pending.catch(() => undefined))?.close();
  }
}

/** Turns what the store threw into a Reprise error (driver errors become `DatabaseError`). */
export function wrapStoreError(error: unknown): Error {
  if (error instanceof RepriseError) return error;
  if (error instanceof StoreError && error.code === StoreErrorCode.InvalidArgument) return new ValidationError(error.message, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new DatabaseError(`database error: ${message}`, error);
}
