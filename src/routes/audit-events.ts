import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Problem } from '../problems.js';
import { listAuditEvents } from '../services/audit.js';
import type { ServiceContext } from '../services/context.js';
import { decodeCursor, page } from './cursor.js';
import { Instant, Page, PageQuery, responses } from './schemas.js';

const AuditEvent = Type.Object({
  id: Type.String(),
  at: Instant,
  keyId: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  resource: Type.String(),
  requestId: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const auditEvents: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  app.get('/v1/audit-events', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'The append-only audit log, oldest first',
      querystring: Type.Object({
        ...PageQuery,
        from: Type.Optional(Instant),
        to: Type.Optional(Instant),
        resource: Type.Optional(Type.String({ maxLength: 200 })),
      }, { additionalProperties: false }),
      response: responses({ 200: Page(AuditEvent) }),
    },
  }, async (request) => {
    const { limit, from, to, resource } = request.query;
    if (from && to && Date.parse(from) > Date.parse(to)) {
      throw new Problem(400, 'invalidRange', 'Invalid range', '`from` is after `to`.');
    }
    const rows = await listAuditEvents(ctx, { limit: limit + 1, afterId: decodeCursor(request.query.cursor, 'id'), from, to, resource });
    return page(rows, limit, (last) => ({ id: last.id }));
  });
};

export default auditEvents;
