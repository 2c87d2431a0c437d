import { WorkflowFailedError, type Client } from "@reprise/sdk";
import { orderCheckout } from "./workflow.js";

export { orderCheckout };

/** Orders for `reprise dev`: the pickup one completes, the shipped one fails. */
export const demoOrders = [
  { orderId: "A-1001", items: [{ sku: "mug", cents: 1250, qty: 2 }], delivery: "pickup" as const },
  { orderId: "A-1002", items: [{ sku: "mug", cents: 1250, qty: 2 }], delivery: "ship" as const },
];

/**
 * Called by `reprise dev examples/order-checkout/index.ts`: places the two demo orders and
 * prints how to reproduce the failed one.
 */
export async function dev({ client, log }: { client: Client; log: (line: string) => void }): Promise<void> {
  for (const order of demoOrders) {
    const handle = await client.start(orderCheckout, order, { id: `order-${order.orderId}` });
    try {
      const result = await handle.result();
      log(`run ${handle.id} completed: charged ${result.total} cents (${result.chargeId})`);
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? error.cause : (error as Error);
      log(`run ${handle.id} failed: ${cause.name}: ${cause.message}`);
      log(`  reproduce it, with no side effects:  npx reprise replay ${handle.id} --entry examples/order-checkout/index.ts`);
      log(`  step through it in a debugger:       npx reprise replay ${handle.id} --entry examples/order-checkout/index.ts --inspect --break-on-failure`);
    }
  }
}
