/**
 * The JSON text of `fields` with each of `raw` spliced in as already-serialised JSON text
 * (a run's input, a schedule's fixed input): the value the sdk serialised once is sent as
 * it is, never parsed back to be embedded. `undefined` entries are left out. (The sdk's
 * engine has the same helper for event payloads: it may not import the store.)
 */
export function rawJsonFields(fields: object, raw: Record<string, string | undefined>): string {
  let text = JSON.stringify(fields);
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    text = `${text.slice(0, -1)}${text.length > 2 ? "," : ""}${JSON.stringify(key)}:${value}}`;
  }
  return text;
}
