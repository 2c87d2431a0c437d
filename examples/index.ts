// Every example workflow, for `reprise dev` (which runs the crash-resume demo).
export { crashResume, dev } from "./crash-resume/index.js";
export { approvalRequest, provisionItem } from "./approval/index.js";
