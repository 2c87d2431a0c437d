import type { ServerResponse } from "node:http";
import type { Listener, RunVersion, Store } from "@reprise/store";

const POLL_MS = 1_000;
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events for the run pages that are open: each gets `event: run` when its run
 * moved (a new event, or a new status). One statement per second checks every watched run
 * (`runVersions`), and a NOTIFY on the schema's channel (new runs, signals, cancel requests)
 * checks at once; step appends send no NOTIFY (by design, they are the hot path), so the
 * poll is what sees most moves. With nobody watching, nothing runs.
 */
export class LiveRuns {
  private readonly watchers = new Map<string, Set<ServerResponse>>();
  private readonly seen = new Map<string, string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private listener: Listener | undefined;
  private checking = false;

  constructor(private readonly store: Store) {}

  /**
   * Streams the run's moves to `res` until the browser goes away. `known` is what the page
   * shows (`status:lastSeq`): a move between its load and this call is announced at once.
   */
  watch(runId: string, res: ServerResponse, known?: string): void {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
    res.write("retry: 2000\n\n");
    let set = this.watchers.get(runId);
    if (!set) this.watchers.set(runId, (set = new Set()));
    set.add(res);
    if (known !== undefined && !this.seen.has(runId)) this.seen.set(runId, known);
    res.on("close", () => {
      set.delete(res);
      if (set.size === 0) {
        this.watchers.delete(runId);
        this.seen.delete(runId);
      }
      if (this.watchers.size === 0) this.idle();
    });
    this.start();
    void this.check();
  }

  close(): void {
    for (const set of this.watchers.values()) for (const res of set) res.end();
    this.watchers.clear();
    this.idle();
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), POLL_MS);
    this.timer.unref?.();
    this.keepalive = setInterval(() => {
      for (const set of this.watchers.values()) for (const res of set) res.write(": keepalive\n\n");
    }, KEEPALIVE_MS);
    this.keepalive.unref?.();
    if (this.store.canListen) {
      this.listener = this.store.listen({ onNotify: () => void this.check(), onConnect: () => void this.check() });
    }
  }

  private idle(): void {
    clearInterval(this.timer);
    clearInterval(this.keepalive);
    this.timer = undefined;
    this.keepalive = undefined;
    void this.listener?.close();
    this.listener = undefined;
  }

  private async check(): Promise<void> {
    if (this.checking || this.watchers.size === 0) return;
    this.checking = true;
    try {
      const versions = await this.store.runVersions([...this.watchers.keys()]);
      for (const v of versions) this.announce(v);
    } catch {
      // The database is out of reach: the next tick tries again; the page keeps what it shows.
    } finally {
      this.checking = false;
    }
  }

  private announce(v: RunVersion): void {
    const version = `${v.status}:${v.lastSeq}`;
    if (this.seen.get(v.id) === version) return;
    const first = !this.seen.has(v.id);
    this.seen.set(v.id, version);
    if (first) return; // the page just loaded what is there
    const data = JSON.stringify({ id: v.id, status: v.status, lastSeq: v.lastSeq });
    for (const res of this.watchers.get(v.id) ?? []) res.write(`event: run\ndata: ${data}\n\n`);
  }
}
