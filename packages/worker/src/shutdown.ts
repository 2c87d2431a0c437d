/**
 * Two-stage shutdown on SIGTERM/SIGINT: the first signal asks for a graceful stop, the
 * second forces it. Returns a function that removes the handlers.
 */
export function onShutdownSignals(graceful: () => void, force: () => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      console.error(`[reprise] ${signal}: stopping gracefully (send it again to force)`);
      graceful();
    } else {
      console.error(`[reprise] ${signal}: forcing the stop`);
      force();
    }
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return () => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  };
}
