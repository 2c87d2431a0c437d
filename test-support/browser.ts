import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

/** Where a browser test saves what it saw (git-ignored). */
export const ARTIFACTS = join(process.cwd(), "test-results");

/**
 * The machine's Chromium (Debian's `chromium` package; .ci/run installs it), headless, with
 * no network of its own beyond the pages a test opens. Browser downloads are not possible
 * here, so there is no fallback: a missing Chromium fails the test, saying what to install.
 */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
  if (!executablePath) throw new Error("no Chromium found: apt-get install -y chromium (or set CHROMIUM_PATH)");
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
