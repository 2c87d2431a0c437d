import { SerializationError, ValidationError } from "./errors.js";
import { newId } from "./ids.js";

/**
 * The key of the reference that stands in for a value stored out of line: an event field,
 * a run's input or output, a signal's payload holds `{"$reprise.payload": {"id", "bytes"}}`
 * instead of the value, and the value is in the run's `payloads` table under that id.
 */
export const PAYLOAD_KEY = "$reprise.payload";

/** Where a value stored out of line is, and how large it is. */
export interface PayloadRef {
  id: string;
  bytes: number;
}

/** A value to store out of line: the id its reference names and its JSON text. */
export interface OutOfLineValue {
  id: string;
  text: string;
  bytes: number;
}

/** Options of `payloads` on `Worker` and `Client`. */
export interface PayloadOptions {
  /**
   * A value (step result, run input or output, signal payload) whose JSON text is over
   * this many bytes is stored out of line: its event holds a reference, so loading a
   * history for replay does not load it, and it is read when the workflow reaches it.
   * @default 262144 (256 KiB)
   */
  inlineLimit?: number;
  /**
   * A value over this many bytes is refused with `SerializationError` naming its size (a
   * step fails with it, not retried; a start or signal stores nothing). At most
   * 268435455 (Postgres' limit for one jsonb or text value, 256 MiB less a byte).
   * @default 67108864 (64 MiB)
   */
  maxSize?: number;
}

/** {@link PayloadOptions} resolved. */
export interface PayloadLimits {
  readonly inlineLimit: number;
  readonly maxSize: number;
}

/** Postgres refuses a jsonb value (and a text one nearly there) of 256 MiB or more: such a value is never sent. */
export const MAX_PAYLOAD_BYTES = 268_435_455;

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = Object.freeze({ inlineLimit: 256 * 1024, maxSize: 64 * 1024 * 1024 });

/** @throws ValidationError naming the bad option */
export function resolvePayloadLimits(options: PayloadOptions | undefined, where: string): PayloadLimits {
  if (options === undefined) return DEFAULT_PAYLOAD_LIMITS;
  // Given one limit, the other's default gives way to it.
  const inlineLimit = options.inlineLimit ?? Math.min(DEFAULT_PAYLOAD_LIMITS.inlineLimit, options.maxSize ?? Infinity);
  const maxSize = options.maxSize ?? Math.max(DEFAULT_PAYLOAD_LIMITS.maxSize, inlineLimit);
  const check = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1 || value > MAX_PAYLOAD_BYTES) {
      throw new ValidationError(`${where}: payloads.${name} must be an integer number of bytes from 1 to ${MAX_PAYLOAD_BYTES} (Postgres' limit), got ${String(value)}`);
    }
  };
  check("inlineLimit", inlineLimit);
  check("maxSize", maxSize);
  if (inlineLimit > maxSize) throw new ValidationError(`${where}: payloads.inlineLimit (${inlineLimit}) is over payloads.maxSize (${maxSize})`);
  return Object.freeze({ inlineLimit, maxSize });
}

/** The UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 2; // a surrogate pair: 4 bytes for its 2 units
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** "10.0 MiB (10485762 bytes)". */
export function describeSize(bytes: number): string {
  const units = [
    [1024 * 1024 * 1024, "GiB"],
    [1024 * 1024, "MiB"],
    [1024, "KiB"],
  ] as const;
  for (const [size, unit] of units) if (bytes >= size) return `${(bytes / size).toFixed(1)} ${unit} (${bytes} bytes)`;
  return `${bytes} bytes`;
}

/**
 * Refuses a value too large to store, before anything is sent.
 * @returns its size in bytes (UTF-8 of its JSON text)
 * @throws SerializationError naming the size and the limit
 */
export function checkSize(text: string, limits: PayloadLimits, what: string): number {
  // A UTF-16 unit is 1 to 3 bytes: most texts are decided without counting.
  if (text.length * 3 <= limits.inlineLimit) return text.length;
  const bytes = utf8Length(text);
  if (bytes > limits.maxSize) {
    throw new SerializationError(
      `${what} is ${describeSize(bytes)}, over the limit of ${describeSize(limits.maxSize)} (payloads.maxSize): store it elsewhere and pass a reference`,
    );
  }
  return bytes;
}

/**
 * Where a value goes: inline (its text as it is), or out of line (the reference's text, and
 * the value to store first). A value the reference could be mistaken for is refused.
 *
 * @throws SerializationError over `maxSize`, or for a value shaped like a reference
 */
export function placeValue(text: string | undefined, limits: PayloadLimits, what: string): { text: string | undefined; outOfLine?: OutOfLineValue } {
  if (text === undefined) return { text };
  if (text.startsWith(`{"${PAYLOAD_KEY}":`)) {
    throw new SerializationError(`${what} cannot be stored: an object whose first key is "${PAYLOAD_KEY}" is reserved for references to large values`);
  }
  const bytes = checkSize(text, limits, what);
  if (bytes <= limits.inlineLimit) return { text };
  const id = newId();
  return { text: refText({ id, bytes }), outOfLine: { id, text, bytes } };
}

/** The JSON text of a reference. */
export function refText(ref: PayloadRef): string {
  return `{"${PAYLOAD_KEY}":${JSON.stringify({ id: ref.id, bytes: ref.bytes })}}`;
}

/** The reference a stored value is, if it is one. */
export function payloadRefOf(value: unknown): PayloadRef | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const inner = (value as Record<string, unknown>)[PAYLOAD_KEY];
  if (typeof inner !== "object" || inner === null) return undefined;
  const { id, bytes } = inner as { id?: unknown; bytes?: unknown };
  return typeof id === "string" && typeof bytes === "number" ? { id, bytes } : undefined;
}
