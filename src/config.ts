import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * Every setting comes from the environment and is checked once, here.
 * The README's settings table mirrors this schema; keep them together.
 */
const Bool = Type.Union([Type.Literal('true'), Type.Literal('false')]);

export const DEV_CA_KEY_PASSPHRASE = 'jpki-ward-development-passphrase';

const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], { default: 'development' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  WORKERS: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  PUBLIC_BASE_URL: Type.String({ pattern: '^https?://[^/]+(/.*[^/])?$', default: 'http://localhost:3000' }),
  CA_KEY_PASSPHRASE: Type.String({ minLength: 12, default: DEV_CA_KEY_PASSPHRASE }),
  ADMIN_API_KEY: Type.Optional(Type.String({ minLength: 24 })),
  CLOCK_CONTROL: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { default: 'disabled' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, default: 6000 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000 }),
  CORS_ORIGINS: Type.String({ default: '' }),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5000 }),
  BATCH_PROGRESS_LOG_MS: Type.Integer({ minimum: 100, default: 5000 }),
  OCSP_CACHE_MAX_ENTRIES: Type.Integer({ minimum: 0, default: 100_000 }),
  RESIDENT_CODE_PATTERN: Type.String({ minLength: 1, default: '^[0-9A-Za-z-]{1,20}$' }),
  FEB29_BIRTHDAY_IN_COMMON_YEAR: Type.Union([Type.Literal('02-28'), Type.Literal('03-01')], { default: '02-28' }),
  ALIAS_CHANGE_REVOKES_SIGNATURE: Bool,
  DEADLINE_ROLLS_TO_NEXT_OPEN_DAY: Bool,
  ENFORCE_OPENING_HOURS: Bool,
  INQUIRY_ANSWER_MONTHS: Type.Integer({ minimum: 1, maximum: 12, default: 1 }),
  INQUIRY_CANCEL_ON_RESIDENT_CHANGE: Bool,
  CRL_VALIDITY_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 30, default: 24 }),
  OCSP_VALIDITY_HOURS: Type.Integer({ minimum: 1, maximum: 24 * 30, default: 96 }),
  BATCH_MAX_LINES: Type.Integer({ minimum: 1, default: 1_000_000 }),
});
type Env = Static<typeof EnvSchema>;

const BOOL_DEFAULTS = {
  ALIAS_CHANGE_REVOKES_SIGNATURE: 'true',
  DEADLINE_ROLLS_TO_NEXT_OPEN_DAY: 'true',
  ENFORCE_OPENING_HOURS: 'true',
  INQUIRY_CANCEL_ON_RESIDENT_CHANGE: 'true',
} as const;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  /** Processes serving the port (src/server.ts: above 1, a node:cluster primary forks that many). */
  workers: number;
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: Env['LOG_LEVEL'];
  publicBaseUrl: string;
  caKeyPassphrase: string;
  adminApiKey: string | undefined;
  clockControl: boolean;
  bodyLimitBytes: number;
  /** Longest time a client may take to send a whole request (slow-loris bodies get 408 and are cut off). */
  requestTimeoutMs: number;
  rateLimit: { max: number; windowMs: number };
  maxEventLoopDelayMs: number;
  /** Browser origins allowed cross-origin requests (exact `scheme://host[:port]`); empty: CORS off. */
  corsOrigins: string[];
  db: { poolMax: number; statementTimeoutMs: number };
  /** How often a running NDJSON batch logs its progress. */
  batchProgressLogMs: number;
  /** Pre-signed OCSP answers kept in memory (src/services/ocsp-cache.ts); 0 turns the cache off. */
  ocspCacheMaxEntries: number;
  residentCodePattern: RegExp;
  policy: {
    feb29BirthdayInCommonYear: '02-28' | '03-01';
    aliasChangeRevokesSignature: boolean;
    deadlineRollsToNextOpenDay: boolean;
    enforceOpeningHours: boolean;
    inquiryAnswerMonths: number;
    /** addressChanged, movedOutAbroad and died cancel the resident's open inquiry cases. */
    inquiryCancelOnResidentChange: boolean;
    crlValidityHours: number;
    ocspValidityHours: number;
    batchMaxLines: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`Invalid setting ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const NUMERIC = new Set(
  Object.entries(EnvSchema.properties)
    .filter(([, s]) => (s as { type?: string }).type === 'integer')
    .map(([k]) => k),
);

/** Reads the settings from `source` (process.env by default); throws ConfigError naming the first bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = { ...BOOL_DEFAULTS };
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key];
    if (value === undefined || value === '') continue;
    raw[key] = NUMERIC.has(key) && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  const env = Value.Default(EnvSchema, raw) as Env;
  const first = Value.Errors(EnvSchema, env).First();
  if (first) {
    const variable = first.path.split('/')[1] || '(environment)';
    const choices = (first.schema as { anyOf?: { const?: unknown }[] }).anyOf?.map((s) => s.const);
    const expected = choices ? `expected one of ${choices.join(', ')}` : first.message;
    throw new ConfigError(variable, `${expected} (got ${JSON.stringify(raw[variable] ?? null)})`);
  }
  let residentCodePattern: RegExp;
  try {
    residentCodePattern = new RegExp(env.RESIDENT_CODE_PATTERN);
  } catch (e) {
    throw new ConfigError('RESIDENT_CODE_PATTERN', (e as Error).message);
  }
  const corsOrigins = env.CORS_ORIGINS.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of corsOrigins) {
    // Exact origins only, as a browser sends them: no wildcard, path or trailing slash.
    if (!/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(origin) && !/^https?:\/\/\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/.test(origin)) {
      throw new ConfigError('CORS_ORIGINS', `expected comma-separated origins such as https://portal.example.jp (got ${JSON.stringify(origin)})`);
    }
  }
  if (env.WORKERS > 1) {
    // Each worker is a process of its own: PGlite's files belong to one process, and the service
    // clock (src/clock.ts, moved by PUT /v1/clock) is an offset held in each process's memory.
    if (!env.DATABASE_URL) throw new ConfigError('WORKERS', 'above 1 needs DATABASE_URL (embedded PGlite is one process\'s files)');
    if (env.CLOCK_CONTROL === 'enabled') throw new ConfigError('WORKERS', 'above 1 is refused with CLOCK_CONTROL=enabled (each process would keep its own clock)');
  }
  if (env.NODE_ENV === 'production') {
    if (env.CA_KEY_PASSPHRASE === DEV_CA_KEY_PASSPHRASE) {
      throw new ConfigError('CA_KEY_PASSPHRASE', 'the development default is refused when NODE_ENV=production');
    }
    if (env.CLOCK_CONTROL === 'enabled') {
      throw new ConfigError('CLOCK_CONTROL', 'clock control is refused when NODE_ENV=production');
    }
    if (!env.ADMIN_API_KEY) {
      throw new ConfigError('ADMIN_API_KEY', 'required when NODE_ENV=production');
    }
  }
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    workers: env.WORKERS,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    logLevel: env.LOG_LEVEL,
    publicBaseUrl: env.PUBLIC_BASE_URL,
    caKeyPassphrase: env.CA_KEY_PASSPHRASE,
    adminApiKey: env.ADMIN_API_KEY,
    clockControl: env.CLOCK_CONTROL === 'enabled',
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
    maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
    corsOrigins,
    db: { poolMax: env.DB_POOL_MAX, statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS },
    batchProgressLogMs: env.BATCH_PROGRESS_LOG_MS,
    ocspCacheMaxEntries: env.OCSP_CACHE_MAX_ENTRIES,
    residentCodePattern,
    policy: {
      feb29BirthdayInCommonYear: env.FEB29_BIRTHDAY_IN_COMMON_YEAR,
      aliasChangeRevokesSignature: env.ALIAS_CHANGE_REVOKES_SIGNATURE === 'true',
      deadlineRollsToNextOpenDay: env.DEADLINE_ROLLS_TO_NEXT_OPEN_DAY === 'true',
      enforceOpeningHours: env.ENFORCE_OPENING_HOURS === 'true',
      inquiryAnswerMonths: env.INQUIRY_ANSWER_MONTHS,
      inquiryCancelOnResidentChange: env.INQUIRY_CANCEL_ON_RESIDENT_CHANGE === 'true',
      crlValidityHours: env.CRL_VALIDITY_HOURS,
      ocspValidityHours: env.OCSP_VALIDITY_HOURS,
      batchMaxLines: env.BATCH_MAX_LINES,
    },
  };
}
