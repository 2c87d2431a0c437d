const failurePosition = Symbol("reprise.failurePosition");
const MAX_CAUSE_DEPTH = 8;

/**
 * Marks an error thrown into the workflow with the position whose failure it reports, so
 * that a run failing with it records where (a manual retry reopens exactly that position).
 */
export function markPosition<E extends Error>(error: E, position: number): E {
  Object.defineProperty(error, failurePosition, { value: position, enumerable: false });
  return error;
}

/** The position marked on `error` or on an error in its `cause` chain, if any. */
export function failedPosition(error: Error): number | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < MAX_CAUSE_DEPTH; e = e.cause, depth++) {
    const marked = (e as unknown as Record<symbol, unknown>)[failurePosition];
    if (typeof marked === "number") return marked;
  }
  return undefined;
}
