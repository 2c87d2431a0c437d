import { mkdirSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { GoldenScenario } from "../../../test-support/goldens.js";
import { prefectRetry } from "../workflow.js";

// The "service" is up while this file exists. A name of the goldens' own (not the demo's
// service-up), relative to the repository root so that the recorded input has no machine path.
const serviceUpFile = ".reprise/prefect-retry/golden-service-up";

export const scenarios: GoldenScenario[] = [
  // create-payload once; ping fails 3 times and the run fails; the service comes back and
  // client.retry reopens ping (RunRetried), which completes — create-payload is not run again.
  {
    name: "failed-then-retried",
    workflow: prefectRetry,
    // A getter, so that the flag is removed right before the run starts (recordGoldens reads
    // `input` when it starts the run): the first ping must find the service down.
    get input() {
      rmSync(serviceUpFile, { force: true });
      return { serviceUpFile, payloadMs: 100 };
    },
    drive: async ({ client, handle }) => {
      try {
        const failure = await handle.result({ timeout: "30s" }).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (!failure) throw new Error(`run ${handle.id} was to fail at ping with the service down, but it completed`);
        mkdirSync(dirname(serviceUpFile), { recursive: true });
        writeFileSync(serviceUpFile, "");
        await client.retry(handle.id);
        await handle.result({ timeout: "30s" });
      } finally {
        rmSync(serviceUpFile, { force: true });
        try {
          rmdirSync(dirname(serviceUpFile)); // only if empty: the demo's own flag may live there
        } catch {}
      }
    },
  },
];
