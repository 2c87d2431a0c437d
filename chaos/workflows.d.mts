import type { Workflow } from "@reprise/sdk";

/** The input of a chaos run. */
export interface ChaosInput {
  /** Sequential steps before the rest. */
  steps: number;
  /** How long each step works after recording its execution (ms). */
  workMs?: number;
  sleepMs: number;
  signalTimeoutMs: number;
  /** Items of the map; the one at `poison` is dead-lettered. */
  items: number;
  poison: number;
}

export interface ChaosOutput {
  sum: number;
  parallel: number[];
  signal: unknown;
  child: number;
  results: (number | null)[];
  dead: number[];
  flaky: boolean;
}

export function chaosWorkflows(
  pool: { query(text: string, values?: unknown[]): Promise<unknown> },
  table: string,
): {
  main: Workflow<ChaosInput, ChaosOutput>;
  leaf: Workflow<{ n: number }, number>;
  all: Workflow<any, any>[];
};

export function expectedOutput(input: ChaosInput, signal: unknown): ChaosOutput;

export const EXECUTIONS_DDL: (table: string) => string;
