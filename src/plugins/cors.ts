import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';

/**
 * CORS is off unless CORS_ORIGINS names origins: then a request from exactly one of them (the
 * `Origin` header, compared as a whole string) gets `Access-Control-Allow-Origin` with that origin,
 * and its preflight is answered 204 before authentication (browsers send no Authorization header
 * on a preflight). Any other origin gets no CORS header, and its preflight the usual 404/405.
 * No credentials: keys travel as bearer tokens, never cookies.
 *
 * Registered before the auth plugin: the plugin's own `OPTIONS *` route (which only lets preflights
 * through) is thereby not a route of the API and needs no auth decision.
 */
export default fp(
  async function corsOrigins(app: FastifyInstance, opts: { config: Config }) {
    const allowed = new Set(opts.config.corsOrigins);
    if (allowed.size === 0) return;
    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'Idempotency-Key', 'If-Match', 'X-Request-Id'],
      exposedHeaders: ['ETag', 'Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'],
      credentials: false,
      maxAge: 600,
    });
  },
  { name: 'cors-origins' },
);
