import { serializeError, type SerializedError } from "./errors.js";
import type { FailureHook, FailureInfo } from "./workflow.js";

/**
 * Calls a failure hook, giving up after `timeoutMs`. Never throws: returns the stored form
 * of what the hook threw (or of the timeout), `undefined` when it succeeded.
 */
export async function callFailureHook(hook: FailureHook, info: FailureInfo, timeoutMs: number): Promise<SerializedError | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(() => hook(info)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the onFailure hook did not finish within ${timeoutMs}ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (thrown) {
    return serializeError(thrown);
  } finally {
    clearTimeout(timer);
  }
}
