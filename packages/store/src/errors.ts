/** Codes of the store's own errors. */
export const StoreErrorCode = {
  /** The database cannot be reached, or the connection dropped. */
  Connection: "CONNECTION",
  /** The database's schema was written by a newer Reprise than this one. */
  SchemaTooNew: "SCHEMA_TOO_NEW",
  /** A bad argument (schema name, connection string). */
  InvalidArgument: "INVALID_ARGUMENT",
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/** An error raised by the store itself (driver errors pass through with their own `code`). */
export class StoreError extends Error {
  override name = "StoreError";
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EPIPE",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
]);

/**
 * True for errors that mean "the database is unreachable or the connection dropped":
 * worth retrying later, never a reason to give up on a run.
 */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === "string" && CONNECTION_CODES.has(e.code)) return true;
  if (e instanceof StoreError) return e.code === StoreErrorCode.Connection;
  const message = typeof e.message === "string" ? e.message : "";
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|timeout exceeded when trying to connect/i.test(
    message,
  );
}

/** Postgres' unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "23505";
}

/** Postgres' "data exception" class (22xxx): a value the database refuses to store. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("22");
}

/**
 * True when Postgres refuses a value itself, so sending it again can never succeed: a data
 * exception (22xxx: a NUL in text, a lone surrogate in jsonb) or a value past a limit
 * (54000 program_limit_exceeded: a jsonb string or document over 256 MiB).
 */
export function isRefusedValue(error: unknown): boolean {
  return isDataError(error) || (error as { code?: unknown } | null)?.code === "54000";
}
