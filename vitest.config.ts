import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"],
    globalSetup: ["./test-support/global-setup.ts"],
    reporters: ["default", "./test-support/count-reporter.ts"],
    pool: "forks",
    // Two cores: a few files at a time, each in its own schema of one shared server.
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
