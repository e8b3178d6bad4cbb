/**
 * Two kinds of error: one the user can fix (a UserError, whose message says what to do next)
 * and everything else, which is a bug. The CLI's single top-level handler turns anything thrown
 * into one of the two (see cli/main.ts).
 */
export class UserError extends Error {
  /** What the user can do about it, printed on its own line after the message. */
  readonly hint: string | undefined;
  /** Process exit code for this error. */
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** True when `error` is (or wraps) a Node system error with this code, e.g. 'ENOENT'. */
export function isErrnoCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** The message of anything thrown, for logs and panes. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
