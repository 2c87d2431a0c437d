import type { Client } from "@reprise/sdk";
import type { Sql } from "./invariants.js";
import type { Random } from "./random.js";
import type { chaosWorkflows, ChaosInput } from "./workflows.mjs";

/** Inputs of `count` chaos runs, by run id: random step work, sleeps and signal timeouts, one poisoned item each. */
export function chaosInputs(prefix: string, count: number, steps: number, random: Random): Map<string, ChaosInput> {
  const inputs = new Map<string, ChaosInput>();
  for (let i = 0; i < count; i++) {
    inputs.set(`${prefix}-${i}`, {
      steps,
      workMs: random.int(10, 60),
      sleepMs: random.int(200, 2_500),
      signalTimeoutMs: random.int(500, 2_000),
      items: 4,
      poison: random.int(0, 3),
    });
  }
  return inputs;
}

/** Starts the runs evenly over `overMs`, and sends most of them a signal at a random moment. */
export async function startRuns(
  client: Client,
  main: ReturnType<typeof chaosWorkflows>["main"],
  inputs: ReadonlyMap<string, ChaosInput>,
  overMs: number,
  random: Random,
  onSignal: () => void,
): Promise<void> {
  const gap = overMs / Math.max(1, inputs.size);
  const signals: Promise<void>[] = [];
  let n = 0;
  for (const [id, input] of inputs) {
    await retrying(() => client.start(main, input, { id }));
    if (random.next() < 0.7) {
      // Early, during the wait, or after its deadline (then it must stay unconsumed).
      const delay = random.between(0, input.sleepMs + input.signalTimeoutMs + 3_000);
      const payload = { n: n };
      signals.push(
        new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() =>
          retrying(() => client.signal(id, "go", payload)).then(onSignal, () => undefined),
        ),
      );
    }
    n++;
    await new Promise((r) => setTimeout(r, gap));
  }
  await Promise.all(signals);
}

/** Retries `fn` through a Postgres outage (bounded: 80 tries, about 20 s). */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      // A signal to a run that already ended is refused; that is not an outage.
      if ((error as { code?: string }).code === "INVALID_RUN_STATE" || attempt >= 80) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Waits until every run (top-level and child) has ended, or `ms` passed. */
export async function settle(sql: Sql, schema: string, ids: string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const open = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".runs WHERE (id = ANY($1) OR parent_id = ANY($1)) AND status NOT IN ('completed', 'failed', 'cancelled')`,
      [ids],
    ).catch(() => [{ n: -1 }]);
    if (open[0]!.n === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}
