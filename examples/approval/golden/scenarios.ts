import type { GoldenScenario } from "../../../test-support/goldens.js";
import { waitFor } from "../../../test-support/wait.js";
import { approvalRequest } from "../workflow.js";

/** Sends the approver's answer once the run waits for it (after its cooling-off sleep). */
const answer =
  (payload: { by: string; approved?: boolean; note?: string }): GoldenScenario["drive"] =>
  async ({ client, handle }) => {
    await waitFor(async () => (await client.status(handle.id)).status === "waiting", { what: `run ${handle.id} to wait for approval` });
    await client.signal(handle.id, "approve", payload);
  };

export const scenarios: GoldenScenario[] = [
  // validate, sleep, the signal, two provision-item children in parallel, notify.
  {
    name: "approved-provisions-children",
    workflow: approvalRequest,
    input: { requestedBy: "grace", items: ["web-1", "db-1", "web-1"], coolingOff: "200ms" },
    drive: answer({ by: "ada" }),
  },
  // The signal says no: nothing is provisioned.
  {
    name: "declined",
    workflow: approvalRequest,
    input: { requestedBy: "bob", items: ["gpu-1"], coolingOff: "100ms" },
    drive: answer({ by: "ada", approved: false, note: "not this quarter" }),
  },
  // Nobody answers: the wait times out and the workflow catches SignalTimeoutError.
  {
    name: "expired",
    workflow: approvalRequest,
    input: { requestedBy: "eve", items: ["gpu-2"], coolingOff: "100ms", approvalTimeout: "500ms" },
  },
];
