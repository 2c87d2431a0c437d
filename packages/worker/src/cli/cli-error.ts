/** A mistake in how the CLI was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A command found something wrong (a replay that diverges): printed as one line after its report, exit code 1. */
export class Finding extends Error {
  override name = "Finding";
}
