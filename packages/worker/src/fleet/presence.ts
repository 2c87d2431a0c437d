import type { Store, WorkerPresence } from "@reprise/store";
import type { WorkerLogger } from "../logger.js";

/**
 * The worker's row in the `workers` table, renewed every heartbeat interval (a row whose
 * time ran out is a worker that died), and what the fleet says back: whether a newer
 * version than this worker's is live. Then this worker drains — it claims only the pinned
 * runs of its own version, and leaves new runs and the others to the newest version — until
 * no worker of a newer version is left. A beat that fails changes nothing; the next one
 * tries again.
 */
export class Presence {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private current: string | null = null;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly me: WorkerPresence,
    private readonly intervalMs: number,
    private readonly logger: WorkerLogger,
    /** Called when the worker stops or starts draining. */
    private readonly onChange: (draining: boolean) => void,
  ) {}

  /** True while a newer version than this worker's has a live worker. */
  get draining(): boolean {
    return this.me.version !== undefined && this.current !== null && this.current !== this.me.version;
  }

  /** The first beat, at start: its failure is the start's. */
  async join(): Promise<void> {
    await this.beatOnce();
  }

  start(): void {
    this.schedule();
  }

  /** Stops beating and marks the row stopped: the worker no longer counts as alive. */
  async leave(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.beating?.catch(() => undefined);
    try {
      await this.store.fleet.leave(this.me.id);
    } catch (error) {
      this.logger.warn(`could not mark this worker stopped (its row lapses by itself): ${(error as Error).message}`);
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.beating = this.beatOnce()
        .catch((error: unknown) => this.logger.warn(`worker presence not renewed: ${(error as Error).message}`))
        .finally(() => {
          this.beating = undefined;
          if (this.timer !== undefined) this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref?.();
  }

  private async beatOnce(): Promise<void> {
    const wasDraining = this.draining;
    const { current } = await this.store.fleet.beat(this.me);
    this.current = current;
    if (this.draining !== wasDraining) {
      if (this.draining) {
        this.logger.info(`version ${current} is live and newer: this worker (version ${this.me.version}) now only continues the pinned runs of its version`);
      } else {
        this.logger.info(`this worker's version ${this.me.version ?? "(none)"} takes new runs again`);
      }
      this.onChange(this.draining);
    }
  }
}
