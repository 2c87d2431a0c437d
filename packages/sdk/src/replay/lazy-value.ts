/**
 * A promise that starts its work only once someone looks at it (`then`, `catch`,
 * `finally`, `await`, `Promise.all`…): what `ctx.step` returns for a recorded result that
 * is stored out of line. A replay that never awaits it — its value went into a step that
 * is recorded too, so that step's function does not run — never loads it.
 *
 * A subclass of Promise, so it is one wherever a Promise is expected. Promises derived from
 * it (`then`'s result) are plain ones: `Symbol.species` says so.
 */
export class LazyValue<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  private start: (() => void) | undefined;

  /** A promise of what `load` resolves to, `load` being called on first use. */
  static of<T>(load: () => Promise<T>): LazyValue<T> {
    let settle!: { resolve: (value: T) => void; reject: (error: unknown) => void };
    const lazy = new LazyValue<T>((resolve, reject) => (settle = { resolve, reject }));
    lazy.start = () => load().then(settle.resolve, settle.reject);
    return lazy;
  }

  override then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const start = this.start;
    this.start = undefined;
    start?.();
    return super.then(onFulfilled, onRejected);
  }
}
