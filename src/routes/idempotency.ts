import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { IdempotentOutcome } from '../services/idempotency.js';

export const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$', description: 'Retry-safe key: the same key and body replay the first response' })),
});

/** A replay answers with the first status and says it is a replay. */
export function sendIdempotent<T>(reply: FastifyReply, outcome: IdempotentOutcome<T>): FastifyReply {
  if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
  return reply.code(outcome.status).send(outcome.body);
}
