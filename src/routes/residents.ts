import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.js';
import { Problem } from '../problems.js';
import type { ServiceContext } from '../services/context.js';
import { applyResidentEvent, getResident, listResidentEvents } from '../services/residents.js';
import { cursorCodec } from './cursor.js';
import { CivilDate, Instant, Page, PageQuery, Revoked, responses } from './schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Address = Type.String({ minLength: 1, maxLength: 400 });
const Sex = Type.Union([Type.Literal('male'), Type.Literal('female')]);
const NoData = Type.Object({}, { additionalProperties: false });

/** Each event type with the data it carries (issue 6). */
const EVENT_DATA: Record<string, TSchema> = {
  registered: Type.Object({
    name: Name, alias: Type.Optional(Name), address: Address, dateOfBirth: CivilDate, sex: Sex,
    adultWard: Type.Optional(Type.Boolean()), stayUntil: Type.Optional(CivilDate),
  }, { additionalProperties: false }),
  nameChanged: Type.Object({ name: Name }, { additionalProperties: false }),
  addressChanged: Type.Object({ address: Address }, { additionalProperties: false }),
  dateOfBirthCorrected: Type.Object({ dateOfBirth: CivilDate }, { additionalProperties: false }),
  sexChanged: Type.Object({ sex: Sex }, { additionalProperties: false }),
  aliasChanged: Type.Object({ alias: Type.Union([Name, Type.Null()]) }, { additionalProperties: false }),
  guardianshipStarted: NoData,
  guardianshipEnded: NoData,
  movedOutAbroad: Type.Object({ continuedUse: Type.Boolean() }, { additionalProperties: false }),
  stayPeriodChanged: Type.Object({ stayUntil: CivilDate }, { additionalProperties: false }),
  died: NoData,
};

/** One branch per type; the discriminator makes a bad event report only its own type's errors. */
export function residentEventSchema(residentCodePattern: string) {
  const branches = Object.entries(EVENT_DATA).map(([type, data]) =>
      Type.Object({
        eventId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$', description: "the caller's unique id; a replay returns the first answer" }),
        residentCode: Type.String({ pattern: residentCodePattern, description: 'the ward resident code (宛名番号), never the My Number' }),
        type: Type.Literal(type),
        effectiveAt: Instant,
        data: data === NoData ? Type.Optional(data) : data,
      }, { additionalProperties: false, title: type }),
  );
  return Type.Unsafe<{ eventId: string; residentCode: string; type: string; effectiveAt: string; data?: Record<string, unknown> }>({
    type: 'object',
    required: ['type'],
    discriminator: { propertyName: 'type' },
    oneOf: branches,
  });
}

export const ResidentEventResult = Type.Object({
  eventId: Type.String(),
  residentCode: Type.String(),
  type: Type.String(),
  effectiveAt: Instant,
  receivedAt: Instant,
  revoked: Type.Array(Revoked),
});

const Resident = Type.Object({
  residentCode: Type.String(), name: Type.String(), alias: Type.Union([Type.String(), Type.Null()]), address: Type.String(),
  dateOfBirth: CivilDate, sex: Sex, adultWard: Type.Boolean(), stayUntil: Type.Union([CivilDate, Type.Null()]),
  status: Type.Union([Type.Literal('active'), Type.Literal('movedOutAbroad'), Type.Literal('deceased')]),
  residence: Type.Union([Type.Literal('domestic'), Type.Literal('abroadWithContinuedUse')]),
  registeredAt: Instant, updatedAt: Instant,
});

const eventsCursor = cursorCodec(Type.Object({ receivedAt: Instant, eventId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }));

const residents: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  const ResidentCode = Type.String({ pattern: ctx.config.residentCodePattern.source });
  // Shared with the batch route (same name and labels): events applied, replayed and refused, by type.
  const eventCounter = app.metrics.counter('resident_events_total', 'Resident events by type and outcome (applied, replayed, refused)', ['type', 'outcome', 'source']);

  app.post('/v1/resident-events', {
    config: { auth: 'residents:write' },
    schema: {
      tags: ['residents'],
      summary: 'Record a resident event; what it revokes is applied in the same transaction',
      description: 'A signature certificate is revoked (affiliationChanged) when the name, address, date of birth or sex changes. The same eventId with the same body returns the first answer with 200; with another body, 422.',
      body: residentEventSchema(ctx.config.residentCodePattern.source),
      response: responses({ 201: ResidentEventResult, 200: ResidentEventResult }, 404, 409, 422),
    },
  }, async (request, reply) => {
    const body = request.body as { eventId: string; residentCode: string; type: never; effectiveAt: string; data?: Record<string, unknown> };
    let result;
    try {
      result = await applyResidentEvent(request.ctx, actorOf(request), { ...body, data: body.data ?? {} });
    } catch (error) {
      if (error instanceof Problem && error.status < 500) eventCounter.inc({ type: body.type, outcome: 'refused', source: 'single' });
      throw error;
    }
    eventCounter.inc({ type: body.type, outcome: result.status === 201 ? 'applied' : 'replayed', source: 'single' });
    if (result.status === 200) reply.header('Idempotent-Replayed', 'true');
    return reply.code(result.status).send(result.body);
  });

  app.get('/v1/residents/:residentCode', {
    config: { auth: 'status:read' },
    schema: { tags: ['residents'], summary: "A resident's current facts and status", params: Type.Object({ residentCode: ResidentCode }), response: responses({ 200: Resident }, 404) },
  }, async (request) => getResident(request.ctx, request.params.residentCode));

  app.get('/v1/residents/:residentCode/events', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['residents'], summary: "A resident's events, oldest first",
      params: Type.Object({ residentCode: ResidentCode }),
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: responses({ 200: Page(Type.Object({ eventId: Type.String(), type: Type.String(), effectiveAt: Instant, receivedAt: Instant, result: ResidentEventResult })) }, 404),
    },
  }, async (request) => {
    const { limit, cursor } = request.query;
    const rows = await listResidentEvents(request.ctx, request.params.residentCode, eventsCursor.decode(cursor), limit + 1);
    return eventsCursor.page(rows, limit, (last) => ({ receivedAt: last.receivedAt, eventId: last.eventId }));
  });
};

export default residents;
