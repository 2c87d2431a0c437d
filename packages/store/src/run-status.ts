/** The statuses a run ends in. */
export const TERMINAL_STATUSES = ["completed", "failed", "cancelled"] as const;

/** The same, as a SQL list: `('completed', 'failed', 'cancelled')`. */
export const TERMINAL_SQL = `(${TERMINAL_STATUSES.map((s) => `'${s}'`).join(", ")})`;
