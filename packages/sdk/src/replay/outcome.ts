import type { HistoryEvent } from "../events.js";
import type { NonDeterminismError } from "../errors.js";
import type { SerializedError } from "../error-codec.js";

/** How a run execution ended (for now): what the worker must record next. */
export type Outcome =
  /** The output as the JSON text recorded with `RunCompleted` (undefined: none). */
  | { status: "completed"; outputText: string | undefined }
  /** `thrown` is the error itself (for `replay()`); the worker records `error`. */
  | { status: "failed"; error: SerializedError; position?: number; thrown?: Error }
  /** Parked until `wakeAt` (null: until woken); `handedBack` when the worker asked it to stop early. */
  | { status: "suspended"; wakeAt: number | null; waiting: "sleeping" | "waiting"; handedBack?: boolean }
  | { status: "diverged"; error: NonDeterminismError }
  | { status: "cancelled"; reason?: string }
  /** The lease was lost or the log refused an append: nothing more may be recorded. */
  | { status: "aborted"; reason: Error };

/** A failure the history recorded, about to be thrown into the workflow again. */
export interface RecordedFailure {
  position: number;
  /** The durable call that failed: `step`, `child` or `signal` (a timed-out wait). */
  call: "step" | "child" | "signal";
  name: string;
  /** The error the workflow is about to receive. */
  error: Error;
  /** The recorded event it comes from. */
  event: HistoryEvent;
}
