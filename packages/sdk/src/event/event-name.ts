import { ValidationError } from "../errors.js";

const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,199}$/;
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:\-/@+=]{0,199}$/;

/**
 * Checks an event name (`workflow({ on })`, `client.emit`): 1-200 letters, digits and
 * `_ . : - /`, starting with a letter or digit — what `emit()` in SQL accepts too.
 */
export function checkEventName(name: unknown, where: string): string {
  if (typeof name !== "string" || !EVENT_NAME.test(name)) {
    throw new ValidationError(`${where}: event name ${JSON.stringify(name)} is invalid: use 1-200 letters, digits and _ . : - /, starting with a letter or digit`);
  }
  return name;
}

/** Checks an event id: 1-200 letters, digits and `_ . : - / @ + =` (what `emit()` in SQL accepts). */
export function checkEventId(id: unknown): string {
  if (typeof id !== "string" || !EVENT_ID.test(id)) {
    throw new ValidationError(`event id ${JSON.stringify(id)} is invalid: use 1-200 letters, digits and _ . : - / @ + =`);
  }
  return id;
}
