/**
 * Storage failures as clients see them: a store that cannot be reached is
 * SERVICE_UNAVAILABLE (retryable), never a masked internal error.
 */
import { ErrorCode, RecflowError } from '../domain/errors';
import { isTransient } from '../pipeline/retry';

export async function orUnavailable<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RecflowError || !isTransient(error)) throw error;
    throw new RecflowError(
      ErrorCode.SERVICE_UNAVAILABLE,
      `${what} is unavailable; retry later`,
      {},
      { cause: error },
    );
  }
}
