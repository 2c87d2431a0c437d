export { Worker } from "./worker.js";
export type { WorkerOptions, ResolvedWorkerOptions, MetricsOptions } from "./options.js";
export { consoleLogger, silentLogger } from "./logger.js";
export type { WorkerLogger, LogLevel } from "./logger.js";
export { LeaseLostError, WorkerConfigError } from "./errors.js";
export { Scheduler } from "./scheduler/scheduler.js";
export type { SchedulerOptions, TickReport } from "./scheduler/scheduler.js";
export { planTick, ON_TIME_MS, MAX_SLOTS_PER_TICK } from "./scheduler/plan-tick.js";
export type { TickPlan } from "./scheduler/plan-tick.js";
