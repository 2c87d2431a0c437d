import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** One Postgres per test run; every test file then works in a schema of its own. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pg = await startPostgres({ log: (line) => console.log(`[test-support] ${line}`) });
  project.provide("databaseUrl", pg.url);
  // Test files (and the processes they spawn) that look for DATABASE_URL find this server.
  process.env.DATABASE_URL ??= pg.url;
  process.env.REPRISE_TEST_DATABASE_URL = pg.url;
  return () => pg.stop();
}
