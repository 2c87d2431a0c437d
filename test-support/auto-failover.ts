import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { appendFile, chown, mkdir, mkdtemp, readFile, rm, chmod } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/** Where Debian's postgresql-15-auto-failover puts things. */
const PG_AUTOCTL = "/usr/bin/pg_autoctl";
const PG_BIN = "/usr/lib/postgresql/15/bin";

/** Why a pg_auto_failover cluster cannot be started here, or undefined when it can. */
export function autoFailoverMissing(): string | undefined {
  if (!existsSync(PG_AUTOCTL)) return `${PG_AUTOCTL} not found: apt-get install -y postgresql-15-auto-failover`;
  if (!existsSync(join(PG_BIN, "pg_ctl"))) return `PostgreSQL 15 binaries not found in ${PG_BIN}: apt-get install -y postgresql-15`;
  return undefined;
}

/** One Postgres node of the formation. */
export interface FailoverNode {
  name: string;
  port: number;
  pgdata: string;
}

/** A monitor, a primary and a synchronous standby, managed by pg_auto_failover, on loopback. */
export interface AutoFailoverCluster {
  /** The formation's URI, from the monitor: every node, `target_session_attrs=read-write`. */
  url: string;
  monitorUrl: string;
  nodes: readonly FailoverNode[];
  /** The node the monitor says is primary. */
  primary(): Promise<FailoverNode>;
  /** Every node's state as the monitor sees it, `name: reported/assigned`. */
  states(): Promise<string>;
  /**
   * SIGKILLs the node as a crashed machine would go: its pg_autoctl keeper and its
   * Postgres (the whole process group), so nothing restarts it.
   */
  kill(node: FailoverNode): Promise<void>;
  /** Waits until `node` takes writes. @returns ms waited */
  waitWritable(node: FailoverNode, timeoutMs: number): Promise<number>;
  /** What pg_autoctl printed (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Health checks tuned from seconds to about one, and the demote timeout (30 s by default:
 * how long the monitor waits for a primary it cannot reach to demote itself before it lets
 * the standby take writes) to 3 s, so a failover takes seconds. Safe here, where the dead
 * primary is known dead; in production keep the defaults (docs/failover.md).
 */
const MONITOR_SETTINGS: Record<string, number> = {
  "pgautofailover.health_check_period": 1_000,
  "pgautofailover.health_check_timeout": 1_000,
  "pgautofailover.health_check_max_retries": 2,
  "pgautofailover.health_check_retry_delay": 500,
  "pgautofailover.node_considered_unhealthy_timeout": 3_000,
  "pgautofailover.primary_demote_timeout": 3_000,
};

/**
 * Starts a monitor, a primary and a standby with pg_autoctl, each in a directory of a fresh
 * temporary folder owned by `postgres`, all listening on 127.0.0.1 only, with `trust` auth
 * on loopback and no SSL. pg_auto_failover makes the standby synchronous
 * (`synchronous_standby_names = ANY 1 (…)`): a commit returns once the standby has it.
 * The primary is initialised first with commit timestamps on, which the standby inherits
 * by its base backup.
 */
export async function startAutoFailover(options: { log?: (line: string) => void } = {}): Promise<AutoFailoverCluster> {
  const missing = autoFailoverMissing();
  if (missing) throw new Error(missing);
  const root = await mkdtemp(join(tmpdir(), "reprise-failover-"));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number((await run("id", ["-u", "postgres"])).stdout.trim()) : undefined;
  const gid = asRoot ? Number((await run("id", ["-g", "postgres"])).stdout.trim()) : undefined;
  await chmod(root, 0o755);
  for (const dir of ["xdg-config", "xdg-data", "xdg-run"]) await mkdir(join(root, dir), { mode: 0o700 });
  if (asRoot) for (const dir of ["", "xdg-config", "xdg-data", "xdg-run"]) await chown(join(root, dir), uid!, gid!);
  const env = {
    PATH: `${PG_BIN}:/usr/bin:/bin`,
    HOME: root,
    XDG_CONFIG_HOME: join(root, "xdg-config"),
    XDG_DATA_HOME: join(root, "xdg-data"),
    XDG_RUNTIME_DIR: join(root, "xdg-run"),
    LANG: "C.UTF-8",
  };
  /** A command as `postgres` (Postgres refuses to run as root), in that environment. */
  const command = (args: string[]): [string, string[]] => {
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return asRoot ? ["runuser", ["-u", "postgres", "--", "env", "-i", ...envArgs, ...args]] : ["env", ["-i", ...envArgs, ...args]];
  };
  let output = "";
  const services: ChildProcess[] = [];
  const serve = (name: string, args: string[]) => {
    const [file, argv] = command([PG_AUTOCTL, ...args]);
    // detached: a session and process group of its own, which kill() takes down whole.
    const child = spawn(file, argv, { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString().replace(/^/gm, `[${name}] `)).slice(-40_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    services.push(child);
  };
  const [monitorPort, ...nodePorts] = await Promise.all([freePort(), freePort(), freePort()]);
  const monitorUrl = `postgres://postgres@127.0.0.1:${monitorPort}/pg_auto_failover`;
  const nodes: FailoverNode[] = nodePorts.map((port, i) => ({ name: `node_${i + 1}`, port: port!, pgdata: join(root, `node_${i + 1}`) }));
  const common = ["--hostname", "127.0.0.1", "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl"];
  const log = options.log ?? (() => undefined);

  const cluster: AutoFailoverCluster = {
    url: "",
    monitorUrl,
    nodes,
    async primary() {
      const [row] = await query<{ primary_port: number }>(monitorUrl, "SELECT primary_port FROM pgautofailover.get_primary('default', 0)");
      const node = nodes.find((n) => n.port === row?.primary_port);
      if (!node) throw new Error(`the monitor names no primary (${await cluster.states()})`);
      return node;
    },
    async states() {
      const rows = await query<{ nodename: string; current_group_state: string; assigned_group_state: string }>(
        monitorUrl,
        "SELECT nodename, current_group_state, assigned_group_state FROM pgautofailover.current_state('default')",
      ).catch((e: Error) => [{ nodename: "monitor", current_group_state: "unreachable", assigned_group_state: e.message }]);
      return rows.map((r) => `${r.nodename}: ${r.current_group_state}/${r.assigned_group_state}`).join(", ");
    },
    kill: (node) => killGroupOf(node.pgdata),
    async waitWritable(node, timeoutMs) {
      const started = Date.now();
      for (;;) {
        const writable = await query<{ ok: boolean }>(`postgres://postgres@127.0.0.1:${node.port}/postgres`, "SELECT current_setting('transaction_read_only') = 'off' AS ok").then(
          (rows) => rows[0]?.ok === true,
          () => false,
        );
        if (writable) return Date.now() - started;
        if (Date.now() - started > timeoutMs) throw new Error(`${node.name} did not take writes within ${timeoutMs} ms (${await cluster.states()})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    logs: () => output,
    async stop() {
      // Everything goes at once: the directories are deleted after, so nothing needs a clean stop.
      for (const pgdata of [join(root, "monitor"), ...nodes.map((n) => n.pgdata)]) await killGroupOf(pgdata).catch(() => undefined);
      for (const child of services) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await Promise.all(services.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once("exit", r)) : undefined)));
      await rm(root, { recursive: true, force: true });
    },
  };

  try {
    serve("monitor", ["create", "monitor", "--pgdata", join(root, "monitor"), "--pgport", String(monitorPort), ...common, "--run"]);
    await waitFor(async () => (await query(monitorUrl, "SELECT 1 FROM pgautofailover.formation")).length > 0, 60_000, "the monitor", () => output);
    for (const [name, value] of Object.entries(MONITOR_SETTINGS)) await query(monitorUrl, `ALTER SYSTEM SET ${name} = ${value}`);
    await query(monitorUrl, "SELECT pg_reload_conf()");
    const monitorUri = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`;

    // The primary-to-be, initialised by us so that its configuration can be set first.
    const [initdb, initArgs] = command([join(PG_BIN, "initdb"), "-D", nodes[0]!.pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await run(initdb, initArgs, { cwd: root });
    await appendFile(nodes[0]!.pgdata + "/postgresql.conf", "\ntrack_commit_timestamp = on\nmax_connections = 200\nfsync = off\n");
    for (const [i, node] of nodes.entries()) {
      serve(node.name, ["create", "postgres", "--pgdata", node.pgdata, "--pgport", String(node.port), "--name", node.name, ...common, "--monitor", monitorUri, "--run"]);
      const want = i === 0 ? ["single", "wait_primary", "primary"] : ["secondary"];
      await waitFor(
        async () => {
          const rows = await query<{ nodename: string; current_group_state: string; assigned_group_state: string }>(
            monitorUrl,
            "SELECT nodename, current_group_state::text, assigned_group_state::text FROM pgautofailover.current_state('default')",
          );
          const row = rows.find((r) => r.nodename === node.name);
          return row !== undefined && row.current_group_state === row.assigned_group_state && want.includes(row.current_group_state);
        },
        120_000,
        `${node.name} to be ${want.join(" or ")}`,
        () => output,
      );
      log(`${node.name} on port ${node.port}: ${await cluster.states()}`);
    }
    await waitFor(async () => (await cluster.states()).includes("node_1: primary/primary"), 60_000, "node_1 to be primary with a standby", () => output);
    const [uri] = await query<{ uri: string }>(monitorUrl, "SELECT pgautofailover.formation_uri('default', 'default', 'disable') AS uri");
    // The formation's URI names no user (libpq would take the login's): the application's is added.
    (cluster as { url: string }).url = uri!.uri.replace("postgres://", "postgres://postgres@");
    return cluster;
  } catch (error) {
    const text = output;
    await cluster.stop().catch(() => undefined);
    throw new Error(`pg_auto_failover did not come up: ${(error as Error).message}\n${text.slice(-4_000)}`);
  }
}

/**
 * SIGKILLs the process group of the Postgres in `pgdata`: each node's runuser, pg_autoctl
 * keeper, its services and its Postgres share a group of their own (spawned detached), so
 * this is the node's machine dying.
 */
async function killGroupOf(pgdata: string): Promise<void> {
  const pid = Number((await readFile(join(pgdata, "postmaster.pid"), "utf8")).split("\n")[0]);
  const groupOf = async (p: number | "self") => Number((await readFile(`/proc/${p}/stat`, "utf8")).replace(/^.*\) /s, "").split(" ")[2]);
  const group = await groupOf(pid);
  if (group <= 1 || group === (await groupOf("self"))) throw new Error(`refusing to kill process group ${group}: it is not the node's own`);
  process.kill(-group, "SIGKILL");
}

async function query<R extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ""}\n${output().slice(-3_000)}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
