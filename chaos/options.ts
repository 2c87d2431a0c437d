import { parseArgs } from "node:util";
import { toMillis } from "@reprise/sdk";
import type { ChaosOptions } from "./chaos-run.js";
import type { FailoverOptions } from "./failover-run.js";
import type { SoakOptions } from "./soak.js";

/** What `pnpm chaos` was asked to do. */
export type Command =
  | { mode: "chaos"; options: ChaosOptions }
  | { mode: "soak"; options: SoakOptions }
  | { mode: "failover"; options: FailoverOptions }
  | { mode: "help"; text: string };

export const HELP = `pnpm chaos [options]     workflows under SIGKILLs, SIGSTOPs, terminated backends and Postgres restarts
pnpm chaos --soak        steady load; workers' memory and the server's connections every minute
pnpm chaos --failover    pg_auto_failover on loopback; the primary killed mid-run (docs/failover.md)

  --runs N           top-level runs (each starts a child)            CHAOS_RUNS      default 300
  --steps M          sequential steps per run, before the rest        CHAOS_STEPS     default 8
  --workers K        worker processes                                 CHAOS_WORKERS   default 4
  --duration D       how long faults go on (chaos) or load runs (soak) CHAOS_DURATION  default 90s / 30m
  --seed S           the random schedule of faults and inputs         CHAOS_SEED      default: the time
  --kill-every A-B   ms between SIGKILLs                              CHAOS_KILL_EVERY default 1000-3000
  --restarts R       Postgres restarts in immediate mode              CHAOS_RESTARTS  default 2
  --freezes F        workers frozen past their lease                  CHAOS_FREEZES   default 2
  --rate R           soak: runs started per second                    CHAOS_RATE      default 30
Exit code 1 when an invariant fails.`;

/** Reads flags, then `CHAOS_*` variables, then defaults. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Command {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      soak: { type: "boolean" },
      failover: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      runs: { type: "string" },
      steps: { type: "string" },
      workers: { type: "string" },
      duration: { type: "string" },
      seed: { type: "string" },
      "kill-every": { type: "string" },
      restarts: { type: "string" },
      freezes: { type: "string" },
      rate: { type: "string" },
    },
    strict: true,
  });
  if (values.help) return { mode: "help", text: HELP };
  const pick = (flag: keyof typeof values, name: string) => (values[flag] as string | undefined) ?? env[`CHAOS_${name}`];
  const int = (flag: keyof typeof values, name: string, fallback: number, min = 0) => {
    const raw = pick(flag, name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const soak = values.soak ?? env.CHAOS_SOAK === "1";
  const durationMs = toMillis(pick("duration", "DURATION") ?? (soak ? "30m" : "90s"));
  const seed = int("seed", "SEED", Date.now() % 1_000_000);
  const workers = int("workers", "WORKERS", soak ? 2 : 4, 1);
  if (soak) return { mode: "soak", options: { durationMs, rate: int("rate", "RATE", 30, 1), workers, seed, log } };
  if (values.failover) {
    return { mode: "failover", options: { runs: int("runs", "RUNS", 100, 1), steps: int("steps", "STEPS", 8, 1), workers: int("workers", "WORKERS", 2, 1), seed, killAfter: 0.3, settleMs: 120_000, log } };
  }
  const range = (pick("kill-every", "KILL_EVERY") ?? "1000-3000").split("-").map(Number);
  if (range.length !== 2 || !range.every((n) => Number.isFinite(n) && n > 0) || range[0]! > range[1]!) throw new Error("--kill-every takes MIN-MAX in ms, e.g. 1000-3000");
  return {
    mode: "chaos",
    options: {
      runs: int("runs", "RUNS", 300, 1),
      steps: int("steps", "STEPS", 8, 1),
      workers,
      seed,
      chaosMs: durationMs,
      settleMs: 120_000,
      killEveryMs: [range[0]!, range[1]!],
      terminateEveryMs: [2_000, 5_000],
      freezes: int("freezes", "FREEZES", 2),
      postgresRestarts: int("restarts", "RESTARTS", 2),
      leaseMs: 2_000,
      concurrency: 20,
      log,
    },
  };
}
