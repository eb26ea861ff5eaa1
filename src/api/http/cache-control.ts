/**
 * What a request's caching headers ask of the response cache.
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The client wants an answer computed now: `Cache-Control: no-cache`,
 * `no-store` or `max-age=0` (what a browser sends on reload), or the older
 * `Pragma: no-cache`. Directives are read one by one, so `x-no-cache-ext`
 * is not `no-cache`, and a comma inside a quoted value does not start one.
 */
export function asksFresh(headers: IncomingHttpHeaders): boolean {
  // Most requests send neither header: nothing to split.
  if (headers['cache-control'] === undefined && headers.pragma === undefined) return false;
  const control = directives(headers['cache-control']);
  const pragma = directives(headers.pragma);
  return (
    control.some(
      (d) => /^no-cache\s*(=|$)/.test(d) || d === 'no-store' || /^max-age\s*=\s*(0+|"0+")$/.test(d),
    ) || pragma.includes('no-cache')
  );
}

/** A header's directives, trimmed and in lower case; commas inside quotes do not split. */
function directives(value: string | undefined): string[] {
  if (value === undefined) return [];
  const found: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i += 1) {
    const c = value[i];
    if (c === '\\' && quoted) i += 1;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      found.push(value.slice(start, i).trim().toLowerCase());
      start = i + 1;
    }
  }
  found.push(value.slice(start).trim().toLowerCase());
  return found;
}
