import { workflow } from "@reprise/sdk";
import { z } from "zod";

/**
 * Pushes the day's invoices to an accounting API. While the API is down (`healthy: false`)
 * the push fails at once — no retries, so that the demo's failures come quickly; a real
 * workflow would retry first, and the alert would come when it gave up.
 */
export const syncInvoices = workflow(
  { name: "sync-invoices", input: z.object({ healthy: z.boolean().default(false) }) },
  async (ctx, { healthy }) => {
    ctx.log.info("syncing the day's invoices");
    return ctx.step(
      "push",
      ({ log }) => {
        log.info("pushing 42 invoices to the accounting API");
        if (!healthy) {
          log.warn("the accounting API answered 503", { status: 503, retryAfter: "30s" });
          throw new Error("503 Service Unavailable from the accounting API");
        }
        return { pushed: 42 };
      },
      { retry: { maxAttempts: 1 } },
    );
  },
);
