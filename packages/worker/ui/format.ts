/** Milliseconds as a person reads them: 850ms, 4.2s, 3m 05s, 2h 10m, 3d 4h. */
export function duration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return "–";
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const s = Math.floor(ms / 1_000);
  if (s < 3_600) return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3_600)}h`;
}

/** A time in the browser's zone, to the second. */
export function time(iso: string | undefined | null): string {
  if (!iso) return "–";
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? "–" : at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function json(value: unknown): string {
  if (value === undefined) return "–";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function since(iso: string, until?: string): number {
  return (until ? Date.parse(until) : Date.now()) - Date.parse(iso);
}
