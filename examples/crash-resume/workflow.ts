import { workflow } from "@reprise/sdk";
import { z } from "zod";

/**
 * Eight slow steps. Kill the process that runs it in the middle (`kill -9`, or Ctrl-C
 * twice) and start it again: the run goes on from the step that was in flight. The result
 * lists which process ran each step, so you can see that no completed step ran twice.
 */
export const crashResume = workflow(
  {
    name: "crash-resume",
    input: z.object({
      steps: z.number().int().min(1).max(100).default(8),
      stepMs: z.number().int().min(0).max(60_000).default(1_500),
    }),
  },
  async (ctx, { steps, stepMs }) => {
    const ran: { step: number; pid: number; at: string }[] = [];
    for (let i = 1; i <= steps; i++) {
      ran.push(
        await ctx.step(`step-${i}`, async ({ signal, log }) => {
          log.info(`step ${i}/${steps}: working for ${stepMs}ms in process ${process.pid}`);
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, stepMs);
            signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
          });
          return { step: i, pid: process.pid, at: new Date().toISOString() };
        }),
      );
    }
    return { steps: ran.length, processes: [...new Set(ran.map((r) => r.pid))], ran };
  },
);
