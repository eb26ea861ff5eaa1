/**
 * Structured logging: one JSON object per line on stdout, levelled, with
 * secrets redacted. Components take a child logger that names them, and
 * request handlers add the correlation id.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'recflow', pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'authorization',
        '*.authorization',
        'headers.authorization',
        'headers["x-api-key"]',
        'apiKey',
        '*.apiKey',
        'password',
        '*.password',
        'url',
        '*.url',
      ],
      censor: '[redacted]',
    },
  });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Removes the password from a connection URL so that it can be logged. */
export function safeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '[unparseable url]';
  }
}
