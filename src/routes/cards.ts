import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FEE_EXEMPTIONS } from '../domain/fees.js';
import { actorOf } from '../plugins/auth.js';
import { issueCard, recoverCard, reportCardLoss, returnCard } from '../services/cards.js';
import type { ServiceContext } from '../services/context.js';
import { IdempotencyKeyHeader, idempotentRequest, sendIdempotent } from './idempotency.js';
import { CivilDate, FeeQuote, Instant, Revoked, responses } from './schemas.js';

export const Exemption = Type.Union(FEE_EXEMPTIONS.map((e) => Type.Literal(e)), { description: 'reason the fee is waived (not the holder\'s fault)' });

const Card = Type.Object({
  cardId: Type.String(),
  residentCode: Type.String(),
  issuedOn: CivilDate,
  expiresOn: CivilDate,
  status: Type.Union([Type.Literal('active'), Type.Literal('lost'), Type.Literal('abolished')]),
});
const CardId = Type.Object({ cardId: Type.String({ pattern: '^card_[0-9a-f]{16}$' }) });

const cardsRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  app.post('/v1/residents/:residentCode/cards', {
    config: { auth: 'certificates:write' },
    schema: {
      tags: ['cards'],
      summary: 'Record a new My Number card; an earlier live card is abolished and its certificates revoked',
      headers: IdempotencyKeyHeader,
      params: Type.Object({ residentCode: Type.String({ pattern: ctx.config.residentCodePattern.source }) }),
      body: Type.Object({ officeId: Type.String({ minLength: 1, maxLength: 64 }), receivedAt: Instant, issuedOn: CivilDate, exemption: Type.Optional(Exemption) }, { additionalProperties: false }),
      response: responses({ 201: Type.Object({ card: Card, fee: FeeQuote, abolished: Type.Array(Type.String()), revoked: Type.Array(Revoked) }) }, 404, 422),
    },
  }, async (req, reply) => sendIdempotent(reply, await issueCard(req.ctx, actorOf(req), idempotentRequest(req), req.params.residentCode, req.body)));

  app.post('/v1/cards/:cardId/loss-reports', {
    config: { auth: 'certificates:write' },
    schema: {
      tags: ['cards'],
      summary: 'Report a card lost: its certificates go on hold (certificateHold); a hold is never released',
      description: 'The hold takes effect at reportedAt, or at a certificate\'s notBefore when it was issued later. A card that is not active is 422 cardNotActive.',
      headers: IdempotencyKeyHeader, params: CardId,
      body: Type.Object({ reportedAt: Instant, stolen: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: responses({ 201: Type.Object({ card: Card, held: Type.Array(Revoked) }) }, 404, 422),
    },
  }, async (req, reply) => sendIdempotent(reply, await reportCardLoss(req.ctx, actorOf(req), idempotentRequest(req), req.params.cardId, req.body)));

  app.post('/v1/cards/:cardId/recoveries', {
    config: { auth: 'certificates:write' },
    schema: {
      tags: ['cards'],
      summary: 'A lost card was found: held certificates are revoked (keyCompromise if it was stolen) and may be reissued (reissueFee: 200 yen, free after a theft)',
      headers: IdempotencyKeyHeader, params: CardId,
      body: Type.Object({ foundAt: Instant }, { additionalProperties: false }),
      response: responses({ 201: Type.Object({ card: Card, revoked: Type.Array(Revoked), reissueFee: FeeQuote }) }, 404, 409, 422),
    },
  }, async (req, reply) => sendIdempotent(reply, await recoverCard(req.ctx, actorOf(req), idempotentRequest(req), req.params.cardId, req.body)));

  app.post('/v1/cards/:cardId/returns', {
    config: { auth: 'certificates:write' },
    schema: {
      tags: ['cards'],
      summary: 'A card returned: abolished, its certificates revoked (cessationOfOperation)',
      headers: IdempotencyKeyHeader, params: CardId,
      body: Type.Object({ returnedAt: Instant }, { additionalProperties: false }),
      response: responses({ 201: Type.Object({ card: Card, revoked: Type.Array(Revoked) }) }, 404, 409, 422),
    },
  }, async (req, reply) => sendIdempotent(reply, await returnCard(req.ctx, actorOf(req), idempotentRequest(req), req.params.cardId, req.body)));
};

export default cardsRoutes;
