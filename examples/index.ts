// Every example workflow, for `reprise dev` (which runs the crash-resume demo).
export { crashResume, dev } from "./crash-resume/index.js";
export { nightlyPipeline } from "./nightly-pipeline/index.js";
export { orderCheckout } from "./order-checkout/index.js";
