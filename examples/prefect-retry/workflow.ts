import { existsSync } from "node:fs";
import { workflow } from "@reprise/sdk";
import { z } from "zod";

/** How often each step's function ran in this process, per run (the demo prints it). */
export const executions = new Map<string, { "create-payload": number; ping: number }>();

function counted(runId: string, step: "create-payload" | "ping"): number {
  const counts = executions.get(runId) ?? { "create-payload": 0, ping: 0 };
  executions.set(runId, counts);
  return ++counts[step];
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
  });
}

/**
 * Prefect's "cache the inputs, rerun only the failed task": an expensive `create-payload`
 * step, then a `ping` that fails while the service is down. The service is "up" while the
 * file `serviceUpFile` exists. When the run has failed, `npx reprise runs retry <id>` runs
 * `ping` again — and only `ping`: `create-payload` returns its recorded result.
 */
export const prefectRetry = workflow(
  {
    name: "prefect-retry",
    input: z.object({
      url: z.string().url().default("https://status.example.com/health"),
      serviceUpFile: z.string().default(".reprise/prefect-retry/service-up"),
      payloadMs: z.number().int().min(0).max(60_000).default(2_000),
    }),
  },
  async (ctx, input) => {
    const payload = await ctx.step("create-payload", async ({ log, signal }) => {
      const n = counted(ctx.runId, "create-payload");
      log.info(`building the payload for ${input.url}: expensive, ${input.payloadMs} ms (execution #${n} of this step)`);
      await pause(input.payloadMs, signal);
      return { url: input.url, probe: `probe-${Math.random().toString(36).slice(2, 8)}`, builtAt: new Date().toISOString() };
    });

    return ctx.step(
      "ping",
      async ({ attempt, log }) => {
        counted(ctx.runId, "ping");
        if (!existsSync(input.serviceUpFile)) {
          log.warn(`attempt ${attempt}: service down (no ${input.serviceUpFile})`);
          throw new Error(`connect ECONNREFUSED ${payload.url}`);
        }
        log.info(`attempt ${attempt}: service up`);
        return `pong from ${payload.url} with ${payload.probe}, built at ${payload.builtAt}`;
      },
      { retry: { maxAttempts: 3, initialDelay: "300ms", backoff: "exponential", factor: 2, jitter: 0 }, timeout: "10s" },
    );
  },
);
