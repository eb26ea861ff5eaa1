/**
 * Small, strict readers for environment variables. Each names the variable
 * in its error so a bad deployment says exactly what to fix.
 */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Collects every problem before failing, so one start-up reports them all. */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    return raw;
  }

  optional(name: string): string | undefined {
    const raw = this.env[name];
    return raw === undefined || raw === '' ? undefined : raw;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
      return this.fail(
        name,
        `must be a whole number from ${min} to ${max}, got "${raw}"`,
        fallback,
      );
    }
    return value;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      return this.fail(name, `must be a number from ${min} to ${max}, got "${raw}"`, fallback);
    }
    return value;
  }

  /** A duration such as `250ms`, `30s`, `5m`, `2h` or `7d`; a bare number is ms. */
  duration(name: string, fallbackMs: number, minMs: number, maxMs: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallbackMs;
    const ms = parseDuration(raw);
    if (ms === null || ms < minMs || ms > maxMs) {
      return this.fail(
        name,
        `must be a duration from ${minMs} ms to ${maxMs} ms ` +
          `(a number of ms, or with ms, s, m, h or d after it), got "${raw}"`,
        fallbackMs,
      );
    }
    return ms;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      return this.fail(name, `must be one of ${allowed.join(', ')}, got "${raw}"`, fallback);
    }
    return raw as T;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    return this.fail(name, `must be true or false, got "${raw}"`, fallback);
  }

  /** A URL whose scheme is one of `schemes`. Never echoes the value: it may hold a password. */
  url(name: string, fallback: string, schemes: readonly string[]): string {
    const raw = this.string(name, fallback);
    try {
      const url = new URL(raw);
      if (!schemes.includes(url.protocol.replace(/:$/, ''))) {
        return this.fail(name, `must use one of the schemes ${schemes.join(', ')}`, fallback);
      }
      return raw;
    } catch {
      return this.fail(name, `must be a URL (${schemes.join(' or ')})`, fallback);
    }
  }

  /** A name made of letters, digits, `_` and `-` (safe in NATS and Redis names). */
  token(name: string, fallback: string, extra = ''): string {
    const raw = this.string(name, fallback);
    const pattern = new RegExp(`^[A-Za-z0-9_\\-${extra}]{1,64}$`);
    if (!pattern.test(raw)) {
      return this.fail(
        name,
        `must be 1-64 characters of letters, digits, _ or -` +
          `${extra ? ` or ${extra}` : ''}, got "${raw}"`,
        fallback,
      );
    }
    return raw;
  }

  /** Parses with `parse`; its thrown message becomes the problem. */
  custom<T>(name: string, fallback: T, parse: (raw: string) => T): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    try {
      return parse(raw);
    } catch (error) {
      return this.fail(name, (error as Error).message, fallback);
    }
  }

  /** Throws a ConfigError if anything was wrong. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private fail<T>(name: string, message: string, fallback: T): T {
    this.problems.push(`${name} ${message}`);
    return fallback;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(raw: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!match) return null;
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']);
}
