import { serializeError, type SerializedError } from "../error-codec.js";
import type { FailureHook, FailureInfo } from "../workflow-types.js";
import type { HostTimers } from "./host.js";

/**
 * Calls a failure hook, giving up after `timeoutMs`. Never throws: returns the stored form
 * of what the hook threw (or of the timeout), `undefined` when it succeeded.
 */
export async function callFailureHook(hook: FailureHook, info: FailureInfo, timeoutMs: number, timers: HostTimers): Promise<SerializedError | undefined> {
  let cancel: (() => void) | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(() => hook(info)),
      new Promise<never>((_, reject) => {
        cancel = timers.setTimer(() => reject(new Error(`the onFailure hook did not finish within ${timeoutMs}ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (thrown) {
    return serializeError(thrown);
  } finally {
    cancel?.();
  }
}
