import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A webhook receiver on loopback that prints what it gets, one line per request, and drops
 * a repeat of an Idempotency-Key it has seen (as a real receiver should). Unref'd: it does
 * not keep the process alive.
 */
export async function startReceiver(log: (line: string) => void = (line) => console.log(line)): Promise<{ url: string; received: number }> {
  const seen = new Set<string>();
  const state = { url: "", received: 0 };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const key = String(req.headers["idempotency-key"] ?? "");
      if (seen.has(key)) {
        log(`[webhook ${req.url}] repeat of ${key}, dropped`);
      } else {
        seen.add(key);
        state.received++;
        const alert = JSON.parse(body) as { id: string; notification: string; severity: string; rule: string; count: number };
        log(`[webhook ${req.url}] ${alert.notification} alert ${alert.id} (${alert.severity}, rule ${alert.rule}, count ${alert.count}), Idempotency-Key ${key}`);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
