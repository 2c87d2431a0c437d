import { SignalTimeoutError, ValidationError, workflow } from "@reprise/sdk";
import { z } from "zod";

/**
 * Provisions one item (a server, a mailbox, a seat): a child workflow, one run per item.
 * `stepCtx.idempotencyKey` is what a real provisioning API would be given, so that a retry
 * after a crash does not provision twice.
 */
export const provisionItem = workflow(
  { name: "provision-item", input: z.object({ item: z.string().min(1), requestedBy: z.string() }) },
  async (ctx, { item, requestedBy }) => {
    const host = await ctx.step("allocate", async ({ idempotencyKey, log }) => {
      log.info(`allocating ${item} (idempotency key ${idempotencyKey})`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      return `${item}.internal`;
    });
    await ctx.step("configure", () => `configured ${host} for ${requestedBy}`);
    return { item, host };
  },
);

/** What an approver sends: `{"by":"ada"}` approves, `{"by":"ada","approved":false}` declines. */
export const decision = z.object({ by: z.string().min(1), approved: z.boolean().default(true), note: z.string().optional() });

/**
 * An access request that needs a human: it validates the request, waits out a short
 * cooling-off period (a durable sleep: the run is parked in Postgres, not in a worker's
 * memory), waits for an `approve` signal for up to `approvalTimeout`, then provisions every
 * item in parallel as child workflows and reports what it made.
 */
export const approvalRequest = workflow(
  {
    name: "approval-request",
    input: z.object({
      requestedBy: z.string().min(1),
      items: z.array(z.string().min(1)).min(1).max(20),
      coolingOff: z.string().default("3s"),
      approvalTimeout: z.string().default("10m"),
    }),
    // client.signal() checks payloads against this before anything is stored.
    signals: { approve: decision },
  },
  async (ctx, { requestedBy, items, coolingOff, approvalTimeout }) => {
    const request = await ctx.step("validate", () => ({ requestedBy, items: [...new Set(items)].sort() }));
    ctx.log.info(`request by ${requestedBy} for ${request.items.join(", ")}: cooling off for ${coolingOff}`);
    await ctx.sleep(coolingOff);

    let approval: z.infer<typeof decision>;
    try {
      approval = await ctx.waitForSignal<z.infer<typeof decision>>("approve", { timeout: approvalTimeout });
    } catch (error) {
      if (error instanceof SignalTimeoutError) return { outcome: "expired" as const, requestedBy, waitedFor: approvalTimeout };
      // A payload sent without the workflow's code at hand (the CLI) is checked here instead.
      if (error instanceof ValidationError) return { outcome: "rejected" as const, requestedBy, reason: `malformed approval: ${error.message}` };
      throw error;
    }
    if (!approval.approved) return { outcome: "declined" as const, requestedBy, by: approval.by, note: approval.note };

    const provisioned = await Promise.all(request.items.map((item) => ctx.child(provisionItem, { item, requestedBy })));
    await ctx.step("notify", ({ log }) => log.info(`told ${requestedBy}: ${provisioned.length} item(s) ready, approved by ${approval.by}`));
    return { outcome: "provisioned" as const, requestedBy, approvedBy: approval.by, provisioned };
  },
);
