import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { checkSamples, extractSamples } from "./doc-samples.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const outDir = ".doc-samples-selftest";
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

afterAll(() => rmSync(`${root}/${outDir}`, { recursive: true, force: true }));

const guide = [
  "# A guide", // 1
  "<!-- prelude-file: import { toMillis } from \"@reprise/sdk\"; -->", // 2
  "", // 3
  "```ts", // 4
  "const ms: number = toMillis(\"1h30m\");", // 5
  "```", // 6
  "", // 7
  "<!-- prelude: declare const who: string; -->", // 8
  "", // 9
  "```ts", // 10
  "const greeting: string = `hello ${who}`;", // 11
  "const wrong: number = greeting;", // 12: the error
  "```", // 13
  "<!-- check-skip -->", // 14
  "```ts", // 15
  "ctx.step(…)", // 16
  "```", // 17
  "```ts", // 18
  "// @check-skip", // 19
  "also partial", // 20
  "```", // 21
  "<!-- stub ../src/workflows.ts: export const answer = 42; -->", // 22
  "```ts", // 23
  "import { answer } from \"../src/workflows.js\";", // 24
  "const n: number = answer;", // 25
  "```", // 26
  "<!-- prelude: declare const unused: string; -->", // 27
  "Some text in between: the prelude above belongs to no block.", // 28
  "```typescript", // 29
  "const fine = 1;", // 30
  "```", // 31
  "```md", // 32: a block of another language is skipped whole, conventions and all
  "<!-- prelude-file: this is not code -->", // 33
  "```ts", // 34: nor is a fence inside it
  "```", // 35
  "<!-- check-skip -->", // 36: a comment before a block of another language belongs to no ts block
  "```sh", // 37
  "echo hi", // 38
  "```", // 39
  "```ts", // 40
  "const last = 2;", // 41
  "```", // 42
].join("\n");

describe("doc samples", () => {
  test("blocks are extracted with their line, their preludes and stubs, and check-skip", () => {
    const samples = extractSamples(guide, "docs/guide.md");
    expect(samples.map((s) => [s.line, s.skipped])).toEqual([
      [5, false],
      [11, false],
      [16, true],
      [19, true],
      [24, false],
      [30, false],
      [41, false],
    ]);
    const prelude = 'import { toMillis } from "@reprise/sdk";';
    expect(samples[0]!.prelude).toBe(prelude);
    expect(samples[1]!.prelude).toBe(`${prelude}\ndeclare const who: string;`);
    expect(samples[4]!.stubs).toEqual([{ path: "../src/workflows.ts", code: "export const answer = 42;" }]);
    expect(samples[5]!.prelude).toBe(prelude);
    expect(samples[6]!.prelude).toBe(prelude);
  });

  test("a sample that does not compile is reported at its Markdown line, against the built packages", () => {
    const result = checkSamples({
      root,
      samples: extractSamples(guide, "docs/guide.md"),
      outDir,
      tsconfig: "scripts/doc-samples.tsconfig.json",
      tsc,
    });
    expect(result.checked).toBe(5);
    expect(result.skipped).toBe(2);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/^docs\/guide\.md:12:7 error TS2322: Type 'string' is not assignable to type 'number'\./);
  });
});
