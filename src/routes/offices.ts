import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MAX_SCHEDULE_DAYS } from '../domain/calendar.js';
import { listOffices, officeOpenView, officeScheduleView } from '../services/calendar.js';
import type { ServiceContext } from '../services/context.js';
import { cursorCodec } from './cursor.js';
import { CivilDate, Instant, Page, PageQuery, responses } from './schemas.js';

const WallClock = Type.String({ pattern: '^[0-2][0-9]:[0-5][0-9]$', description: 'Japan wall-clock time HH:MM' });
const Hours = Type.Object({ opensAt: WallClock, closesAt: WallClock });

const Office = Type.Object({
  officeId: Type.String(),
  name: Type.String({ description: 'Japanese name' }),
  nameEn: Type.String(),
  kind: Type.Union([Type.Literal('main'), Type.Literal('branch')]),
  hours: Type.Object({
    weekday: Hours,
    tuesday: Hours,
    fourthSunday: Type.Union([Hours, Type.Null()], { description: '休日窓口 on the 4th Sunday of the month; null where not held' }),
  }),
});

const Interval = Type.Object({
  opensAt: Instant,
  closesAt: Type.String({ format: 'date-time', description: 'exclusive: at this instant the counter is closed' }),
});

const Day = Type.Object({
  date: CivilDate,
  open: Type.Boolean(),
  intervals: Type.Array(Interval),
  reason: Type.Optional(Type.Union(['weekend', 'holiday', 'yearEnd', 'maintenance'].map((r) => Type.Literal(r)), {
    description: 'why the office is closed (only when closed)',
  })),
});

const OfficeId = Type.Object({ officeId: Type.String({ minLength: 1, maxLength: 64 }) });

const officesCursor = cursorCodec(Type.Object({ position: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }) }, { additionalProperties: false }));

const officeRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  app.get('/v1/offices', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['calendar'],
      summary: 'The offices with counters (main office first) and their regular hours',
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: responses({ 200: Page(Office) }),
    },
  }, async (request) => {
    const { limit } = request.query;
    const rows = await listOffices(request.ctx, officesCursor.decode(request.query.cursor)?.position, limit + 1);
    const result = officesCursor.page(rows, limit, (last) => ({ position: last.position }));
    return { ...result, items: result.items.map(({ position: _position, ...office }) => office) };
  });

  app.get('/v1/offices/:officeId/schedule', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['calendar'],
      summary: 'An office\'s opening hours day by day',
      description: `Each day from \`from\` to \`to\` (both included, at most ${MAX_SCHEDULE_DAYS} days) with its half-open opening intervals, or \`reason\` when closed. Dates beyond the national-holiday data are 422 \`holidayDataOutOfRange\`.`,
      params: OfficeId,
      querystring: Type.Object({ from: CivilDate, to: CivilDate }, { additionalProperties: false }),
      response: responses({ 200: Type.Object({ officeId: Type.String(), from: CivilDate, to: CivilDate, days: Type.Array(Day) }) }, 404, 422),
    },
  }, async (request) => officeScheduleView(request.ctx, request.params.officeId, request.query.from, request.query.to));

  app.get('/v1/offices/:officeId/open', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['calendar'],
      summary: 'Whether an office\'s counter is open at a moment, and when it next opens',
      params: OfficeId,
      querystring: Type.Object({ at: Type.Optional(Type.String({ ...Instant, description: 'RFC 3339 instant; default now by the service clock' })) }, { additionalProperties: false }),
      response: responses({
        200: Type.Object({
          open: Type.Boolean(),
          closesAt: Type.Optional(Type.String({ ...Instant, description: 'when the current opening ends (only while open)' })),
          nextOpensAt: Type.Union([Instant, Type.Null()], { description: 'the next opening after `at`; null if none within a year' }),
        }),
      }, 404, 422),
    },
  }, async (request) => officeOpenView(request.ctx, request.params.officeId, request.query.at));
};

export default officeRoutes;
