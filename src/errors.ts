/**
 * One error type for things that go wrong in the ordinary course of business (bad input, a rule
 * that refuses, a dependency that is down). `operational` errors are shown to the person as a
 * short message saying what to do next; anything else is a bug: logged with context, never shown.
 */
export type ErrorCode = 'invalid_input' | 'not_found' | 'forbidden' | 'conflict' | 'unavailable' | 'rule_refused';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly userMessage: string;
  readonly operational: boolean;
  readonly field: string | undefined;

  constructor(
    code: ErrorCode,
    userMessage: string,
    opts: { operational?: boolean; field?: string; cause?: unknown } = {},
  ) {
    super(userMessage, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.userMessage = userMessage;
    this.operational = opts.operational ?? true;
    this.field = opts.field;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Database errors that mean "the server is not reachable right now", not "your data is wrong". */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const name = err.name;
  return (
    name === 'MongoServerSelectionError' ||
    name === 'MongoNetworkError' ||
    name === 'MongoNotConnectedError' ||
    name === 'MongoNetworkTimeoutError' ||
    name === 'MongoTopologyClosedError' ||
    /buffering timed out|connection .* closed|ECONNREFUSED|client must be connected/i.test(err.message)
  );
}

/** Turns any failure into what a person may be told. */
export function userFacing(err: unknown): string {
  if (isAppError(err) && err.operational) return err.userMessage;
  if (isDatabaseUnavailable(err)) return 'The ticket store is not answering right now. Please try again in a minute.';
  return 'Something went wrong on our side; it has been logged. Please try again.';
}
