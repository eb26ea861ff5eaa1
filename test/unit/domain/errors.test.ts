import {
  ErrorCode,
  InvalidInputError,
  RecflowError,
  RETRYABLE_CODES,
} from '../../../src/domain/errors';

describe('ErrorCode', () => {
  test('spells every public code as its own name, the stable contract clients branch on', () => {
    for (const [name, code] of Object.entries(ErrorCode)) expect(code).toBe(name);
  });

  test('holds the documented codes', () => {
    expect(Object.keys(ErrorCode).sort()).toEqual([
      'BAD_REQUEST',
      'BAD_USER_INPUT',
      'BATCH_TOO_LARGE',
      'INGESTION_UNAVAILABLE',
      'INTERNAL_SERVER_ERROR',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
      'UNAUTHENTICATED',
    ]);
  });
});

describe('RecflowError', () => {
  test('carries its code, message, details and cause', () => {
    const cause = new Error('connection refused');
    const error = new RecflowError(
      ErrorCode.SERVICE_UNAVAILABLE,
      'redis is down',
      { backend: 'redis' },
      { cause },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RecflowError');
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toBe('redis is down');
    expect(error.details).toEqual({ backend: 'redis' });
    expect(error.cause).toBe(cause);
  });

  test('has empty details when none are given', () => {
    expect(new RecflowError(ErrorCode.BAD_REQUEST, 'not JSON').details).toEqual({});
  });

  test.each(['INGESTION_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'RATE_LIMITED'] as const)(
    'says a %s error may be retried as it is',
    (code) => {
      expect(new RecflowError(code, 'later').retryable).toBe(true);
      expect(RETRYABLE_CODES.has(code)).toBe(true);
    },
  );

  test.each([
    'BAD_USER_INPUT',
    'BATCH_TOO_LARGE',
    'BAD_REQUEST',
    'UNAUTHENTICATED',
    'INTERNAL_SERVER_ERROR',
  ] as const)('says a %s error must not be retried unchanged', (code) => {
    expect(new RecflowError(code, 'no').retryable).toBe(false);
  });
});

describe('InvalidInputError', () => {
  test('is a non-retryable BAD_USER_INPUT RecflowError naming its field', () => {
    const error = new InvalidInputError('inputs[2].itemId', 'inputs[2].itemId is empty');
    expect(error).toBeInstanceOf(RecflowError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('InvalidInputError');
    expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(error.details).toEqual({ field: 'inputs[2].itemId' });
    expect(error.message).toBe('inputs[2].itemId is empty');
    expect(error.retryable).toBe(false);
  });
});
