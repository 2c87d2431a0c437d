import { readFileSync } from "node:fs";

/** The built page (`pnpm build` bundles packages/worker/ui into dist/ui): no CDN, works offline. */
const UI_DIR = new URL("../ui/", import.meta.url);

const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

const cache = new Map<string, Buffer>();

/** A file of the built page, or undefined when there is no such file (or the UI was not built). */
export function asset(name: string): { body: Buffer; type: string } | undefined {
  const type = TYPES[name];
  if (!type) return undefined;
  let body = cache.get(name);
  if (!body) {
    try {
      body = readFileSync(new URL(name, UI_DIR));
    } catch {
      return undefined;
    }
    cache.set(name, body);
  }
  return { body, type };
}
