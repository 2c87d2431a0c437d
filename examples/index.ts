// Every example workflow, for `reprise dev` (which runs the crash-resume demo).
export { crashResume, dev } from "./crash-resume/index.js";
export { nightlyPipeline } from "./nightly-pipeline/index.js";
export { orderCheckout } from "./order-checkout/index.js";
export { prefectRetry } from "./prefect-retry/workflow.js";
export { robustPipeline } from "./robust-pipeline/workflow.js";
export { approvalRequest, provisionItem } from "./approval/index.js";
