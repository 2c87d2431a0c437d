import { StoreError, StoreErrorCode } from "./errors.js";

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks a schema name and returns it quoted for SQL. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `invalid schema name ${JSON.stringify(schema)}: use letters, digits and _`);
  }
  return `"${schema}"`;
}

/** The NOTIFY channel of a schema: ids only, a hint to look, never data. */
export function channelOf(schema: string): string {
  return `reprise:${schema}`;
}
