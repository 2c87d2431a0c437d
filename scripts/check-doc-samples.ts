// `pnpm check:docs`: type-checks every ```ts sample of README.md and docs/**/*.md against
// the built packages (`pnpm build` first), as a user's code would compile. Conventions for
// preludes and skipped blocks: see doc-samples.ts. Exits 1 listing each error at its
// Markdown line.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { checkSamples, extractSamples, markdownFiles, readMarkdown } from "./doc-samples.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const files = ["README.md", ...markdownFiles(root, "docs", ["docs/api"])];
const samples = files.flatMap((file) => extractSamples(readMarkdown(root, file), file));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

const started = Date.now();
const result = checkSamples({ root, samples, outDir: ".doc-samples", tsconfig: "scripts/doc-samples.tsconfig.json", tsc });
const took = ((Date.now() - started) / 1000).toFixed(1);

if (result.errors.length > 0) {
  for (const error of result.errors) console.error(error);
  console.error(`check:docs: ${result.errors.length} error(s) in the samples of ${files.length} Markdown files (${took}s)`);
  process.exit(1);
}
console.log(`check:docs: ${result.checked} samples compile (${result.skipped} marked check-skip) in ${files.length} Markdown files (${took}s)`);
