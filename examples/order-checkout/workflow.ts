import { NonRetryableError, workflow } from "@reprise/sdk";
import { z } from "zod";

const Order = z.object({
  orderId: z.string(),
  items: z.array(z.object({ sku: z.string(), cents: z.number().int().min(0), qty: z.number().int().min(1) })).min(1),
  delivery: z.enum(["ship", "pickup"]),
  cardLimitCents: z.number().int().default(100_000),
});

/** What the carrier's API client says it returns. */
interface Quote {
  carrier: string;
  cents: number;
}

/** The (pretend) carrier API: times out on the first try, then answers. */
async function carrierQuote(orderId: string, attempt: number): Promise<Quote> {
  if (attempt === 1) throw new Error(`carrier API timed out quoting ${orderId}`);
  // The API sends the price as a JSON string, whatever the client's types say.
  return JSON.parse('{ "carrier": "dhl", "cents": "499" }') as Quote;
}

/** The (pretend) payment provider: declines amounts over the card's limit. */
async function chargeCard(orderId: string, amount: number, limit: number): Promise<{ chargeId: string }> {
  if (Number(amount) > limit) throw new NonRetryableError(`card declined: ${amount} cents is over the card's limit of ${limit}`);
  return { chargeId: `ch_${orderId}` };
}

/**
 * Prices an order, quotes shipping (the carrier's API times out once, then answers) and
 * charges the card. It has a bug that only shows on shipped orders: see the README's
 * "Debugging a failed run" for how `reprise replay` finds it without calling any API again.
 */
export const orderCheckout = workflow(
  { name: "order-checkout", input: Order, retry: { maxAttempts: 3, initialDelay: "200ms", jitter: 0 } },
  async (ctx, order) => {
    const placedAt = ctx.now().toISOString();
    const subtotal = await ctx.step("price-cart", () => order.items.reduce((sum, item) => sum + item.cents * item.qty, 0));
    let total = subtotal;
    if (order.delivery === "ship") {
      const quote = await ctx.step("quote-shipping", ({ attempt }) => carrierQuote(order.orderId, attempt));
      total = subtotal + quote.cents;
    }
    const charge = await ctx.step("charge-card", () => chargeCard(order.orderId, total, order.cardLimitCents));
    return { orderId: order.orderId, placedAt, total, chargeId: charge.chargeId };
  },
);
