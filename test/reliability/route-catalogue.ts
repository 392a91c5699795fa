/**
 * Shared by the access-control matrix and the fuzzer: every registered route (from the auth plugin's
 * table, so routes added later are picked up), keys of every kind, and the public-route allow-list.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { insertApiKey } from '../../src/db/repositories/api-keys.js';
import { hashSecret } from '../../src/services/api-keys.js';
import { SCOPES, type Scope } from '../../src/services/scopes.js';

export interface RouteEntry {
  method: string;
  url: string;
  auth: string;
}

/** The only routes anyone may call without a key. A new public route must be added here deliberately. */
export const PUBLIC_ROUTES: RegExp[] = [
  /^\/health\/(live|ready)$/,
  /^\/metrics$/,
  /^\/openapi\.json$/,
  /^\/docs(\/.*)?$/,
  /^\/pki\//,
];

export function routes(app: FastifyInstance): RouteEntry[] {
  const seen = new Set<string>();
  return app.routeAuthTable.filter((r) => {
    const k = `${r.method} ${r.url}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A concrete path for a route pattern: every :param and * gets `fill`. */
export function concretePath(url: string, fill = 'x'): string {
  return url.replace(/:[A-Za-z0-9_]+/g, fill).replace(/\*/g, fill);
}

export type KeyKind = 'none' | 'revoked' | 'expired' | 'malformed' | Scope;

export interface Keys {
  secrets: Partial<Record<KeyKind, string>>;
}

/** One key per scope, plus a revoked and an expired admin key, written straight into api_keys. */
export async function makeKeys(app: FastifyInstance): Promise<Record<Exclude<KeyKind, 'none'>, string>> {
  const now = app.clock.now();
  const out: Partial<Record<Exclude<KeyKind, 'none'>, string>> = { malformed: 'not a key at all!' };
  const add = async (kind: Exclude<KeyKind, 'none' | 'malformed'>, scopes: Scope[], extra: { expiresAt?: Date; revokedAt?: Date } = {}) => {
    const secret = `jpw_${randomBytes(32).toString('base64url')}`;
    await insertApiKey(app.ctx.db, {
      keyId: `key_matrix_${kind.replace(/[^a-z]/g, '_')}`,
      name: `matrix ${kind}`,
      scopes,
      createdAt: new Date(now.getTime() - 86_400_000),
      expiresAt: extra.expiresAt ?? null,
      revokedAt: extra.revokedAt ?? null,
    }, hashSecret(secret));
    out[kind] = secret;
  };
  for (const scope of SCOPES) await add(scope, [scope]);
  await add('revoked', ['admin'], { revokedAt: new Date(now.getTime() - 1000) });
  await add('expired', ['admin'], { expiresAt: new Date(now.getTime() - 1000) });
  return out as Record<Exclude<KeyKind, 'none'>, string>;
}
