/**
 * How an item is stored in the hot copy: one string per item,
 *
 *   "<version>|<record as JSON>\n<category>\t<category>\t..."
 *
 * The categories after the line break repeat the record's, so that the
 * script that writes items (WRITE_ITEMS in item-scripts.ts) can read them without
 * parsing the JSON. JSON has no raw line breaks, and categories no control
 * characters, so neither separator can occur inside what it separates.
 * Values written before the list was added end after the JSON, and read the
 * same. A remembered absence is "0|null". A stub, "\n<category>\t...", holds
 * no record, only the categories whose popularity sets a refill put the item
 * in before Redis had its record (FILL_POPULAR): it reads as a miss, and the
 * record's first write takes the item out of those it does not name.
 */
import type { ItemFeatures } from '../../domain/features';

export function encodeItem(record: ItemFeatures): string {
  let categories = '';
  for (const c of record.categories) categories += `${c}\t`;
  return `${record.version}|${JSON.stringify(record)}\n${categories}`;
}

/** The record; null for a remembered absence; undefined for a miss. */
export function decodeItem(value: string | null): ItemFeatures | null | undefined {
  if (value === null || value.startsWith('\n')) return undefined;
  const bar = value.indexOf('|');
  if (bar < 0) return undefined;
  const end = value.indexOf('\n', bar);
  return JSON.parse(end < 0 ? value.slice(bar + 1) : value.slice(bar + 1, end)) as ItemFeatures;
}
