import type { Store } from "@reprise/store";
import type { RunHandle } from "../run-handle.js";

/** What `client.schedules` needs from its `Client`. */
export interface ScheduleClientHost {
  /** Runs a store call, turning driver failures into Reprise errors. */
  call<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  handle<O>(runId: string): RunHandle<O>;
}
