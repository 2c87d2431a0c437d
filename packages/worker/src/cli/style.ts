/** Terminal styling, only when stdout is a TTY (and NO_COLOR is not set). */
const enabled = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

const wrap = (open: number, close: number) => (text: string) => (enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text);

export const style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  blue: wrap(34, 39),
  cyan: wrap(36, 39),
  enabled,
};

/** Visible width of a string (ANSI codes excluded). */
export function width(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

/** Renders rows as aligned columns; the last column is not padded. */
export function table(rows: readonly string[][], options: { header?: string[] } = {}): string {
  const all = options.header ? [options.header.map((h) => style.bold(h)), ...rows] : [...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...all.map((r) => width(r[i] ?? ""))));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - width(cell))))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * How wide output may be: the terminal's width, else `COLUMNS`, else 120 (a file or a
 * pipe has no width; a line of 120 still reads in most viewers).
 */
export function outputWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 120;
}

/** `text` on one line, cut to `max` characters with an ellipsis when it was longer. */
export function cut(text: string, max: number): string {
  const line = text.replace(/\s*\n\s*/g, " ");
  return line.length <= max ? line : `${line.slice(0, Math.max(0, max - 1))}…`;
}

/** The width left for the last column of {@link table} once the others take theirs, in `total`. */
export function roomForLast(rows: readonly string[][], total: number): number {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  let used = 0;
  for (let i = 0; i < columns - 1; i++) used += Math.max(0, ...rows.map((r) => width(r[i] ?? ""))) + 2;
  return total - used;
}
