import type { HostTimers } from "./host.js";

// setImmediate runs after pending I/O callbacks as well as microtasks; where a runtime
// lacks it, a zero-delay timeout gives the same "everything queued has run".
const defer: (fn: () => void) => void =
  typeof globalThis.setImmediate === "function" ? (fn) => void globalThis.setImmediate(fn) : (fn) => void globalThis.setTimeout(fn, 0);

/**
 * The timers of the JavaScript event loop, for hosts that run on it (the worker's, a
 * replay's, a test's). The engine itself never touches a global timer: a host could as
 * well drive it with a fake clock.
 */
export const eventLoopTimers: HostTimers = {
  setTimer(fn, ms) {
    const timer = globalThis.setTimeout(fn, ms);
    return () => globalThis.clearTimeout(timer);
  },
  defer,
  monotonic: () => globalThis.performance.now(),
};
