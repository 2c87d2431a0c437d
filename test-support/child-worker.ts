import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/** A worker running in a child process, to be killed like a crashed machine. */
export interface ChildWorker {
  readonly process: ChildProcess;
  readonly pid: number;
  /** What it wrote to stderr (for failure messages). */
  stderr(): string;
  /** SIGKILLs it (unless it is gone already) and waits until it is gone. */
  kill(): Promise<void>;
  /** Resolves with the signal that ended it (`SIGKILL` when it killed itself). */
  exited: Promise<NodeJS.Signals | null>;
}

/**
 * Forks a worker fixture (a plain .mjs that imports the built packages) with the test's
 * database in its environment.
 */
export function forkWorker(fixture: URL, env: Record<string, string>): ChildWorker {
  const child = fork(fileURLToPath(fixture), { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let err = "";
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = once(child, "exit").then(([, signal]) => signal as NodeJS.Signals | null);
  return {
    process: child,
    pid: child.pid!,
    stderr: () => err,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
