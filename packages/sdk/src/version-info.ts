import type { VersionRecord } from "@reprise/store";

/** A deployment version (`new Worker({ version })`), as `client.versions()` shows it. */
export interface VersionInfo {
  /** Undefined for runs no versioned worker has run yet (or runs of workers without a version). */
  version?: string;
  /** When a worker of it was first seen. */
  firstSeenAt?: Date;
  /** Runs not ended that it started: when 0, its workers can go. */
  openRuns: number;
  /** Of those, the pinned ones: only a worker of this version continues them. */
  pinnedRuns: number;
  /** Workers of it alive now. */
  liveWorkers: number;
  lastSeenAt?: Date;
  /** `"current"`: the newest version with a live worker, which takes new runs; `"draining"`: older, with live workers, continuing its pinned runs; `"stopped"`: no live worker. */
  state: "current" | "draining" | "stopped" | "unversioned";
}

/** Versions newest first, the unversioned runs last; the newest one with a live worker is current. */
export function toVersionInfo(records: readonly VersionRecord[]): VersionInfo[] {
  const current = records.find((r) => r.version !== null && r.liveWorkers > 0)?.version ?? undefined;
  return records.map((r) => ({
    ...(r.version !== null ? { version: r.version } : {}),
    ...(r.firstSeenAt ? { firstSeenAt: r.firstSeenAt } : {}),
    openRuns: r.openRuns,
    pinnedRuns: r.pinnedRuns,
    liveWorkers: r.liveWorkers,
    ...(r.lastSeenAt ? { lastSeenAt: r.lastSeenAt } : {}),
    state: r.version === null ? "unversioned" : r.version === current ? "current" : r.liveWorkers > 0 ? "draining" : "stopped",
  }));
}
