import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FEE_EXEMPTIONS, FEE_PROCEDURES } from '../domain/fees.js';
import { actorOf } from '../plugins/auth.js';
import type { ServiceContext } from '../services/context.js';
import { createFeeSchedule, listFeeSchedules, quoteFeeFor } from '../services/fees.js';
import { cursorCodec } from './cursor.js';
import { IdempotencyKeyHeader, sendIdempotent } from './idempotency.js';
import { CivilDate, Instant, Page, PageQuery, responses } from './schemas.js';

const Procedure = Type.Union(FEE_PROCEDURES.map((p) => Type.Literal(p)), { description: 'the procedure to quote' });
const Exemption = Type.Union(FEE_EXEMPTIONS.map((e) => Type.Literal(e)), {
  description: 'why a reissue is not the holder\'s fault (罹災証明, theft, municipal/J-LIS error, card expiring within 3 months, remarks field full, number change); waives reissue fees only',
});
const Item = Type.Union([Type.Literal('card'), Type.Literal('certificates')]);
const Yen = Type.Integer({ minimum: 0, maximum: 10_000_000, description: 'yen' });
const FeeLine = Type.Object({ item: Item, amount: Yen }, { additionalProperties: false });
const Lines = Type.Array(FeeLine, { maxItems: 2, description: 'the items charged; empty when the procedure is free of any item' });

const FeeTable = Type.Object({
  cardIssuance: Lines,
  cardReissue: Lines,
  certificateIssuance: Lines,
  certificateRenewal: Lines,
  certificateNewAfterExpiry: Lines,
  certificateReissue: Lines,
  pinReset: Lines,
  pinChange: Lines,
}, { additionalProperties: false, description: 'the lines of every procedure' });

const FeeSchedule = Type.Object({
  effectiveFrom: CivilDate,
  fees: FeeTable,
  createdAt: Instant,
});

const Quote = Type.Object({
  procedure: Procedure,
  on: CivilDate,
  currency: Type.Literal('JPY'),
  total: Yen,
  lines: Type.Array(FeeLine),
  exemption: Type.Union([Exemption, Type.Null()], { description: 'the exemption applied; null when none was given or it does not cover the procedure' }),
  scheduleEffectiveFrom: CivilDate,
});

const feesCursor = cursorCodec(Type.Object({ effectiveFrom: CivilDate }, { additionalProperties: false }));

const fees: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  app.post('/v1/fees/quote', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['fees'],
      summary: 'What a procedure costs on a date (the fee schedule in force that day)',
      body: Type.Object({
        procedure: Procedure,
        on: Type.Optional(Type.String({ ...CivilDate, description: 'Japan date; default today by the service clock' })),
        exemption: Type.Optional(Exemption),
      }, { additionalProperties: false }),
      response: responses({ 200: Quote }, 422),
    },
  }, async (request) => quoteFeeFor(request.ctx, request.body));

  app.get('/v1/fees/schedules', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['fees'],
      summary: 'The dated fee schedules, oldest first; each is in force until the next one starts',
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: responses({ 200: Page(FeeSchedule) }),
    },
  }, async (request) => {
    const { limit } = request.query;
    const rows = await listFeeSchedules(request.ctx, feesCursor.decode(request.query.cursor)?.effectiveFrom, limit + 1);
    return feesCursor.page(rows, limit, (last) => ({ effectiveFrom: last.effectiveFrom }));
  });

  app.post('/v1/fees/schedules', {
    config: { auth: 'admin' },
    schema: {
      tags: ['fees'],
      summary: 'Add a fee schedule in force from a date (today or later; an ordinance change)',
      description: 'Schedules are never replaced or backdated: a date before today (Japan time) is 422 `effectiveFromInPast`, a date that already has one is 409 `feeScheduleExists`.',
      headers: IdempotencyKeyHeader,
      body: Type.Object({ effectiveFrom: CivilDate, fees: FeeTable }, { additionalProperties: false }),
      response: responses({ 201: FeeSchedule }, 409, 422),
    },
  }, async (request, reply) => {
    const outcome = await createFeeSchedule(request.ctx, actorOf(request), {
      key: request.headers['idempotency-key'], method: request.method, path: request.url, body: request.body,
    }, request.body as { effectiveFrom: string; fees: Static<typeof FeeTable> });
    return sendIdempotent(reply, outcome);
  });
};

export default fees;
