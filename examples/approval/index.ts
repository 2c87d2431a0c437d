import type { Client } from "@reprise/sdk";
import { approvalRequest, provisionItem } from "./workflow.js";

export { approvalRequest, provisionItem };

const ENDED = new Set(["completed", "failed", "cancelled"]);

/**
 * Called by `reprise dev`: starts an access request (or picks up the one a previous dev
 * process left waiting), prints the command that approves it, and prints the outcome.
 */
export async function dev({ client, log }: { client: Client; log: (line: string) => void }): Promise<void> {
  const unfinished = (await client.listRuns({ workflow: approvalRequest.name, limit: 20 })).find((r) => !ENDED.has(r.status));
  const handle = unfinished
    ? client.handle<Awaited<ReturnType<typeof approvalRequest.fn>>>(unfinished.id)
    : await client.start(approvalRequest, { requestedBy: "grace", items: ["web-1", "web-2", "db-1"] });
  log(
    unfinished
      ? `\nPicked up run ${handle.id}, which a previous process left ${unfinished.status}.`
      : `\nStarted run ${handle.id}: an access request for web-1, web-2 and db-1. It sleeps 3s (cooling off), then waits up to 10 minutes for approval.`,
  );

  let status = (await handle.status()).status;
  while (status !== "waiting" && !ENDED.has(status)) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = (await handle.status()).status;
  }
  if (status === "waiting") {
    log(`\nRun ${handle.id} is waiting for approval (status "waiting": no worker holds it). Approve it from another terminal:\n`);
    log(`  npx reprise runs signal ${handle.id} approve '{"by":"ada"}'\n`);
    log(`or decline it:  npx reprise runs signal ${handle.id} approve '{"by":"ada","approved":false,"note":"not this quarter"}'\n`);
  }

  const result = await handle.result().catch((error: Error) => ({ outcome: "failed" as const, error: error.message }));
  log(`\nRun ${handle.id} ended: ${JSON.stringify(result)}`);
  if (result.outcome === "provisioned") {
    for (const p of result.provisioned) log(`  ${p.item.padEnd(6)} → ${p.host}`);
    const children = (await client.listRuns({ workflow: provisionItem.name, limit: 100 })).filter((r) => r.parentId === handle.id);
    log(`  child runs: ${children.map((c) => c.id).sort().join(", ")}`);
  }
  log(`\nIts timeline: npx reprise runs show ${handle.id}\n`);
}
