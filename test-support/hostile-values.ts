import fc from "fast-check";

/**
 * Arbitraries of what JSON and Postgres do not take well, for fuzzing what the API stores:
 * strings with NUL and lone surrogates, every JSON-hostile type, cycles, throwing toJSON,
 * sparse arrays, -0, long strings and deep nesting.
 */

/** Code units that break storage (NUL, lone surrogates) mixed with harmless and astral ones. */
const hostileUnit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom("\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d\ude00", "\ufffd", "\u2028", "\\", '"', "\u001f") },
);

/** Any string, weighted towards the ones Postgres refuses. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: hostileUnit, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "a\u0000b", "\ud800", "x\udc00", "\ud83d", "\ude00y", "__proto__", "constructor", "toJSON") },
);

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Values JSON would silently change or cannot write, and values it writes fine. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.double() }, // NaN, ±Infinity, -0 included
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, 0, -0, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 1) },
  { weight: 1, arbitrary: fc.bigInt() },
  { weight: 1, arbitrary: fc.constant(Symbol("s")) },
  { weight: 1, arbitrary: fc.constant(() => 1) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<() => unknown>(
      () => new Map([["k", 1]]),
      () => new Set([1]),
      () => new Point(1, 2),
      () => new Number(1),
      () => new String("s"),
      () => /re/g,
      () => new Error("an error"),
      () => new Uint8Array([1, 2]),
      () => Object.assign(Object.create(null) as object, { bare: true }),
      () => ({ toJSON: () => "converted by toJSON" }),
      () => ({ toJSON: () => ({ nested: "\u0000" }) }),
      () => ({ toJSON: () => 1n }),
      () => ({
        toJSON: () => {
          throw new Error("toJSON throws");
        },
      }),
      () => ({ [Symbol("key")]: 1, plain: 2 }),
    ).map((make) => make()),
  },
);

/** Nested values: arrays, sparse arrays and objects of hostile leaves, small and shallow. */
const nested: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.sparseArray(tie("value"), { maxLength: 6 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** Large and deep: long strings, wide arrays, nesting far below and far above what the stack takes. */
const big: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 1, max: 2_000_000 }).map((n) => "x".repeat(n)),
  fc.integer({ min: 1, max: 50_000 }).map((n) => Array.from({ length: n }, (_, i) => i)),
  fc.constantFrom(1, 10, 100, 500, 1_000, 100_000).map((depth) => nest(depth, (v) => [v])),
  fc.constantFrom(10, 1_000, 100_000).map((depth) => nest(depth, (v) => ({ a: v }))),
  fc.constant(null).map(() => {
    const cycle: Record<string, unknown> = { name: "cycle" };
    cycle.self = cycle;
    return cycle;
  }),
  fc.constant(null).map(() => {
    const shared = { shared: true }; // the same object twice is no cycle
    return [shared, { again: shared }];
  }),
);

/** Anything a caller might hand to the API as a value. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof({ weight: 5, arbitrary: nested }, { weight: 1, arbitrary: big });

function nest(depth: number, wrap: (v: unknown) => unknown): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
}

/** A name or id as a caller might pass it: any string, or something that is no string at all. */
export const hostileName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 190, maxLength: 300 }) },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(undefined, null, 0, 1n, true, {}, [], ["a"], Symbol("id"), () => "id", new String("id"), { toString: () => "id" }) },
);

/** What the API should do with a value, by the JSON round trip it documents. */
export type Storage = { stored: true; json: unknown } | { stored: false; why: string };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strings Postgres refuses in jsonb: a NUL, a lone surrogate. */
export function unstorable(text: string): boolean {
  return text.includes("\u0000") || LONE_SURROGATE.test(text);
}

/**
 * The oracle, written from the contract rather than from the code: a value is stored as
 * `JSON.parse(JSON.stringify(value))` (toJSON applied, `undefined` members dropped, holes
 * and `undefined` elements null, -0 as 0) when JSON would write it faithfully; it is refused
 * when it holds a function, symbol, BigInt, NaN or ±Infinity, an object that is no plain
 * object or array (after toJSON), a string or key Postgres cannot store, a cycle, a throwing
 * toJSON, or nesting deeper than a stack can walk. Walked without recursion, so its own stack
 * never decides.
 */
export function expectedStorage(value: unknown): Storage {
  const refuse = (why: string): Storage => ({ stored: false, why });
  type Frame = { holder: unknown; key: string; ancestors: ReadonlySet<object>; depth: number };
  const stack: Frame[] = [{ holder: { "": value }, key: "", ancestors: new Set(), depth: 0 }];
  while (stack.length) {
    const { holder, key, ancestors, depth } = stack.pop()!;
    if (depth > 10_000) return refuse("nested deeper than a stack can walk");
    let v = (holder as Record<string, unknown>)[key];
    if (v !== null && (typeof v === "object" || typeof v === "bigint") && typeof (v as { toJSON?: unknown }).toJSON === "function") {
      try {
        v = (v as { toJSON(key: string): unknown }).toJSON(key);
      } catch {
        return refuse("its toJSON throws");
      }
    }
    switch (typeof v) {
      case "string":
        if (unstorable(v)) return refuse("a string Postgres cannot store");
        continue;
      case "number":
        if (!Number.isFinite(v)) return refuse("a number JSON cannot write");
        continue;
      case "bigint":
      case "symbol":
      case "function":
        return refuse(`a ${typeof v}`);
      case "undefined":
      case "boolean":
        continue;
    }
    if (v === null) continue;
    const object = v as object;
    const proto = Object.getPrototypeOf(object) as unknown;
    if (!Array.isArray(object) && proto !== Object.prototype && proto !== null) return refuse("an instance of a class");
    if (ancestors.has(object)) return refuse("a cycle");
    // A set of ancestors per level is quadratic in depth; past a few thousand levels only
    // the depth matters (a cycle there still ends as "too deep", refused either way).
    const lineage = depth > 2_000 ? ancestors : new Set(ancestors).add(object);
    const keys = Array.isArray(object) ? Array.from({ length: object.length }, (_, i) => String(i)) : Object.keys(object);
    for (const k of keys) {
      if (!Array.isArray(object) && unstorable(k)) return refuse("a key Postgres cannot store");
      stack.push({ holder: object, key: k, ancestors: lineage, depth: depth + 1 });
    }
  }
  const text = JSON.stringify(value);
  return { stored: true, json: text === undefined ? undefined : JSON.parse(text) };
}
