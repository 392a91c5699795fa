import { createHash } from 'node:crypto';
import { claimIdempotencyKey, storeIdempotentResponse } from '../db/repositories/idempotency.js';
import { Problem } from '../problems.js';
import { inTransaction, type Actor, type ServiceContext, type Tx } from './context.js';

export interface UseCaseResult<T> {
  status: number;
  body: T;
  /** What a replay returns when `body` holds a secret, which is never stored. */
  replayBody?: unknown;
}

export interface IdempotentOutcome<T> {
  status: number;
  body: T | unknown;
  replayed: boolean;
}

export interface IdempotentRequest {
  key: string | undefined;
  method: string;
  path: string;
  body: unknown;
}

/** Key order must not make two equal bodies differ. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonical(body)}`).digest('hex');
}

/**
 * Runs a write use case at most once per (API key, Idempotency-Key): the first response is stored
 * in the same transaction as the write and replayed for the same request; another request under
 * the same key is refused with 422.
 */
export async function runIdempotent<T>(
  ctx: ServiceContext,
  actor: Actor,
  request: IdempotentRequest,
  work: (trx: Tx) => Promise<UseCaseResult<T>>,
): Promise<IdempotentOutcome<T>> {
  const { key } = request;
  if (key === undefined) {
    const result = await inTransaction(ctx, work);
    return { status: result.status, body: result.body, replayed: false };
  }
  const keyId = actor.keyId ?? '(anonymous)';
  const requestHash = requestFingerprint(request.method, request.path, request.body);
  return inTransaction(ctx, async (trx) => {
    const stored = await claimIdempotencyKey(trx, {
      keyId,
      idempotencyKey: key,
      method: request.method,
      path: request.path,
      requestHash,
      at: ctx.clock.now(),
    });
    if (stored) {
      if (stored.requestHash !== requestHash) {
        throw new Problem(422, 'idempotencyKeyReused', 'Idempotency-Key already used for another request',
          `The key was first used for ${stored.method} ${stored.path} with a different body; use a new key for a new request.`);
      }
      return { status: stored.statusCode ?? 200, body: stored.body, replayed: true };
    }
    const result = await work(trx);
    await storeIdempotentResponse(trx, keyId, key, result.status, result.replayBody ?? result.body);
    return { status: result.status, body: result.body, replayed: false };
  });
}
