import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PIN_KINDS } from '../domain/pin-policy.js';
import { actorOf } from '../plugins/auth.js';
import type { ServiceContext } from '../services/context.js';
import { recordPinProcedure, type PinProcedureKind } from '../services/pin-procedures.js';
import { IdempotencyKeyHeader, idempotentRequest, sendIdempotent } from './idempotency.js';
import { FeeQuote, Instant, responses } from './schemas.js';

const PinKind = Type.Union(PIN_KINDS.map((k) => Type.Literal(k)));
const ApplicantType = Type.Union([Type.Literal('self'), Type.Literal('legalRepresentative'), Type.Literal('agent')]);

/** No field carries a PIN: staff enter it on the card, and unknown fields (`pin`, …) are refused with 400. */
const Body = Type.Object({
  pinKind: PinKind,
  officeId: Type.String({ minLength: 1, maxLength: 64 }),
  receivedAt: Instant,
  applicant: Type.Object({
    type: ApplicantType,
    inquiryId: Type.Optional(Type.String({ pattern: '^inq_[0-9a-f]{16}$', description: 'a completed inquiry case of the same purpose; required for an agent' })),
  }, { additionalProperties: false }),
  identityDocument: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'the identity document checked (required for a reset in person)' })),
}, { additionalProperties: false });

const Procedure = Type.Object({
  procedureId: Type.String(),
  procedure: Type.Union([Type.Literal('pinReset'), Type.Literal('pinChange')]),
  cardId: Type.String(),
  residentCode: Type.String(),
  pinKind: PinKind,
  officeId: Type.String(),
  receivedAt: Instant,
  applicant: Type.Object({ type: ApplicantType, inquiryId: Type.Union([Type.String(), Type.Null()]) }),
  identityDocument: Type.Union([Type.String(), Type.Null()]),
  fee: FeeQuote,
  recordedAt: Instant,
});

const ROUTES: [string, PinProcedureKind, string][] = [
  ['pin-resets', 'pinReset', 'Record a PIN reset (ロック解除・再設定) at a counter; no PIN is sent or stored'],
  ['pin-changes', 'pinChange', 'Record a PIN change at a counter; no PIN is sent or stored'],
];

const pinProcedures: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  for (const [path, procedure, summary] of ROUTES) {
    app.post(`/v1/cards/:cardId/${path}`, {
      config: { auth: 'certificates:write' },
      schema: {
        tags: ['cards'],
        summary,
        description: 'Refusals (422): identityDocumentRequired (a reset in person), agentNeedsCompletedInquiry, inquiryIdNotExpected, '
          + 'inquiryNotFound/inquiryForAnotherResident/inquiryPurposeMismatch/inquiryAgentMismatch, cardNotActive, officeClosed; (409) inquiryAlreadyUsed, '
          + 'inquiryNotCompleted, inquiryExpired. Fee from the schedule in force (0).',
        headers: IdempotencyKeyHeader,
        params: Type.Object({ cardId: Type.String({ pattern: '^card_[0-9a-f]{16}$' }) }),
        body: Body,
        response: responses({ 201: Procedure }, 404, 409, 422),
      },
    }, async (req, reply) => sendIdempotent(reply, await recordPinProcedure(req.ctx, actorOf(req), idempotentRequest(req), req.params.cardId, procedure, req.body)));
  }
};

export default pinProcedures;
