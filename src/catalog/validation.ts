/**
 * Validation of catalogue input: items and user profiles.
 */
import { ErrorCode, InvalidInputError, RecflowError } from '../domain/errors';
import {
  DEFAULT_EVENT_LIMITS,
  jsonText,
  unstorable,
  unstorableJson,
  validateId,
} from '../domain/events';

export interface ItemUpsert {
  id: string;
  title?: string | null;
  categories?: string[] | null;
  attributes?: Record<string, unknown> | null;
  available?: boolean | null;
}

export interface UserUpsert {
  id: string;
  attributes?: Record<string, unknown> | null;
}

export const CATALOGUE_LIMITS = {
  maxBatch: 1000,
  maxTitle: 500,
  maxCategories: 50,
  maxCategoryLength: 100,
  maxAttributesBytes: 16 * 1024,
};

const UTF8 = new TextEncoder();
/** C0 and C1 controls and DEL, as for ids (U+0085, NEXT LINE, among them). */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export function validateItems(inputs: readonly ItemUpsert[], field = 'inputs'): ItemUpsert[] {
  checkBatch(inputs, field);
  return inputs.map((input, i) => {
    const at = `${field}[${i}]`;
    const id = validateId(input.id, `${at}.id`, DEFAULT_EVENT_LIMITS);
    const titleProblem = input.title == null ? undefined : unstorable(input.title);
    if (titleProblem) throw new InvalidInputError(`${at}.title`, `${at}.title ${titleProblem}`);
    if (input.title != null && input.title.length > CATALOGUE_LIMITS.maxTitle) {
      throw new InvalidInputError(
        `${at}.title`,
        `${at}.title is longer than ${CATALOGUE_LIMITS.maxTitle} characters`,
      );
    }
    const categories =
      input.categories == null
        ? input.categories
        : validateCategories(input.categories, `${at}.categories`);
    const attributes = validateAttributes(input.attributes, `${at}.attributes`);
    return { id, title: input.title, categories, attributes, available: input.available };
  });
}

export function validateUsers(inputs: readonly UserUpsert[], field = 'inputs'): UserUpsert[] {
  checkBatch(inputs, field);
  return inputs.map((input, i) => ({
    id: validateId(input.id, `${field}[${i}].id`, DEFAULT_EVENT_LIMITS),
    attributes: validateAttributes(input.attributes, `${field}[${i}].attributes`),
  }));
}

function checkBatch(inputs: readonly { id: string }[], field: string): void {
  if (inputs.length > CATALOGUE_LIMITS.maxBatch) {
    throw new RecflowError(
      ErrorCode.BATCH_TOO_LARGE,
      `${field} holds ${inputs.length} entries; the maximum is ${CATALOGUE_LIMITS.maxBatch}`,
      { field, max: CATALOGUE_LIMITS.maxBatch },
    );
  }
  const seen = new Set<string>();
  inputs.forEach((input, i) => {
    if (seen.has(input.id))
      throw new InvalidInputError(
        `${field}[${i}].id`,
        `${field}[${i}].id repeats id "${input.id}"`,
      );
    seen.add(input.id);
  });
}

/**
 * What is wrong with a category name (to follow the field's name), or
 * undefined: the catalogue stores, and queries name, only categories that
 * pass.
 */
export function categoryProblem(c: unknown): string | undefined {
  if (
    typeof c !== 'string' ||
    c.length === 0 ||
    c.length > CATALOGUE_LIMITS.maxCategoryLength ||
    CONTROL_CHARS.test(c)
  ) {
    return `must be 1-${CATALOGUE_LIMITS.maxCategoryLength} characters without control characters`;
  }
  // " Drama" would be a category of its own beside "Drama", which no
  // filter naming "Drama" finds.
  if (/^\s|\s$/u.test(c)) return 'must not begin or end with whitespace';
  return unstorable(c);
}

function validateCategories(categories: string[], field: string): string[] {
  if (categories.length > CATALOGUE_LIMITS.maxCategories) {
    throw new InvalidInputError(
      field,
      `${field} holds more than ${CATALOGUE_LIMITS.maxCategories} categories`,
    );
  }
  for (const c of categories) {
    const problem = categoryProblem(c);
    if (problem) throw new InvalidInputError(field, `${field} entries ${problem}`);
  }
  // A category named twice counts once.
  return [...new Set(categories)];
}

function validateAttributes(
  attributes: Record<string, unknown> | null | undefined,
  field: string,
): Record<string, unknown> | null | undefined {
  if (attributes == null) return attributes;
  if (typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw new InvalidInputError(field, `${field} must be a JSON object`);
  }
  const bytes = UTF8.encode(jsonText(attributes, field)).length;
  if (bytes > CATALOGUE_LIMITS.maxAttributesBytes) {
    throw new InvalidInputError(
      field,
      `${field} is ${bytes} bytes; the limit is ${CATALOGUE_LIMITS.maxAttributesBytes}`,
    );
  }
  const problem = unstorableJson(attributes);
  if (problem) throw new InvalidInputError(field, `${field} ${problem}`);
  return attributes;
}
