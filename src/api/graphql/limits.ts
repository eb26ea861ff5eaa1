import { InvalidInputError } from '../../domain/errors';

/** Checks a `limit` argument against 1..max. */
export function checkLimit(limit: number, max: number, field = 'limit'): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidInputError(field, `${field} must be a whole number from 1 to ${max}`);
  }
  return limit;
}

/** Checks an id argument the same way event ids are checked. */
export function checkId(id: string, field: string): string {
  if (id.length === 0 || id.length > 128 || /[\u0000-\u001f\u007f-\u009f]/.test(id)) {
    throw new InvalidInputError(
      field,
      `${field} must be 1-128 characters without control characters`,
    );
  }
  return id;
}

/** Checks the parts of a recommendation filter the schema cannot. */
export function checkFilter(
  filter: { maxPerCategory?: number | null; mmrLambda?: number | null } | null | undefined,
): void {
  const cap = filter?.maxPerCategory;
  if (cap != null && (!Number.isInteger(cap) || cap < 1)) {
    throw new InvalidInputError(
      'filter.maxPerCategory',
      'filter.maxPerCategory must be a whole number of at least 1',
    );
  }
  const lambda = filter?.mmrLambda;
  if (lambda != null && !(lambda >= 0 && lambda <= 1)) {
    throw new InvalidInputError(
      'filter.mmrLambda',
      'filter.mmrLambda must be a number from 0 (most varied) to 1 (most relevant)',
    );
  }
}
