// Bundles the dashboard's page (packages/worker/ui) into dist/ui: one script, one style
// sheet and the HTML, shipped in the npm package and served by the worker — no CDN, so it
// works offline. Run by `pnpm build`.
import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "ui");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, "ui", "main.tsx")],
  outfile: join(out, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync(join(root, "ui", "index.html"), join(out, "index.html"));
copyFileSync(join(root, "ui", "app.css"), join(out, "app.css"));
const kb = (f) => (statSync(join(out, f)).size / 1024).toFixed(1);
if (process.env.REPRISE_BUILD_QUIET !== "1") console.log(`dashboard page: app.js ${kb("app.js")} KiB, app.css ${kb("app.css")} KiB, index.html ${kb("index.html")} KiB`);
