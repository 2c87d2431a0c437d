import type { GoldenScenario } from "../../../test-support/goldens.js";
import { demoOrders } from "../index.js";
import { orderCheckout } from "../workflow.js";

export const scenarios: GoldenScenario[] = [
  { name: "pickup-completes", workflow: orderCheckout, input: demoOrders[0] },
  { name: "shipped-card-declined", workflow: orderCheckout, input: demoOrders[1] },
];
