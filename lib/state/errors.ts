/**
 * The error of a state DB that cannot be used: corrupt, foreign, or written by a newer
 * version. It is a usage error (exit 2): nothing was changed, and the message says what
 * to do.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/**
 * A state DB that cannot be opened or used.
 *
 * @example
 * ```ts
 * throw new StateDbError('State database "/volume1/photos/.s3-smart-sync.db" is not a database.');
 * ```
 */
export class StateDbError extends UsageError {
  override name = "StateDbError";
}
