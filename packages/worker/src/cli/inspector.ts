import inspector from "node:inspector";
import type { RecordedFailure } from "@reprise/sdk";
import { UsageError } from "./cli-error.js";
import { style } from "./style.js";

/** True when this process has an inspector open (`node --inspect…`, or `--inspect` below). */
export function inspectorOpen(): boolean {
  return inspector.url() !== undefined;
}

/**
 * `reprise replay --inspect`: opens the inspector (unless node already did), waits for a
 * debugger to attach, so that nobody has to know where the CLI's script lives.
 */
export function openInspector(log: (line: string) => void): void {
  if (inspectorOpen()) return;
  const port = Number(process.env.REPRISE_INSPECT_PORT ?? 9229);
  inspector.open(port, "127.0.0.1", false);
  // A port in use is reported by Node on stderr, not thrown: the inspector is just not open.
  if (!inspectorOpen()) throw new UsageError(`could not open the inspector on 127.0.0.1:${port} (in use?): set REPRISE_INSPECT_PORT, or run under node --inspect-brk`);
  log(style.bold(`Waiting for a debugger on ${inspector.url()}`));
  log(style.dim("  Chrome: open chrome://inspect and click \"inspect\" under Remote Target · VS Code: \"Attach to Node Process\""));
  inspector.waitForDebugger();
}

/**
 * Pauses once the workflow code is loaded, so breakpoints can be set in files the debugger
 * could not see before (Chrome DevTools binds breakpoints only in loaded scripts).
 */
export function pauseAfterLoad(entry: string): void {
  if (!inspectorOpen()) return;
  const hint = `${entry} is loaded: set breakpoints in your workflow (Ctrl+P opens a file), then resume (F8) to replay.`;
  // eslint-disable-next-line no-debugger
  debugger; // ← paused by `reprise replay --inspect`: see `hint`.
  void hint;
}

/**
 * `--break-on-failure`: stops in the debugger just before a recorded failure is thrown into
 * the workflow. The workflow's own frame is on the call stack below this one (select it to
 * see its variables, holding the recorded values); step out three times to reach it.
 */
export function pauseBeforeRecordedFailure(failure: RecordedFailure): void {
  if (!inspectorOpen()) return;
  const { position, call, name, error } = failure;
  const recorded = failure.event;
  const hint = `the recorded failure of ${call} "${name}" (position ${position}) is about to be thrown into the workflow: ${error.name}: ${error.message}`;
  // eslint-disable-next-line no-debugger
  debugger; // ← paused by --break-on-failure: see `hint`, `error` and `recorded`; the workflow's frame is below on the call stack.
  void recorded;
  void hint;
}
