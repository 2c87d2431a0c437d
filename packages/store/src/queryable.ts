/**
 * The slice of `pg` the queries use: a `Pool` or a checked-out client. Typed structurally
 * so the queries do not depend on pg's classes.
 */
export interface Queryable {
  /** Runs one statement (a named one is prepared once per connection). */
  query<R extends object = Record<string, unknown>>(config: {
    name?: string;
    text: string;
    values?: unknown[];
  }): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** A statement's text for a schema, plus a per-schema name so pg prepares it once per connection. */
export interface Statement {
  name: string;
  text: string;
}

const built = new Map<string, Statement>();

/**
 * A prepared statement for a quoted schema from a template using `:schema`, built once per
 * (id, schema): the hot path does not redo string work per call.
 */
export function statement(id: string, schema: string, template: string | (() => string)): Statement {
  const key = `${id}\u0000${schema}`;
  let found = built.get(key);
  if (!found) {
    const text = typeof template === "string" ? template : template();
    found = { name: `reprise_${id}_${schema.replace(/"/g, "")}`, text: text.replaceAll(":schema", schema) };
    built.set(key, found);
  }
  return found;
}
