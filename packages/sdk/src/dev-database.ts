import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Where `reprise dev` writes how to reach its embedded database, relative to its project. */
export const DEV_STATE_FILE = join(".reprise", "dev.json");

/**
 * The database of a `reprise dev` running for this project: `.reprise/dev.json` in `from`
 * or the nearest folder above it that has one. Undefined when there is none (or it is
 * unreadable): the caller says what to configure instead.
 */
export function devDatabaseUrl(from = process.cwd()): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, DEV_STATE_FILE);
    if (existsSync(file)) {
      try {
        const { url } = JSON.parse(readFileSync(file, "utf8")) as { url?: unknown };
        return typeof url === "string" ? url : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
