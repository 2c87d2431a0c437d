// The architecture of DESIGN.md as rules that fail the build ("pnpm check:deps", part of
// `pnpm test`): one straight line store ← sdk ← worker, static; a replay engine that cannot
// reach pg, the store or Node's I/O; no import cycles, type-only edges included.

/** Node's built-in modules as the cruiser names them ("crypto" for "node:crypto"). */
const NODE_BUILTINS = `^(node:)?(${require("node:module").builtinModules.join("|")})(/|$)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "A file-level import cycle, type-only imports included: split the concept that both files need into a file of its own.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "store-is-the-bottom",
      comment: "@reprise/store knows SQL and nothing of workflows: it imports neither the sdk nor the worker.",
      severity: "error",
      from: { path: "^packages/store/" },
      to: { path: "^packages/(sdk|worker)/|@reprise/(sdk|worker)" },
    },
    {
      name: "sdk-below-worker",
      comment: "@reprise/sdk never imports the worker.",
      severity: "error",
      from: { path: "^packages/sdk/" },
      to: { path: "^packages/worker/|@reprise/worker" },
    },
    {
      name: "no-lazy-imports-across-packages",
      comment: "Packages meet through static imports only (DESIGN.md: no lazy imports across packages).",
      severity: "error",
      from: { path: "^packages/[^/]+/src/" },
      to: { path: "^packages/|@reprise/", dependencyTypes: ["dynamic-import"] },
    },
    {
      name: "no-deep-imports-across-packages",
      comment: "Another package is imported through its entries (@reprise/sdk, @reprise/sdk/engine), never by a path into its files.",
      severity: "error",
      from: { path: "^packages/([^/]+)/" },
      to: {
        path: "^packages/([^/]+)/src/",
        pathNot: ["^packages/$1/", "^packages/[^/]+/src/(index|engine)\\.ts$", "^packages/worker/src/cli/main\\.ts$"],
      },
    },
    {
      name: "replay-engine-is-pure",
      comment:
        "The replay engine (sdk/src/replay) reaches the world only through its host: nothing it imports, directly or through other files, may reach pg, kysely, the store or Node's built-in modules.",
      severity: "error",
      from: { path: "^packages/sdk/src/replay/" },
      to: { path: [NODE_BUILTINS, "^(pg|kysely|pg-[a-z-]+)$", "node_modules/(pg|kysely|pg-[a-z-]+)/", "^packages/store/", "@reprise/store"], reachable: true },
    },
    {
      name: "replay-engine-uses-no-node-builtins",
      comment: "Timers, clocks and randomness come from the host or from globals every JavaScript runtime has, not from node:*.",
      severity: "error",
      from: { path: "^packages/sdk/src/replay/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "users-get-the-public-entry",
      comment: "Examples import the public entries only; the engine entry is for the worker and for tests of the engine.",
      severity: "error",
      from: { path: "^examples/" },
      to: { path: "^packages/sdk/src/engine\\.ts$" },
    },
  ],
  required: [
    {
      name: "sdk-uses-the-store-statically",
      severity: "error",
      comment: "The Client talks to the store through a static import of @reprise/store, not through a redeclared mirror of its types.",
      module: { path: "^packages/sdk/src/client\\.ts$" },
      to: { path: "^packages/store/" },
    },
    {
      name: "worker-uses-the-engine-entry",
      severity: "error",
      comment: "The worker drives runs through @reprise/sdk/engine.",
      module: { path: "^packages/worker/src/run-task\\.ts$" },
      to: { path: "^packages/sdk/src/engine\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules|/dist/" },
    exclude: { path: "/dist/|\\.d\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.depcruise.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "types", "default"],
      mainFields: ["module", "main", "types"],
      extensions: [".ts", ".js", ".d.ts"],
    },
  },
};
