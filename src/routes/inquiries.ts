import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { AGENT_KINDS, INQUIRY_PATHS, INQUIRY_PURPOSES, INQUIRY_STATES, VISIT_OUTCOMES } from '../domain/inquiry-workflow.js';
import { actorOf } from '../plugins/auth.js';
import type { ServiceContext } from '../services/context.js';
import {
  cancelInquiry,
  getInquiry,
  inquiryEtag,
  inquiryEvents,
  listInquiries,
  mailInquiry,
  openInquiry,
  recordVisit,
  runExpirations,
  type InquiryView,
} from '../services/inquiries.js';
import { cursorCodec } from './cursor.js';
import { IdempotencyKeyHeader, idempotentRequest } from './idempotency.js';
import { CivilDate, Instant, Page, PageQuery, responses } from './schemas.js';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const State = literals(INQUIRY_STATES);
const Action = literals(['open', 'mail', 'visit', 'cancel', 'expire', 'consume'] as const);
const Outcome = literals(VISIT_OUTCOMES);
const Text = (maxLength: number, description?: string) => Type.String({ minLength: 1, maxLength, ...(description ? { description } : {}) });
const InquiryId = Type.Object({ inquiryId: Type.String({ pattern: '^inq_[0-9a-f]{16}$' }) });
const IfMatch = Type.Object({
  'if-match': Type.Optional(Type.String({ maxLength: 200, description: 'the ETag of the case as last read; required (428 without, 412 when stale)' })),
});

const Inquiry = Type.Object({
  inquiryId: Type.String(),
  residentCode: Type.String(),
  purpose: literals(INQUIRY_PURPOSES),
  path: literals(INQUIRY_PATHS),
  agent: Type.Object({ kind: literals(AGENT_KINDS), name: Type.String(), identityDocument: Type.String(), authorityDocument: Type.Union([Type.String(), Type.Null()]) }),
  officeId: Type.String(),
  openedAt: Instant,
  state: State,
  allowedActions: Type.Array(Action),
  mailedOn: Type.Union([CivilDate, Type.Null()]),
  periodEndsOn: Type.Union([CivilDate, Type.Null()], { description: 'end of the 民法 140/143 period' }),
  dueOn: Type.Union([CivilDate, Type.Null()], { description: 'last day an answer is accepted (rolled to the next all-counters-open day when the policy says so)' }),
  registeredAddress: Type.Union([Type.String(), Type.Null()], { description: 'where the letter was mailed: the registered address at mailing (never forwarded)' }),
  visitCount: Type.Integer(),
  lastVisitOutcome: Type.Union([Outcome, Type.Null()]),
  consumedBy: Type.Union([Type.String(), Type.Null()]),
  consumedAt: Type.Union([Instant, Type.Null()]),
  closedReason: Type.Union([Type.String(), Type.Null()]),
  closedAt: Type.Union([Instant, Type.Null()]),
  version: Type.Integer({ description: 'the ETag is "v<version>"' }),
});

const InquiryEvent = Type.Object({
  id: Type.String(),
  at: Instant,
  action: Action,
  fromState: Type.Union([State, Type.Null()]),
  toState: State,
  outcome: Type.Union([Outcome, Type.Null()]),
  actor: Type.Object({ keyId: Type.Union([Type.String(), Type.Null()]), requestId: Type.Union([Type.String(), Type.Null()]) }),
  details: Type.Record(Type.String(), Type.Unknown()),
});

function withEtag(reply: FastifyReply, view: InquiryView, status = 200): FastifyReply {
  return reply.code(status).header('ETag', inquiryEtag(view.version)).send(view);
}

const inquiriesCursor = cursorCodec(Type.Object({ seq: Type.String({ pattern: '^[0-9]{1,18}$' }) }, { additionalProperties: false }));

const inquiries: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  const ResidentCode = Type.String({ pattern: ctx.config.residentCodePattern.source });

  app.post('/v1/inquiries', {
    config: { auth: 'inquiries:write' },
    schema: {
      tags: ['inquiries'],
      summary: "Open an inquiry-letter case (照会書兼回答書) at an agent's first visit",
      description: 'withLetter (the letter came with the expiry notice) starts in awaitingVisit; withoutLetter starts in awaitingMailing. '
        + 'Refusals (422): withLetterNotForPurpose (the expiry notice encloses a letter for certificates only: an agent\'s pinReset or '
        + 'pinChange goes withoutLetter), authorityDocumentRequired (a legal representative shows proof of authority), voluntaryAgentForAdultWard '
        + '(an adult ward gets no signature certificate, and a voluntary agent cannot apply for their certificates), residentNotFound, '
        + 'residentNotActive, officeClosed, timeOutOfRange (openedAt more than a day from the service clock).',
      headers: IdempotencyKeyHeader,
      body: Type.Object({
        residentCode: ResidentCode,
        purpose: literals(INQUIRY_PURPOSES),
        path: literals(INQUIRY_PATHS),
        agent: Type.Object({
          kind: literals(AGENT_KINDS),
          name: Text(200),
          identityDocument: Text(200, "the agent's photo ID as checked, e.g. driversLicence"),
          authorityDocument: Type.Optional(Text(200, 'proof of authority of a legal representative: 戸籍謄本, 後見登記事項証明書, …')),
        }, { additionalProperties: false }),
        officeId: Text(64),
        openedAt: Instant,
      }, { additionalProperties: false }),
      response: responses({ 201: Inquiry }, 404, 422),
    },
  }, async (req, reply) => {
    const outcome = await openInquiry(req.ctx, actorOf(req), idempotentRequest(req), req.body);
    if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
    const view = outcome.body as InquiryView;
    return reply.code(outcome.status).header('ETag', inquiryEtag(view.version)).header('Location', `/v1/inquiries/${view.inquiryId}`).send(view);
  });

  app.get('/v1/inquiries', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['inquiries'],
      summary: 'Cases, oldest first; state=awaitingMailing is the mailing job\'s work list',
      querystring: Type.Object({
        ...PageQuery,
        state: Type.Optional(State),
        residentCode: Type.Optional(ResidentCode),
        dueBefore: Type.Optional(CivilDate),
      }, { additionalProperties: false }),
      response: responses({ 200: Page(Inquiry) }),
    },
  }, async (req) => {
    const { limit, cursor, state, residentCode, dueBefore } = req.query;
    const rows = await listInquiries(req.ctx, {
      limit: limit + 1,
      ...(state ? { state } : {}),
      ...(residentCode ? { residentCode } : {}),
      ...(dueBefore ? { dueBefore } : {}),
      ...(cursor ? { afterSeq: inquiriesCursor.decode(cursor)!.seq } : {}),
    });
    const result = inquiriesCursor.page(rows, limit, (last) => ({ seq: last.seq }));
    return { items: result.items.map(({ seq: _seq, ...view }) => view), nextCursor: result.nextCursor };
  });

  app.post('/v1/inquiries/expirations', {
    config: { auth: 'inquiries:write' },
    schema: {
      tags: ['inquiries'],
      summary: 'Batch: close every case whose due date ended before asOf (idempotent: a rerun closes nothing more)',
      body: Type.Object({ asOf: Instant }, { additionalProperties: false }),
      response: responses({ 200: Type.Object({ asOf: Instant, expired: Type.Integer(), inquiryIds: Type.Array(Type.String()) }) }, 422),
    },
  }, async (req) => runExpirations(req.ctx, actorOf(req), req.body));

  app.get('/v1/inquiries/:inquiryId', {
    config: { auth: 'status:read' },
    schema: { tags: ['inquiries'], summary: 'A case, with its ETag', params: InquiryId, response: responses({ 200: Inquiry }, 404) },
  }, async (req, reply) => withEtag(reply, await getInquiry(req.ctx, req.params.inquiryId)));

  app.get('/v1/inquiries/:inquiryId/events', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['inquiries'],
      summary: "A case's full history: every transition with its actor, oldest first",
      params: InquiryId,
      response: responses({ 200: Type.Object({ items: Type.Array(InquiryEvent) }) }, 404),
    },
  }, async (req) => ({ items: await inquiryEvents(req.ctx, req.params.inquiryId) }));

  const stateChange = { 200: Inquiry };
  const preconditions = [404, 409, 412, 422, 428];

  app.post('/v1/inquiries/:inquiryId/mailings', {
    config: { auth: 'inquiries:write' },
    schema: {
      tags: ['inquiries'],
      summary: "Record the letter mailed to the resident's registered address; sets dueOn",
      description: 'dueOn: INQUIRY_ANSWER_MONTHS by 民法 140/143, moved to the next day every counter opens when DEADLINE_ROLLS_TO_NEXT_OPEN_DAY. mailedOn may not be after today (422).',
      headers: IfMatch,
      params: InquiryId,
      body: Type.Object({ mailedOn: CivilDate }, { additionalProperties: false }),
      response: responses(stateChange, ...preconditions),
    },
  }, async (req, reply) => withEtag(reply, await mailInquiry(req.ctx, actorOf(req), req.params.inquiryId, req.headers['if-match'], req.body)));

  app.post('/v1/inquiries/:inquiryId/visits', {
    config: { auth: 'inquiries:write' },
    schema: {
      tags: ['inquiries'],
      summary: "Record the agent's visit with the answered letter; outcome completed, letterIncomplete or pinMismatch",
      description: 'A visit after the end of dueOn closes the case (expired) and is answered 409 inquiryExpired. Outside opening hours: 422 officeClosed. '
        + 'A visitor whose identity was not verified: 422 agentIdentityNotVerified, nothing recorded. After a visit that was not completed '
        + '(letterIncomplete, pinMismatch) the procedure is not completed that day: another visit on that Japan date is 409 '
        + 'inquiryComeAgainLater (with comeAgainFrom and lastFailedVisit), nothing recorded.',
      headers: IfMatch,
      params: InquiryId,
      body: Type.Object({
        officeId: Text(64),
        visitedAt: Instant,
        letterComplete: Type.Boolean({ description: 'no blank field on the letter' }),
        bothSidesFilled: Type.Boolean({ description: 'both sides filled in (the back is the power of attorney)' }),
        applicationFormComplete: Type.Boolean(),
        agentIdentityVerified: Type.Boolean(),
        pinVerified: Type.Boolean({ description: 'staff entered the PIN on the card and it was accepted; the PIN itself is never sent' }),
      }, { additionalProperties: false }),
      response: responses(stateChange, ...preconditions),
    },
  }, async (req, reply) => withEtag(reply, await recordVisit(req.ctx, actorOf(req), req.params.inquiryId, req.headers['if-match'], req.body)));

  app.post('/v1/inquiries/:inquiryId/cancellation', {
    config: { auth: 'inquiries:write' },
    schema: {
      tags: ['inquiries'],
      summary: 'Cancel an open case',
      headers: IfMatch,
      params: InquiryId,
      body: Type.Object({ reason: Text(500) }, { additionalProperties: false }),
      response: responses(stateChange, ...preconditions),
    },
  }, async (req, reply) => withEtag(reply, await cancelInquiry(req.ctx, actorOf(req), req.params.inquiryId, req.headers['if-match'], req.body)));
};

export default inquiries;
