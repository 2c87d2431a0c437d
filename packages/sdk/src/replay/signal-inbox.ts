/**
 * How one execution reads a run's signal inbox: per signal name, the id of the last signal
 * consumed (signals are taken first-in first-out), reads made one after the other in call
 * order (so parallel waits on one name take signals in the order they were made), and the
 * names a wait already parked on (later waits on that name park too rather than take a
 * signal that landed meanwhile out of turn).
 */
export class SignalInbox {
  private readonly cursors: Map<string, string>;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly parked = new Set<string>();

  constructor(recorded: ReadonlyMap<string, string>) {
    this.cursors = new Map(recorded);
  }

  /** Runs `fn` after every earlier read of this name has finished. */
  inTurn<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.queues.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }

  /** The id of the last signal of this name consumed, if any. */
  cursor(name: string): string | undefined {
    return this.cursors.get(name);
  }

  consumed(name: string, id: string): void {
    const seen = this.cursors.get(name);
    if (seen === undefined || BigInt(id) > BigInt(seen)) this.cursors.set(name, id);
  }

  /** True once a wait on this name parked the run in this execution. */
  isParked(name: string): boolean {
    return this.parked.has(name);
  }

  park(name: string): void {
    this.parked.add(name);
  }
}
