// Extracts the ```ts samples of Markdown files into modules that tsc can check, and maps
// tsc's diagnostics back to the Markdown lines they came from. Used by
// check-doc-samples.ts (`pnpm check:docs`), and tested by doc-samples.test.ts.
//
// Conventions, all invisible in rendered Markdown:
//   <!-- prelude: import { z } from "zod"; declare const client: Client; -->
//       right before a block (blank lines allowed): code put in front of that block only.
//   <!-- prelude-file: import { Client } from "@reprise/sdk"; -->
//       anywhere: code put in front of every later block of the file (several accumulate).
//   <!-- stub ../src/workflows.ts: export declare const orderCheckout: AnyWorkflow; -->
//       right before a block: a module the block imports by a relative path (the user's own
//       files), written at that path next to the block's module.
//   <!-- check-skip --> right before a block, or a first line `// @check-skip` in it:
//       the block is deliberately partial and is not checked.
// A prelude may span several lines. Each block is its own ES module (so top-level await
// works), and imports the packages by name, as users do.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

/** One fenced ```ts block of a Markdown file. */
export interface Sample {
  /** The Markdown file, relative to the root. */
  file: string;
  /** 1-based line of the block's first code line in the Markdown file. */
  line: number;
  code: string;
  /** Code put in front of the block (file preludes, then the block's own). */
  prelude: string;
  /** Modules the block imports by relative path: path (relative to the block) → code. */
  stubs: { path: string; code: string }[];
  skipped: boolean;
}

/** An opening fence: indentation, the fence, the info string (`ts`, `sh`, …). */
const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const TS = new Set(["ts", "typescript"]);
const COMMENT = /<!--\s*(prelude-file|prelude|stub|check-skip)\b([\s\S]*?)-->/g;

/** The samples of one Markdown text. */
export function extractSamples(markdown: string, file: string): Sample[] {
  const lines = markdown.split("\n");
  const samples: Sample[] = [];
  const filePreludes: string[] = [];
  // The comments between the last other content and here: they belong to the next block.
  let pending: { kind: string; body: string }[] = [];

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = FENCE_OPEN.exec(line);
    if (!open) {
      if (line.trimStart().startsWith("<!--")) {
        // A comment may span lines: match it against the rest of the file.
        const rest = lines.slice(i).join("\n");
        const start = rest.indexOf("<!--");
        COMMENT.lastIndex = start;
        const match = COMMENT.exec(rest);
        if (match && match.index === start) {
          const body = match[2]!.replace(/^\s*:/, "").trim();
          if (match[1] === "prelude-file") filePreludes.push(body);
          else pending.push({ kind: match[1]!, body });
          i += match[0].split("\n").length - 1;
          continue;
        }
      }
      if (line.trim() !== "") pending = [];
      continue;
    }
    // A block: up to its closing fence (the same character, at least as many). Other
    // languages' blocks are skipped whole: what they show is not a convention comment.
    const fence = open[2]!;
    const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    if (!TS.has(open[3]!.toLowerCase())) {
      pending = [];
      i = end;
      continue;
    }
    const indent = open[1]!.length;
    const code = lines
      .slice(i + 1, end)
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join("\n");
    const own = pending.filter((p) => p.kind === "prelude").map((p) => p.body);
    const stubs = pending
      .filter((p) => p.kind === "stub")
      .map((p) => {
        const colon = p.body.indexOf(":");
        if (colon < 1) throw new Error(`${file}:${i + 1}: a stub is <!-- stub ./path.ts: code -->`);
        return { path: p.body.slice(0, colon).trim(), code: p.body.slice(colon + 1).trim() };
      });
    const skipped = pending.some((p) => p.kind === "check-skip") || /^\s*\/\/\s*@check-skip\b/.test(code);
    samples.push({ file, line: i + 2, code, prelude: [...filePreludes, ...own].join("\n"), stubs, skipped });
    pending = [];
    i = end;
  }
  return samples;
}

/** Markdown files under `dir` (recursively), skipping generated output and dependencies. */
export function markdownFiles(root: string, dir: string, ignore: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const rel = relative(root, path).split(sep).join("/");
      if (name === "node_modules" || ignore.some((i) => rel === i || rel.startsWith(`${i}/`))) continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".md")) out.push(rel);
    }
  };
  walk(join(root, dir));
  return out.sort();
}

interface Written {
  sample: Sample;
  /** The module's path, relative to the root. */
  path: string;
  /** Lines in front of the sample's code in the module. */
  offset: number;
}

export interface CheckResult {
  checked: number;
  skipped: number;
  /** Diagnostics in Markdown terms: `docs/x.md:12:5 error TS2304: Cannot find name 'y'.` */
  errors: string[];
}

/**
 * Writes each sample to `outDir` (relative to `root`) as a module, with a tsconfig.json
 * that extends `tsconfig`, and type-checks them all with one run of `tsc`.
 */
export function checkSamples(options: { root: string; samples: readonly Sample[]; outDir: string; tsconfig: string; tsc: string }): CheckResult {
  const { root, samples, outDir } = options;
  rmSync(join(root, outDir), { recursive: true, force: true });
  mkdirSync(join(root, outDir), { recursive: true });
  const base = relative(join(root, outDir), join(root, options.tsconfig)).split(sep).join("/");
  writeFileSync(join(root, outDir, "tsconfig.json"), `${JSON.stringify({ extends: base.startsWith(".") ? base : `./${base}`, include: ["**/*.ts"] }, null, 2)}\n`);
  const written: Written[] = [];
  for (const sample of samples) {
    if (sample.skipped) continue;
    // Its own folder, nested as deep as its stubs climb (`../src/x.ts` needs one level).
    const depth = Math.max(0, ...sample.stubs.map((s) => s.path.split("/").filter((part) => part === "..").length));
    const folder = `${outDir}/${sample.file.replace(/\.md$/, "").replace(/[^A-Za-z0-9_-]+/g, "_")}.L${sample.line}`;
    const path = `${folder}/${"sample/".repeat(depth)}index.ts`;
    const head = sample.prelude ? `${sample.prelude}\n` : "";
    const offset = head === "" ? 0 : head.split("\n").length - 1;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    for (const stub of sample.stubs) {
      const stubPath = join(root, dirname(path), stub.path.replace(/\.js$/, ".ts"));
      mkdirSync(dirname(stubPath), { recursive: true });
      writeFileSync(stubPath, `${stub.code}\n`);
    }
    // `export {}` makes a block without imports a module too (top-level await, own scope).
    writeFileSync(join(root, path), `${head}${sample.code}\nexport {};\n`);
    written.push({ sample, path, offset });
  }
  const skipped = samples.length - written.length;
  if (written.length === 0) return { checked: 0, skipped, errors: [] };
  const run = spawnSync(process.execPath, [options.tsc, "-p", `${outDir}/tsconfig.json`, "--noEmit", "--pretty", "false"], { cwd: root, encoding: "utf8" });
  const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
  const byPath = new Map(written.map((w) => [w.path, w]));
  const errors: string[] = [];
  for (const line of output.split("\n")) {
    const m = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(line);
    if (!m) {
      if (/error TS/.test(line)) errors.push(line.trim());
      continue;
    }
    const w = byPath.get(m[1]!.split(sep).join("/"));
    if (!w) {
      errors.push(line.trim());
      continue;
    }
    const moduleLine = Number(m[2]);
    const where =
      moduleLine <= w.offset
        ? `${w.sample.file}:${w.sample.line - 1} (in the prelude of the block at line ${w.sample.line})`
        : `${w.sample.file}:${w.sample.line + moduleLine - w.offset - 1}:${m[3]}`;
    errors.push(`${where} ${m[4]}`);
  }
  errors.sort((a, b) => {
    const [fa, la] = a.split(":");
    const [fb, lb] = b.split(":");
    return (fa ?? "").localeCompare(fb ?? "") || Number(la) - Number(lb);
  });
  if (run.status !== 0 && errors.length === 0) errors.push(`tsc exited with ${run.status}: ${output.trim() || run.error?.message || "no output"}`);
  return { checked: written.length, skipped, errors };
}

/** Reads a Markdown file relative to `root`. */
export function readMarkdown(root: string, file: string): string {
  return readFileSync(join(root, file), "utf8");
}
