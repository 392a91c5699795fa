import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Problem } from '../problems.js';
import { listAuditEvents, verifyAuditLog } from '../services/audit.js';
import type { ServiceContext } from '../services/context.js';
import { cursorCodec } from './cursor.js';
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

const Verification = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ description: 'rows checked (up to the first broken link)' }),
  lastId: Type.Union([Type.String(), Type.Null()], { description: 'last row that verified' }),
  lastHash: Type.String({ description: 'hash of the last row that verified (record it elsewhere to anchor the chain)' }),
  firstBroken: Type.Union([
    Type.Object({
      id: Type.Union([Type.String(), Type.Null()]),
      problem: Type.Union([Type.Literal('prevHashMismatch'), Type.Literal('hashMismatch'), Type.Literal('headMismatch')]),
    }),
    Type.Null(),
  ]),
});

const auditCursor = cursorCodec(Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) }, { additionalProperties: false }));

const auditEvents: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
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
    const rows = await listAuditEvents(request.ctx, { limit: limit + 1, afterId: auditCursor.decode(request.query.cursor)?.id, from, to, resource });
    return auditCursor.page(rows, limit, (last) => ({ id: last.id }));
  });

  app.get('/v1/audit-events/verification', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'Recompute the audit hash chain and report the first broken link',
      response: responses({ 200: Verification }),
    },
  }, async (request) => verifyAuditLog(request.ctx));
};

export default auditEvents;
