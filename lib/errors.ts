/**
 * Error classes that carry an exit code. Library code throws them; only
 * `main.ts` turns them into messages and exit codes.
 *
 * @module
 */

/** Exit codes of the command line tool (see DESIGN.md). */
export const ExitCode = {
  /** Everything was done. */
  ok: 0,
  /** An operation failed or S3 was unreachable; work done so far is kept. */
  failure: 1,
  /** Usage or configuration error; nothing was changed. */
  usage: 2,
  /** Done, but something waits for the user (restores, unreadable files). */
  attention: 3,
  /** Interrupted by SIGINT (Ctrl-C): what was done is kept; run again to continue. */
  interrupted: 130,
  /** Stopped by SIGTERM: what was done is kept; run again to continue. */
  terminated: 143,
} as const;

/** One of the values of {@linkcode ExitCode}. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/**
 * A bad command line, configuration or argument: nothing was changed.
 *
 * @example
 * ```ts
 * throw new UsageError('Unknown option "--colour". Run "s3-smart-sync --help" for the options.');
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * The delete guard refused the deletes a run planned (an empty or half-empty directory,
 * more than `--max-delete`): nothing was changed.
 *
 * @example
 * ```ts
 * throw new DeleteRefusedError("Refusing to delete: 19 of 20 objects (95%) would be deleted.");
 * ```
 */
export class DeleteRefusedError extends UsageError {
  override name = "DeleteRefusedError";
}

/**
 * An operation against S3 or the local disk failed in a way that stops the run.
 *
 * @example
 * ```ts
 * throw new OperationError('Cannot list "s3://photos/2024/": connection refused');
 * ```
 */
export class OperationError extends Error {
  override name = "OperationError";
}

/** Returns the message of any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
