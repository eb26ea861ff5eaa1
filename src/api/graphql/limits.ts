import { categoryProblem } from '../../catalog/validation';
import { InvalidInputError } from '../../domain/errors';
import { unstorable } from '../../domain/events';

/** Checks a `limit` argument against 1..max. */
export function checkLimit(limit: number, max: number, field = 'limit'): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new InvalidInputError(field, `${field} must be a whole number from 1 to ${max}`);
  }
  return limit;
}

/**
 * Checks an id argument by the event ids' rules of length, characters and
 * Unicode. (Whitespace at either end is let through: such an id can never
 * have been stored, so it simply finds nothing.)
 */
export function checkId(id: string, field: string): string {
  // A lone surrogate has no UTF-8 form: such an id would read the data of
  // the id stored with U+FFFD in its place, and never get its own notices.
  if (
    id.length === 0 ||
    id.length > 128 ||
    /[\u0000-\u001f\u007f-\u009f]/.test(id) ||
    unstorable(id) !== undefined
  ) {
    throw new InvalidInputError(
      field,
      `${field} must be 1-128 characters of well-formed Unicode without control characters`,
    );
  }
  return id;
}

/** Checks a category argument by the catalogue's rules: one that breaks them names nothing. */
export function checkCategory(category: string, field: string): string {
  const problem = categoryProblem(category);
  if (problem) throw new InvalidInputError(field, `${field} ${problem}`);
  return category;
}

/**
 * Most entries in each of a filter's lists. Each included category costs a
 * read of its popular list, so an unbounded list would let one request
 * fan out to thousands of reads.
 */
export const MAX_FILTER_CATEGORIES = 50;
export const MAX_FILTER_EXCLUDED_ITEMS = 1000;

/** Checks the parts of a recommendation filter the schema cannot. */
export function checkFilter(
  filter:
    | {
        maxPerCategory?: number | null;
        mmrLambda?: number | null;
        includeCategories?: readonly string[] | null;
        excludeCategories?: readonly string[] | null;
        excludeItemIds?: readonly string[] | null;
      }
    | null
    | undefined,
): void {
  const lists = [
    ['includeCategories', filter?.includeCategories, MAX_FILTER_CATEGORIES],
    ['excludeCategories', filter?.excludeCategories, MAX_FILTER_CATEGORIES],
    ['excludeItemIds', filter?.excludeItemIds, MAX_FILTER_EXCLUDED_ITEMS],
  ] as const;
  for (const [name, list, most] of lists) {
    if (list && list.length > most) {
      throw new InvalidInputError(`filter.${name}`, `filter.${name} takes at most ${most} entries`);
    }
  }
  for (const name of ['includeCategories', 'excludeCategories'] as const) {
    for (const category of filter?.[name] ?? []) {
      const problem = categoryProblem(category);
      if (problem) {
        throw new InvalidInputError(`filter.${name}`, `filter.${name} entries ${problem}`);
      }
    }
  }
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
