import { style } from "./style.js";

/** A log line as the client or the store returns it. */
export interface PrintableLogLine {
  at: Date;
  level: string;
  message: string;
  fields?: unknown;
  step?: string | null | undefined;
  attempt?: number | null | undefined;
}

const LEVEL_STYLE: Record<string, (text: string) => string> = { warn: style.yellow, error: style.red, debug: style.dim };

/** One `ctx.log` line as the CLI prints it: time, step#attempt, level, message, fields. */
export function formatLogLine(line: PrintableLogLine): string {
  const where = line.step ? ` ${line.step}#${line.attempt ?? 1}` : "";
  const level = (LEVEL_STYLE[line.level] ?? ((t: string) => t))(line.level);
  const fields = line.fields && typeof line.fields === "object" && Object.keys(line.fields).length > 0 ? ` ${JSON.stringify(line.fields)}` : "";
  return `${style.dim(line.at.toISOString())}${where} ${level} ${line.message}${fields}`;
}
