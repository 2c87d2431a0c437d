import type pg from "pg";
import { pgConnection } from "./multi-host.js";

/** Options of the LISTEN connection behind {@link Store.listen}. */
export interface ListenOptions {
  connectionString: string;
  channel: string;
  /** Called with each notification's payload (ids only: a hint to look, never data). */
  onNotify: (payload: string) => void;
  /** Called after every (re)connection: notifications may have been missed, so look now. */
  onConnect?: () => void;
  /** Called when the connection fails; it is retried with backoff. */
  onError?: (error: Error) => void;
  /** @default 100 */
  minBackoffMs?: number;
  /** @default 5000 */
  maxBackoffMs?: number;
}

/** A running LISTEN; `close()` stops it. */
export interface Listener {
  /** Stops listening and ends the connection; no reconnection follows. */
  close(): Promise<void>;
  /** True while the connection is up. */
  readonly connected: boolean;
}

/**
 * LISTENs on one dedicated connection and reconnects with exponential backoff when it
 * drops. Polling stays the source of truth; this only makes workers look sooner.
 */
export function listen(options: ListenOptions): Listener {
  const min = options.minBackoffMs ?? 100;
  const max = options.maxBackoffMs ?? 5_000;
  let client: pg.Client | undefined;
  let closed = false;
  let connected = false;
  let backoff = min;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    const delay = backoff;
    backoff = Math.min(max, backoff * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay * (0.75 + Math.random() * 0.5));
  };

  const connect = async () => {
    if (closed) return;
    const { Client, config } = pgConnection(options.connectionString);
    const c: pg.Client = new Client(config);
    client = c;
    const onLost = (error?: Error) => {
      if (client !== c) return;
      client = undefined;
      connected = false;
      if (error) options.onError?.(error);
      c.removeAllListeners("notification");
      c.end().catch(() => undefined);
      scheduleReconnect();
    };
    c.on("error", onLost);
    c.on("end", () => onLost());
    c.on("notification", (n) => {
      if (n.channel === options.channel) options.onNotify(n.payload ?? "");
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${options.channel.replaceAll('"', '""')}"`);
      if (closed || client !== c) {
        await c.end().catch(() => undefined);
        return;
      }
      connected = true;
      backoff = min;
      options.onConnect?.();
    } catch (error) {
      onLost(error as Error);
    }
  };

  void connect();
  return {
    get connected() {
      return connected;
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      connected = false;
      if (c) {
        c.removeAllListeners();
        c.on("error", () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
