export { Worker } from "./worker.js";
export type { WorkerOptions, ResolvedWorkerOptions } from "./options.js";
export { consoleLogger, silentLogger } from "./logger.js";
export type { WorkerLogger, LogLevel } from "./logger.js";
export { LeaseLostError, WorkerConfigError } from "./errors.js";
