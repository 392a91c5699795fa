import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { headerHoldsMyNumber } from './my-number-guard.js';

// A caller's id is kept only when it cannot smuggle anything into logs or headers, nor a My Number
// (the request is then refused by src/plugins/my-number-guard.ts, under an id of our own).
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(request: { headers: Record<string, unknown> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_ID.test(given) && !headerHoldsMyNumber(given) ? given : randomUUID();
}

export default fp(
  async function requestId(app: FastifyInstance) {
    app.addHook('onRequest', (request: FastifyRequest, reply, done) => {
      reply.header('X-Request-Id', request.id);
      done();
    });
  },
  { name: 'request-id' },
);
