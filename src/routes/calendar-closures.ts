import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.js';
import { deleteClosure, listClosures, putClosure } from '../services/calendar.js';
import type { ServiceContext } from '../services/context.js';
import { cursorCodec } from './cursor.js';
import { CivilDate, Instant, Page, PageQuery, responses } from './schemas.js';

const OfficeRef = Type.String({ minLength: 1, maxLength: 64, description: 'one office; absent means every office' });

const Closure = Type.Object({
  date: CivilDate,
  officeId: Type.Union([Type.String(), Type.Null()], { description: 'null: every office is closed' }),
  reason: Type.Literal('maintenance'),
  note: Type.Union([Type.String(), Type.Null()]),
  createdAt: Instant,
});

const DateParam = Type.Object({ date: CivilDate });

const closuresCursor = cursorCodec(Type.Object({ date: CivilDate, officeId: Type.String({ maxLength: 64 }) }, { additionalProperties: false }));

const calendarClosures: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  app.get('/v1/calendar/closures', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['calendar'],
      summary: 'Maintenance closures entered by staff, by date (both ends included)',
      querystring: Type.Object({ ...PageQuery, from: Type.Optional(CivilDate), to: Type.Optional(CivilDate) }, { additionalProperties: false }),
      response: responses({ 200: Page(Closure) }),
    },
  }, async (request) => {
    const { limit, from, to } = request.query;
    const rows = await listClosures(request.ctx, { from, to, after: closuresCursor.decode(request.query.cursor), limit: limit + 1 });
    return closuresCursor.page(rows, limit, (last) => ({ date: last.date, officeId: last.officeId ?? '' }));
  });

  app.put('/v1/calendar/closures/:date', {
    config: { auth: 'admin' },
    schema: {
      tags: ['calendar'],
      summary: 'Close a day for maintenance (e.g. JPKI servers down), at one office or at all',
      description: 'Send `{}` to close every office. 201 when new, 200 when it replaced the note of an existing closure. Days before today (Japan time) are 422 `closureInPast`.',
      params: DateParam,
      body: Type.Object({ officeId: Type.Optional(OfficeRef), note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
      response: responses({ 200: Closure, 201: Closure }, 422),
    },
  }, async (request, reply) => {
    const { status, body } = await putClosure(request.ctx, actorOf(request), request.params.date, request.body);
    return reply.code(status).send(body);
  });

  app.delete('/v1/calendar/closures/:date', {
    config: { auth: 'admin' },
    schema: {
      tags: ['calendar'],
      summary: 'Remove a maintenance closure (the day opens as usual again)',
      params: DateParam,
      querystring: Type.Object({ officeId: Type.Optional(OfficeRef) }, { additionalProperties: false }),
      response: responses({ 204: Type.Null() }, 404, 422),
    },
  }, async (request, reply) => {
    await deleteClosure(request.ctx, actorOf(request), request.params.date, request.query.officeId);
    return reply.code(204).send();
  });
};

export default calendarClosures;
