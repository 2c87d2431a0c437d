import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** What a worker process reports of its memory (with --expose-gc, after a collection). */
export interface MemoryReport {
  slot: number;
  pid: number;
  rss: number;
  heapUsed: number;
  at: number;
}

/** A worker process that ended without being killed by the fleet: a finding. */
export interface UnexpectedExit {
  slot: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Options of {@link WorkerFleet}. */
export interface FleetOptions {
  /** Worker processes kept running. */
  count: number;
  /** Their environment (DATABASE_URL, REPRISE_SCHEMA, CHAOS_TABLE, …), over this process's. */
  env: Record<string, string>;
  /** Run them with --expose-gc, so memory reports are of live memory. @default false */
  exposeGc?: boolean;
  onMemory?: (report: MemoryReport) => void;
}

interface Slot {
  child: ChildProcess;
  /** Set while the fleet itself is killing it, so its exit is not a finding. */
  killing: boolean;
  stderr: string;
}

const WORKER = fileURLToPath(new URL("./worker-process.mjs", import.meta.url));
/** Of a worker's stderr, the tail kept for a report. */
const STDERR_KEPT = 8_000;

/**
 * K worker processes (chaos/worker-process.mjs) kept alive like a supervisor would: a killed
 * one is replaced at once. Each connects with application_name `chaos-worker-<slot>`, so
 * its backends can be found in pg_stat_activity and terminated.
 */
export class WorkerFleet {
  readonly unexpectedExits: UnexpectedExit[] = [];
  kills = 0;
  private readonly slots: Slot[] = [];
  private stopping = false;

  constructor(private readonly options: FleetOptions) {}

  /** Starts every worker and waits until each says it is ready. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.count }, (_, slot) => this.spawn(slot)));
  }

  get size(): number {
    return this.slots.length;
  }

  pid(slot: number): number {
    return this.slots[slot]!.child.pid!;
  }

  /** SIGKILLs the worker in `slot` and starts its replacement (not waiting until it is ready). */
  async kill(slot: number): Promise<number> {
    const entry = this.slots[slot]!;
    const pid = entry.child.pid!;
    entry.killing = true;
    const gone = new Promise<void>((resolve) => entry.child.once("exit", () => resolve()));
    if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill("SIGKILL");
    await gone;
    this.kills++;
    void this.spawn(slot).catch(() => undefined);
    return pid;
  }

  /** SIGSTOPs the worker in `slot` for `ms`, then SIGCONTs it: a GC pause or a VM migration. */
  async freeze(slot: number, ms: number): Promise<number> {
    const { child } = this.slots[slot]!;
    child.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, ms));
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGCONT");
    return child.pid!;
  }

  /** Kills every worker. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (entry) => {
        entry.killing = true;
        if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
        const gone = new Promise<void>((resolve) => entry.child.once("exit", () => resolve()));
        entry.child.kill("SIGCONT");
        entry.child.kill("SIGKILL");
        await gone;
      }),
    );
  }

  private spawn(slot: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const child = fork(WORKER, [], {
      env: { ...process.env, ...this.options.env, PGAPPNAME: `chaos-worker-${slot}` },
      // Not this process's flags: under tsx or vitest they would load a TypeScript loader
      // into every worker, which runs plain JS.
      execArgv: this.options.exposeGc ? ["--expose-gc"] : [],
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    const entry: Slot = { child, killing: false, stderr: "" };
    this.slots[slot] = entry;
    child.stderr!.on("data", (chunk: Buffer) => {
      entry.stderr = (entry.stderr + chunk.toString()).slice(-STDERR_KEPT);
    });
    child.on("exit", (code, signal) => {
      if (entry.killing || this.stopping) return;
      this.unexpectedExits.push({ slot, pid: child.pid!, code, signal, stderr: entry.stderr });
      void this.spawn(slot).catch(() => undefined);
    });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${slot} was not ready within 30 s: ${entry.stderr}`)), 30_000);
      child.on("message", (message: { type?: string; pid: number; rss: number; heapUsed: number; at: number }) => {
        if (message.type === "ready") {
          clearTimeout(timer);
          resolve();
        } else if (message.type === "memory") {
          this.options.onMemory?.({ slot, pid: message.pid, rss: message.rss, heapUsed: message.heapUsed, at: message.at });
        }
      });
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
