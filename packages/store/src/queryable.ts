/**
 * The slice of `pg` the queries use: a `Pool` or a checked-out client. Typed structurally
 * so the queries do not depend on pg's classes.
 */
export interface Queryable {
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

/** Builds a prepared statement for a quoted schema from a template using `:schema`. */
export function statement(id: string, schema: string, template: string): Statement {
  return { name: `reprise_${id}_${schema.replace(/"/g, "")}`, text: template.replaceAll(":schema", schema) };
}
