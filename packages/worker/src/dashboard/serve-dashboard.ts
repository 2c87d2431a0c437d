import { createServer, type Server } from "node:http";
import type { Store } from "@reprise/store";
import { WorkerConfigError } from "../errors.js";
import { dashboard } from "./dashboard.js";

/** Options of {@link serveDashboard}. */
export interface ServeDashboardOptions {
  store: Store;
  /** @default 7777 (0: any free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Required unless `host` is loopback. @default process.env.REPRISE_DASHBOARD_TOKEN */
  token?: string;
}

/** A running dashboard server. */
export interface ServedDashboard {
  readonly url: string;
  readonly server: Server;
  /** Stops the server and ends its connections. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** True for the loopback interface (where only this machine's users can connect). */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Serves the dashboard on its own HTTP server. Bound to loopback by default; any other host
 * needs a token. A loopback dashboard without a token accepts only requests addressed to
 * loopback names, so a web page cannot reach it through DNS rebinding.
 *
 * @throws WorkerConfigError for a non-loopback host without a token
 */
export async function serveDashboard(options: ServeDashboardOptions): Promise<ServedDashboard> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? (process.env.REPRISE_DASHBOARD_TOKEN || undefined);
  if (!isLoopback(host) && !token) {
    throw new WorkerConfigError(`the dashboard listens on ${host}, beyond this machine: give it a token (--token or REPRISE_DASHBOARD_TOKEN)`);
  }
  const handler = dashboard({ store: options.store, ...(token ? { token } : {}) });
  const server = createServer((req, res) => {
    if (!token) {
      const name = (req.headers.host ?? "").replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
      if (!isLoopback(name)) {
        res.writeHead(421, { "content-type": "text/plain" }).end("this dashboard answers only to loopback names");
        return;
      }
    }
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 7777, host, () => resolve());
  });
  const address = server.address() as { port: number };
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        handler.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
