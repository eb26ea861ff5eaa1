/**
 * What a request's caching headers ask of the response cache.
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The client wants an answer computed now: `Cache-Control: no-cache`,
 * `no-store` or `max-age=0` (what a browser sends on reload), or the older
 * `Pragma: no-cache`. Directives are read one by one, so `x-no-cache-ext`
 * is not `no-cache`.
 */
export function asksFresh(headers: IncomingHttpHeaders): boolean {
  const directives = (value: string | undefined) =>
    (value ?? '').split(',').map((d) => d.trim().toLowerCase());
  const control = directives(headers['cache-control']);
  const pragma = directives(headers.pragma);
  return (
    control.some(
      (d) =>
        d === 'no-cache' ||
        d.startsWith('no-cache=') ||
        d === 'no-store' ||
        /^max-age\s*=\s*(0+|"0+")$/.test(d),
    ) || pragma.includes('no-cache')
  );
}
