import pg from "pg";
import { StoreError, StoreErrorCode } from "./errors.js";

/**
 * How to open connections for a connection string: the client class and the config to give
 * it (or to a pool, which passes `Client` on).
 */
export interface PgConnection {
  Client: typeof pg.Client;
  config: pg.ClientConfig;
}

/** libpq's `target_session_attrs` values this client understands. */
const TARGETS = ["any", "read-write", "primary"] as const;
type Target = (typeof TARGETS)[number];

/** One host of a multi-host connection string, as a single-host URL node-postgres can read. */
interface HostEntry {
  host: string;
  port: number;
  url: string;
}

interface HostList {
  hosts: readonly HostEntry[];
  target: Target;
  /** Seconds, from `connect_timeout` (as libpq). */
  connectTimeoutMs: number;
  /** The host the last connection found writable: tried first, without a probe. */
  known: number | undefined;
}

// `postgres://user:pass@h1:5432,h2:5433/db?…`: the authority holds a comma.
const MULTI_HOST = /^(postgres(?:ql)?:\/\/)((?:[^@/?#]*@)?)([^/?#]*,[^/?#]*)(.*)$/s;

/** True when the connection string names more than one host (libpq's `host1:port1,host2:port2`). */
export function isMultiHost(connectionString: string): boolean {
  return MULTI_HOST.test(connectionString);
}

/**
 * node-postgres takes one host per connection string: `postgres://a:5432,b:5432/db` is not
 * even a URL to it. For a string that names several, connections go through a client that
 * does what libpq does with `target_session_attrs`: it tries the hosts in order and keeps
 * the first that accepts the connection and, for `read-write` (or `primary`), takes writes.
 * That is how workers follow a failover: when the primary dies, its connections fail, and
 * the next connection finds the promoted standby. A single host goes to node-postgres as is.
 *
 * ```ts
 * const { Client, config } = pgConnection("postgres://app@10.0.0.1:5432,10.0.0.2:5432/app?target_session_attrs=read-write");
 * const pool = new pg.Pool({ ...config, Client });
 * ```
 */
export function pgConnection(connectionString: string): PgConnection {
  const list = parseHosts(connectionString);
  if (!list) return { Client: pg.Client, config: { connectionString } };
  return { Client: clientFor(list), config: { connectionString: list.hosts[0]!.url } };
}

/**
 * The hosts of a multi-host connection string, or undefined for a single host.
 * @throws StoreError (INVALID_ARGUMENT) for a host list or `target_session_attrs` it cannot use
 */
export function parseHosts(connectionString: string): HostList | undefined {
  const match = MULTI_HOST.exec(connectionString);
  if (!match) return undefined;
  const [, scheme, userInfo, authority, rest] = match as unknown as [string, string, string, string, string];
  const hosts = authority.split(",").map((part): HostEntry => {
    const hostPort = /^(\[[0-9a-fA-F:.]+\]|[\w.-]+)(?::(\d+))?$/.exec(part.trim());
    if (!hostPort) throw new StoreError(StoreErrorCode.InvalidArgument, `the connection string's host list has an entry that is no host[:port]: ${JSON.stringify(part)}`);
    const host = hostPort[1]!;
    const port = Number(hostPort[2] ?? 5432);
    const url = new URL(`${scheme}${userInfo}${host}:${port}${rest}`);
    // Our own parameters; node-postgres would pass unknown ones to the server as settings.
    url.searchParams.delete("target_session_attrs");
    url.searchParams.delete("connect_timeout");
    return { host: host.replace(/^\[(.*)\]$/, "$1"), port, url: url.toString() };
  });
  const params = new URL(`${scheme}${userInfo}${hosts[0]!.host.includes(":") ? `[${hosts[0]!.host}]` : hosts[0]!.host}${rest}`).searchParams;
  const target = (params.get("target_session_attrs") ?? "any") as Target;
  if (!TARGETS.includes(target)) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `target_session_attrs=${target} is not supported with several hosts (use ${TARGETS.join(", ")})`);
  }
  const timeout = Number(params.get("connect_timeout") ?? 5);
  return { hosts, target, connectTimeoutMs: (Number.isFinite(timeout) && timeout > 0 ? timeout : 5) * 1_000, known: undefined };
}

/** Whether a connected client's server is one the string asks for. */
async function accepts(client: pg.Client, target: Target): Promise<boolean> {
  if (target === "any") return true;
  // libpq's read-write check: a promoted standby that an HA manager still holds read-only
  // (pg_auto_failover does until the old primary is known to be down) is not writable yet.
  const sql = target === "read-write" ? "SELECT current_setting('transaction_read_only') = 'off' AS ok" : "SELECT NOT pg_is_in_recovery() AS ok";
  const { rows } = await client.query<{ ok: boolean }>(sql);
  return rows[0]?.ok === true;
}

/** Finds the first host that accepts a probe connection and is what `target` asks for. */
async function findHost(list: HostList, base: pg.ClientConfig): Promise<number> {
  const reasons: string[] = [];
  for (let i = 0; i < list.hosts.length; i++) {
    const entry = list.hosts[i]!;
    const probe = new pg.Client({ ...base, connectionString: entry.url, connectionTimeoutMillis: list.connectTimeoutMs });
    probe.on("error", () => undefined);
    let connected = false;
    try {
      await probe.connect();
      connected = true;
      if (await accepts(probe, list.target)) return i;
      reasons.push(`${entry.host}:${entry.port} is read-only`);
    } catch (error) {
      reasons.push(`${entry.host}:${entry.port}: ${(error as Error).message}`);
    } finally {
      // Only a connected client says goodbye: ending one whose connect failed never settles.
      if (connected) void probe.end().catch(() => undefined);
    }
  }
  throw new StoreError(StoreErrorCode.Connection, `no host of the connection string takes ${list.target === "any" ? "connections" : "writes"} (${reasons.join("; ")})`);
}

/**
 * A node-postgres client bound to a host list. A pg client connects once, so choosing a host
 * cannot be retried on the same object: the host that last worked is tried directly (one
 * connection, no probe, the steady state); when it is not known, or it failed, throwaway
 * probes find the host first. A connection that lands on the wrong server (the primary
 * moved between probe and connect) is refused with a connection error, which callers
 * already retry.
 */
function clientFor(list: HostList): typeof pg.Client {
  class MultiHostClient extends pg.Client {
    private readonly base: pg.ClientConfig;
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      this.base = typeof config === "object" ? config : {};
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, c: pg.Client) => void)): Promise<pg.Client> | void {
      const connecting = this.connectToTarget();
      if (!callback) return connecting;
      const done = callback as (err: Error | null, c?: pg.Client) => void;
      connecting.then((c) => done(null, c), (error: Error) => done(error));
    }

    private async connectToTarget(): Promise<pg.Client> {
      const index = list.known ?? (await findHost(list, this.base));
      const entry = list.hosts[index]!;
      this.host = entry.host;
      this.port = entry.port;
      let connected = false;
      try {
        await super.connect();
        connected = true;
        if (!(await accepts(this, list.target))) throw new Error(`${entry.host}:${entry.port} is read-only now`);
      } catch (error) {
        if (list.known === index) list.known = undefined;
        // Not awaited: after a failed connect the socket is gone and `end()` would never settle.
        if (connected) void this.end().catch(() => undefined);
        throw new StoreError(StoreErrorCode.Connection, `connection to ${entry.host}:${entry.port} failed: ${(error as Error).message}`, { cause: error });
      }
      list.known = index;
      return this;
    }
  }
  return MultiHostClient;
}
