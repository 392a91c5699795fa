import type { DestinationStream, LoggerOptions } from 'pino';

/**
 * Personal data and secrets never reach the logs, at any depth: PINs, keys, API keys, names,
 * addresses (DESIGN.md "Logs"). Field names are matched case-insensitively.
 */
export const REDACTED_FIELDS = [
  'authorization', 'pin', 'currentPin', 'newPin', 'privateKey', 'privateKeyPem', 'secret', 'passphrase',
  'caKeyPassphrase', 'adminApiKey', 'name', 'alias', 'address', 'registeredAddress', 'cookie',
];
const REDACTED = new Set(REDACTED_FIELDS.map((f) => f.toLowerCase()));
const MAX_DEPTH = 10;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  // Requests, errors and other class instances go through pino's serializers, which keep only safe fields.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = REDACTED.has(key.toLowerCase()) ? '[REDACTED]' : redact(v, depth + 1);
  }
  return out;
}

export function loggerOptions(level: string, stream?: DestinationStream): LoggerOptions & { stream?: DestinationStream } {
  return {
    level,
    formatters: { log: (obj) => redact(obj) as Record<string, unknown> },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[REDACTED]' },
    ...(stream ? { stream } : {}),
  };
}
