import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as repo from '../db/repositories/api-keys.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import { notFound } from '../problems.js';
import { BoundedCache, cacheBus } from './cache-invalidation.js';
import { inRetriedTransaction, inTransaction, serviceInstance, type Actor, type ServiceContext } from './context.js';
import { runIdempotent, type IdempotentRequest } from './idempotency.js';
import type { Principal, Scope } from './scopes.js';

export const BOOTSTRAP_ADMIN_KEY_ID = 'key_bootstrap_admin';
export const ADMIN_KEY_FILE = 'admin-api-key';

export interface ApiKeyView {
  keyId: string;
  name: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface NewApiKey extends ApiKeyView {
  /** Shown once; never stored. */
  secret?: string;
  secretOmitted?: boolean;
}

// Secrets are 256 random bits, so a fast hash is enough: no dictionary to search.
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(): string {
  return `jpw_${randomBytes(32).toString('base64url')}`;
}

function view(k: repo.ApiKeyRecord): ApiKeyView {
  return {
    keyId: k.keyId,
    name: k.name,
    scopes: k.scopes,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

export async function createApiKey(
  ctx: ServiceContext,
  actor: Actor,
  request: IdempotentRequest,
  input: { name: string; scopes: Scope[]; expiresAt?: string },
) {
  return runIdempotent<NewApiKey>(ctx, actor, request, async (trx) => {
    const now = ctx.clock.now();
    const record: repo.ApiKeyRecord = {
      keyId: `key_${randomBytes(8).toString('hex')}`,
      name: input.name,
      scopes: [...new Set(input.scopes)],
      createdAt: now,
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
      revokedAt: null,
    };
    const secret = newSecret();
    await repo.insertApiKey(trx, record, hashSecret(secret));
    await appendAudit(trx, { at: now, keyId: actor.keyId, action: 'apiKey.created', resource: `api-keys/${record.keyId}`, requestId: actor.requestId, detail: { scopes: record.scopes } });
    const body = view(record);
    return { status: 201, body: { ...body, secret }, replayBody: { ...body, secretOmitted: true } };
  });
}

export async function listApiKeys(ctx: ServiceContext, afterKeyId: string | undefined, limit: number): Promise<ApiKeyView[]> {
  return (await repo.listApiKeys(ctx.db, afterKeyId, limit)).map(view);
}

export async function revokeApiKey(ctx: ServiceContext, actor: Actor, keyId: string): Promise<void> {
  try {
    await revokeApiKeyInTransaction(ctx, actor, keyId);
  } finally {
    // This process refuses the key from the next request on; the others when NOTIFY api_keys_changed arrives.
    cacheBus(ctx).invalidate('api_keys_changed');
  }
}

async function revokeApiKeyInTransaction(ctx: ServiceContext, actor: Actor, keyId: string): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now();
    const key = await repo.findApiKey(trx, keyId);
    if (!key) throw notFound('API key', `No API key ${keyId}.`);
    if (key.revokedAt) return;
    await repo.revokeApiKey(trx, keyId, now);
    await appendAudit(trx, { at: now, keyId: actor.keyId, action: 'apiKey.revoked', resource: `api-keys/${keyId}`, requestId: actor.requestId });
  });
}

// Known keys by secret hash, so that a request costs no query for its key (bench/status.ts).
// Bounded (KEY_CACHE_MAX keys, KEY_CACHE_TTL_MS each), used only while this process listens for
// api_keys_changed (src/services/cache-invalidation.ts): a key revoked through any process stops
// working here as soon as the NOTIFY arrives. Unknown keys are never cached.
const KEY_CACHE_MAX = 1000;
const KEY_CACHE_TTL_MS = 30_000;
type KnownKey = repo.ApiKeyRecord & { secretHash: string };
const keyCaches = new WeakMap<ServiceContext, BoundedCache<KnownKey>>();

function keyCache(ctx: ServiceContext): BoundedCache<KnownKey> {
  let cache = keyCaches.get(serviceInstance(ctx));
  if (!cache) {
    const bus = cacheBus(ctx);
    const fresh = new BoundedCache<KnownKey>(bus, KEY_CACHE_MAX, KEY_CACHE_TTL_MS);
    bus.on('api_keys_changed', () => fresh.clear());
    keyCaches.set(serviceInstance(ctx), (cache = fresh));
  }
  return cache;
}

/** Whether the presented secret's hash is the stored one, compared in constant time. */
function sameHash(stored: string, presented: string): boolean {
  const a = Buffer.from(stored, 'utf8');
  const b = Buffer.from(presented, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The principal behind a bearer token, or undefined when unknown, revoked or expired. The database
 * finds candidates by the first 64 bits of the secret's hash; what decides is the constant-time
 * comparison of the whole presented hash with each candidate's stored hash.
 */
export async function authenticate(ctx: ServiceContext, token: string): Promise<Principal | undefined> {
  const hash = hashSecret(token);
  const cache = keyCache(ctx);
  let key = cache.get(hash);
  if (!key) {
    const generation = cacheBus(ctx).generation;
    key = (await repo.findApiKeysBySecretHashPrefix(ctx.db, hash)).find((k) => sameHash(k.secretHash, hash));
    if (!key) return undefined;
    cache.set(hash, key, generation);
  }
  const now = ctx.clock.now();
  if (key.revokedAt && key.revokedAt <= now) return undefined;
  if (key.expiresAt && key.expiresAt <= now) return undefined;
  return { keyId: key.keyId, scopes: key.scopes };
}

/**
 * Makes sure an admin key exists: ADMIN_API_KEY when set; in development, one generated on first
 * start and kept in DATA_DIR/admin-api-key (0600). Returns the file written, if any (never the key).
 */
export async function bootstrapAdminKey(ctx: ServiceContext): Promise<{ keyFile?: string }> {
  let secret = ctx.config.adminApiKey;
  let keyFile: string | undefined;
  if (!secret) {
    keyFile = path.resolve(ctx.config.dataDir, ADMIN_KEY_FILE);
    if (!existsSync(keyFile)) {
      // Processes starting together on one DATA_DIR (WORKERS > 1) must end up with one key: the file
      // is written whole under a name of this process's own and linked into place, which fails if
      // another got there first; everyone then uses what the file holds.
      const tmp = `${keyFile}.${process.pid}.tmp`;
      mkdirSync(path.dirname(keyFile), { recursive: true });
      writeFileSync(tmp, `${newSecret()}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      try {
        linkSync(tmp, keyFile);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        rmSync(tmp, { force: true });
      }
    }
    secret = readFileSync(keyFile, 'utf8').trim();
  }
  const record: repo.ApiKeyRecord = {
    keyId: BOOTSTRAP_ADMIN_KEY_ID,
    name: 'bootstrap admin',
    scopes: ['admin'],
    createdAt: ctx.clock.now(),
    expiresAt: null,
    revokedAt: null,
  };
  // Processes starting together can both pass the upsert's check on key_id and then meet on the
  // secret's unique index (23505), which ON CONFLICT (key_id) does not cover: retried, the upsert
  // then finds the row and updates it.
  await inRetriedTransaction(ctx, (trx) => repo.upsertApiKey(trx, record, hashSecret(secret)));
  return keyFile ? { keyFile } : {};
}
