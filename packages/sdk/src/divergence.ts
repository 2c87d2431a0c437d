/** What a position of the history holds, or what the code asked for there. */
export interface CallDescription {
  kind: string;
  name: string | null;
}

/** A call in the words of the code that makes it: `step "charge"`, `ctx.sleep()`, … */
function describeCall(call: CallDescription | null): string {
  if (!call) return "nothing";
  const name = call.name === null ? "" : ` "${call.name}"`;
  switch (call.kind) {
    case "StepCompleted":
      return `step${name}`;
    case "TimerStarted":
      return call.name === "sleep" ? "ctx.sleep()" : `timer${name}`;
    case "SignalConsumed":
      return `waitForSignal${name}`;
    case "ChildStarted":
      return `child${name}`;
    case "MarkerRecorded":
      return call.name ? `ctx.${call.name}()` : "a marker";
    case "RunCompleted":
      return "the run's end";
    default:
      return `${call.kind}${name}`;
  }
}

const ENDS: ReadonlySet<string> = new Set(["RunCompleted", "RunFailed", "RunCancelled"]);

/** What changed, in words: a rename, a call added or removed, or a different kind of call. */
function describeChange(recorded: CallDescription | null, actual: CallDescription | null): string {
  if (recorded && actual && !ENDS.has(recorded.kind) && ENDS.has(actual.kind)) {
    return `the history recorded ${describeCall(recorded)}, but the code now ends the run there (a call was removed, or moved behind a condition)`;
  }
  if (recorded && actual && ENDS.has(recorded.kind) && !ENDS.has(actual.kind)) {
    return `the recorded run ended there, but the code now makes ${describeCall(actual)} (a call was added)`;
  }
  if (recorded && actual && recorded.kind === actual.kind) {
    return `the history recorded ${describeCall(recorded)}, the code now makes ${describeCall(actual)} (renamed, or another call moved here)`;
  }
  return `the history recorded ${describeCall(recorded)}, the code now makes ${describeCall(actual)}`;
}

/**
 * The message of a `NonDeterminismError`: where the run diverged, what changed in the
 * words of the code, and the two ways out (`ctx.patched`, or a fork).
 */
export function describeDivergence(d: {
  runId: string;
  position: number;
  recorded: CallDescription | null;
  actual: CallDescription | null;
}): string {
  return (
    `run ${d.runId} diverged from its history at position ${d.position}: ${describeChange(d.recorded, d.actual)}. ` +
    `To keep runs recorded before the change on the old path, guard it with ctx.patched(id) ` +
    `(if (ctx.patched("my-change")) { new code } else { old code }); ` +
    `to move this run onto the new code instead, fork it from that position ` +
    `(reprise runs fork ${d.runId} --from ${d.position}): the fork keeps what was recorded before it and runs on with today's code.`
  );
}
