import { configDefaults, defineConfig } from "vitest/config";

/**
 * The chaos and failover tests run their own servers and worker processes and load both
 * cores: they run after the others, one at a time, so that no timing-sensitive file shares
 * the machine with them.
 */
const HEAVY = ["packages/worker/test/chaos.test.ts", "packages/worker/test/failover.test.ts"];

export default defineConfig({
  test: {
    globalSetup: ["./test-support/global-setup.ts"],
    reporters: ["default", "./test-support/count-reporter.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"],
          // An exclude replaces the defaults (node_modules among them): keep them.
          exclude: [...configDefaults.exclude, ...HEAVY],
          // Two cores: a few files at a time, each in its own schema of one shared server.
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "heavy", include: HEAVY, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
