import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, workflow, type Alert, type AlertInfo } from "@reprise/sdk";
import { silentLogger, Worker, type AlertChannel, type AlertDelivery, type AlertsOptions, type WorkerOptions } from "@reprise/worker";
import { afterAll } from "vitest";
import { useTestSchema, type TestSchema } from "../../../../test-support/db.js";
import { waitFor } from "../../../../test-support/wait.js";

/** A request the receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/**
 * A webhook receiver on loopback. `answer` decides each response: a status, or "hang" to
 * never answer (a receiver that took the request and then went silent).
 */
export async function startReceiver(answer: (request: Received, index: number) => number | "hang" = () => 200) {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const request = { headers: req.headers, body: JSON.parse(text) as Record<string, unknown> };
      requests.push(request);
      const status = answer(request, requests.length - 1);
      if (status === "hang") return;
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "unavailable");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/alerts`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A channel that keeps what it was given. */
export function captureChannel(): { channel: AlertChannel; got: { alert: Alert; delivery: Omit<AlertDelivery, "signal"> }[] } {
  const got: { alert: Alert; delivery: Omit<AlertDelivery, "signal"> }[] = [];
  const channel: AlertChannel = (alert, { signal: _signal, ...delivery }) => void got.push({ alert, delivery });
  return { channel, got };
}

/**
 * A workflow whose one step logs two lines and fails at once (no retry), unless the input
 * says `ok`. With `hookMs`, its onFailure hook takes that long: the run's RunFailed is
 * recorded before the hook runs, and the run shows failed only after it.
 */
export function failingWorkflow(name: string, options: { step?: string; error?: string; hookMs?: number } = {}) {
  const hook = options.hookMs === undefined ? {} : { onFailure: () => new Promise<void>((resolve) => setTimeout(resolve, options.hookMs)) };
  return workflow({ name, ...hook }, async (ctx, input: { ok?: boolean } | undefined) => {
    return ctx.step(
      options.step ?? "extract",
      ({ log }) => {
        log.info("connecting to the warehouse");
        if (input?.ok) return "done";
        log.warn("the warehouse answered 503", { status: 503 });
        throw new Error(options.error ?? "503 from the warehouse");
      },
      { retry: { maxAttempts: 1 } },
    );
  });
}

/** A schema, a client and workers with alerts that are stopped after the file. */
export function useAlerts(): {
  db: TestSchema;
  client: Client;
  worker(options: Partial<WorkerOptions> & Pick<WorkerOptions, "workflows"> & { alerts: AlertsOptions }): Promise<Worker>;
} {
  const db = useTestSchema();
  const client = new Client(db.connection);
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await client.close();
  });
  return {
    db,
    client,
    async worker(options) {
      const worker = new Worker({ ...db.connection, pollInterval: "50ms", logger: silentLogger, ...options, alerts: { interval: "50ms", ...options.alerts } });
      workers.push(worker);
      await worker.start();
      return worker;
    },
  };
}

/** Runs `wf` to its end (a failure is expected, not thrown). */
export async function runToEnd(client: Client, wf: Parameters<Client["start"]>[0], input?: unknown): Promise<string> {
  const handle = await client.start(wf, input as never);
  await handle.result({ timeout: "20s" }).catch(() => undefined);
  return handle.id;
}

/** Waits until the inbox is empty: every fact so far has been evaluated (and what it caused committed). */
export async function evaluated(db: TestSchema): Promise<void> {
  await waitFor(async () => {
    const [row] = await db.sql<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".alert_inbox`);
    return row!.n === "0";
  }, { what: "the alert inbox to be evaluated" });
}

/** Waits until every delivery of the schema is delivered (and returns the alerts). */
export async function allDelivered(client: Client, count?: number): Promise<AlertInfo[]> {
  return waitFor(async () => {
    const alerts = await client.alerts.list();
    const deliveries = alerts.flatMap((a) => a.deliveries);
    if (count !== undefined && deliveries.length < count) return undefined;
    return deliveries.length > 0 && deliveries.every((d) => d.status === "delivered") ? alerts : undefined;
  }, { what: "every delivery to be delivered" });
}
