import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readiness } from '../services/health.js';
import type { ServiceContext } from '../services/context.js';
import { Problem } from '../problems.js';
import { publicResponses } from './schemas.js';

const Readiness = Type.Object({
  ready: Type.Boolean(),
  database: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  migrations: Type.Union([Type.Literal('current'), Type.Literal('pending'), Type.Literal('unknown')]),
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
