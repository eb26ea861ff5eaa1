/**
 * recflow's public error vocabulary.
 *
 * Every error a client can see carries one of these codes in
 * `extensions.code`. The codes are a stable contract: clients branch on them,
 * so never rename one. Messages are for humans and may change.
 */
export const ErrorCode = {
  /** The request's input is invalid; `extensions.field` names the culprit. */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** A batch holds more entries than the documented maximum. */
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  /** The HTTP body is not valid JSON or not a GraphQL request. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The event stream cannot take writes now; retry with the same ids. */
  INGESTION_UNAVAILABLE: 'INGESTION_UNAVAILABLE',
  /** A storage dependency needed to answer is down; retry later. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** Missing or wrong API key. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The caller exceeded its request budget; retry after `retryAfterMs`. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Anything unexpected. Details are logged with the correlation id only. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes after which the same request may simply be sent again. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.INGESTION_UNAVAILABLE,
  ErrorCode.SERVICE_UNAVAILABLE,
  ErrorCode.RATE_LIMITED,
]);

/**
 * An error recflow raises on purpose. Adapters translate it to their
 * transport (a GraphQL error, an exit code); anything that is not a
 * RecflowError is unexpected and gets masked.
 */
export class RecflowError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RecflowError';
    this.code = code;
    this.details = details;
  }

  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

/** A caller mistake about one input field. */
export class InvalidInputError extends RecflowError {
  constructor(field: string, message: string) {
    super(ErrorCode.BAD_USER_INPUT, message, { field });
    this.name = 'InvalidInputError';
  }
}
