import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readiness } from '../services/health.js';
import type { ServiceContext } from '../services/context.js';
import { Problem } from '../problems.js';
import { publicResponses } from './schemas.js';

/**
 * `{ type: 'string', enum }`, not a union of literals: fast-json-stringify compiles an Ajv
 * validator to serialise an anyOf (~30 ms of CPU), and a readiness probe's first answer is part
 * of start-up.
 */
function StringEnum<const T extends readonly string[]>(values: T) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
}

const Readiness = Type.Object({
  ready: Type.Boolean(),
  database: StringEnum(['up', 'down']),
  migrations: StringEnum(['current', 'pending', 'unknown']),
});

const operations: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  app.get('/health/live', {
    config: { auth: 'public' },
    schema: { tags: ['operations'], summary: 'The process is up', response: publicResponses({ 200: Type.Object({ status: Type.Literal('ok') }) }) },
  }, async () => ({ status: 'ok' as const }));

  app.get('/health/ready', {
    config: { auth: 'public' },
    schema: { tags: ['operations'], summary: 'Database reachable and migrations current', response: publicResponses({ 200: Readiness }, 503) },
  }, async () => {
    const r = await readiness(ctx);
    if (!r.ready) {
      throw new Problem(503, 'notReady', 'Not ready', `database ${r.database}, migrations ${r.migrations}`, { ...r }, { 'Retry-After': '5' });
    }
    return r;
  });

  app.get('/metrics', {
    config: { auth: 'public' },
    schema: { tags: ['operations'], summary: 'Prometheus metrics (expose on the internal network only)', produces: ['text/plain'] },
  }, async (_request, reply) => {
    reply.type(app.metrics.registry.contentType);
    return app.metrics.registry.metrics();
  });

  app.get('/openapi.json', {
    config: { auth: 'public' },
    schema: { hide: true },
  }, async () => app.swagger());
};

export default operations;
