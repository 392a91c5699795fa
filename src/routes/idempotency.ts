import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IdempotentOutcome, IdempotentRequest } from '../services/idempotency.js';

export const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'Retry-safe key: the same key and body replay the first response' })),
});

/** A replay answers with the first status and says it is a replay. */
export function sendIdempotent<T>(reply: FastifyReply, outcome: IdempotentOutcome<T>): FastifyReply {
  if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
  return reply.code(outcome.status).send(outcome.body);
}

/** What the idempotency mechanism keys and fingerprints: the header, the method, the path and the body. */
export function idempotentRequest(request: FastifyRequest): IdempotentRequest {
  const key = request.headers['idempotency-key'];
  return { key: typeof key === 'string' ? key : undefined, method: request.method, path: request.url, body: request.body };
}
