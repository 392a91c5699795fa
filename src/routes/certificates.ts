import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.js';
import { getCertificateStatus, renewalEligibility, residentCertificates } from '../services/certificate-queries.js';
import { issueCardCertificate, issueSmartphoneCertificate, revokeCertificate } from '../services/certificates.js';
import type { ServiceContext } from '../services/context.js';
import { Exemption } from './cards.js';
import { IdempotencyKeyHeader, idempotentRequest, sendIdempotent } from './idempotency.js';
import { CivilDate, FeeQuote, Instant, Serial, responses } from './schemas.js';

const Kind = Type.Union([Type.Literal('signature'), Type.Literal('userAuthentication')]);
const Csr = Type.String({ minLength: 100, maxLength: 16_384, description: 'PKCS#10 CSR, PEM (key made by the client, as on a card)' });
const StatusAt = Type.Union(['good', 'onHold', 'revoked', 'expired', 'notYetValid'].map((s) => Type.Literal(s)));

const IssuedCertificate = Type.Object({
  serial: Type.String(), ca: Type.String(), kind: Kind, carrier: Type.String(), notBefore: Instant, notAfter: Instant,
  expiresOn: CivilDate, status: Type.Literal('good'), pem: Type.String(),
});
const Issuance = Type.Object({
  certificate: IssuedCertificate,
  privateKeyPem: Type.Optional(Type.String({ description: 'PKCS#8 PEM, when generateKey was asked: returned once, never stored' })),
  privateKeyOmitted: Type.Optional(Type.Boolean({ description: 'true on an idempotent replay of a generated key: it is not kept' })),
  procedure: Type.Union(['initial', 'renewal', 'newAfterExpiry', 'reissue'].map((p) => Type.Literal(p))),
  fee: FeeQuote,
  superseded: Type.Array(Type.String()),
});

const CertificateStatus = Type.Object({
  serial: Type.String(), ca: Type.String(), kind: Kind, carrier: Type.String(), residentCode: Type.String(),
  cardId: Type.Union([Type.String(), Type.Null()]), deviceId: Type.Union([Type.String(), Type.Null()]),
  notBefore: Instant, notAfter: Instant, expiresOn: CivilDate, status: StatusAt,
  revocation: Type.Union([Type.Object({ reason: Type.String(), revokedAt: Instant, invalidityDate: Instant }), Type.Null()]),
  at: Instant,
});

const certificates: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  const ResidentCode = Type.Object({ residentCode: Type.String({ pattern: ctx.config.residentCodePattern.source }) });

  app.post('/v1/cards/:cardId/certificates', {
    config: { auth: 'certificates:write' },
    schema: {
      tags: ['certificates'],
      summary: 'Issue a certificate onto a card at a counter (initial, renewal, new after expiry or reissue, derived)',
      description: 'Refusals are 422 with their own type: under15, adultWard, renewalWindowNotOpen, cardNotActive, residentNotActive, officeClosed, agentNeedsCompletedInquiry, legalRepresentativeRequired, and CSR problems (csrMalformed, csrBadSignature, csrKeyTooWeak, csrKeyTypeUnsupported).',
      headers: IdempotencyKeyHeader,
      params: Type.Object({ cardId: Type.String({ pattern: '^card_[0-9a-f]{16}$' }) }),
      body: Type.Object({
        kind: Kind,
        officeId: Type.String({ minLength: 1, maxLength: 64 }),
        receivedAt: Instant,
        applicant: Type.Object({
          type: Type.Union([Type.Literal('self'), Type.Literal('legalRepresentative'), Type.Literal('agent')]),
          inquiryId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }, { additionalProperties: false }),
        csr: Type.Optional(Csr),
        generateKey: Type.Optional(Type.Boolean()),
        exemption: Type.Optional(Exemption),
      }, { additionalProperties: false }),
      response: responses({ 201: Issuance }, 404, 422),
    },
  }, async (req, reply) => sendIdempotent(reply, await issueCardCertificate(req.ctx, actorOf(req), idempotentRequest(req), req.params.cardId, req.body)));

  app.post('/v1/residents/:residentCode/smartphone-certificates', {
    config: { auth: 'certificates:write' },
    schema: {
      tags: ['certificates'],
      summary: 'Issue a smartphone certificate (needs an active card with a good signature certificate; one device per person)',
      headers: IdempotencyKeyHeader,
      params: ResidentCode,
      body: Type.Object({ kind: Kind, deviceId: Type.String({ minLength: 1, maxLength: 128 }), csr: Csr }, { additionalProperties: false }),
      response: responses({ 201: Issuance }, 404, 422),
    },
  }, async (req, reply) => sendIdempotent(reply, await issueSmartphoneCertificate(req.ctx, actorOf(req), idempotentRequest(req), req.params.residentCode, req.body)));

  app.post('/v1/certificates/:serial/revocation', {
    config: { auth: 'certificates:write' },
    schema: {
      tags: ['certificates'],
      summary: "Revoke at the holder's request (cessationOfOperation) or for key compromise",
      headers: IdempotencyKeyHeader,
      params: Type.Object({ serial: Serial }),
      body: Type.Object({ reason: Type.Union([Type.Literal('holderRequest'), Type.Literal('keyCompromise')]), effectiveAt: Type.Optional(Instant) }, { additionalProperties: false }),
      response: responses({ 201: Type.Object({ serial: Type.String(), status: Type.Literal('revoked'), revocation: Type.Object({ reason: Type.String(), revokedAt: Instant, invalidityDate: Instant }) }) }, 404, 409, 422),
    },
  }, async (req, reply) => sendIdempotent(reply, await revokeCertificate(req.ctx, actorOf(req), idempotentRequest(req), req.params.serial.toLowerCase(), req.body)));

  app.get('/v1/certificates/:serial', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['certificates'],
      summary: "A certificate's status at an instant (default now), by effective times",
      params: Type.Object({ serial: Serial }),
      querystring: Type.Object({ at: Type.Optional(Instant) }, { additionalProperties: false }),
      response: responses({ 200: CertificateStatus }, 404),
    },
  }, async (req) => getCertificateStatus(req.ctx, req.params.serial, req.query.at));

  app.get('/v1/residents/:residentCode/certificates', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['certificates'],
      summary: "A resident's certificates with their status at an instant",
      params: ResidentCode,
      querystring: Type.Object({ at: Type.Optional(Instant), status: Type.Optional(StatusAt) }, { additionalProperties: false }),
      response: responses({ 200: Type.Object({ items: Type.Array(CertificateStatus) }) }, 404),
    },
  }, async (req) => ({ items: await residentCertificates(req.ctx, req.params.residentCode, req.query.at, req.query.status as never) }));

  app.get('/v1/residents/:residentCode/renewal-eligibility', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['certificates'],
      summary: 'For each certificate held: its renewal window, whether it can be renewed on a day, and what the renewal would give',
      description: '`on` defaults to today (Japan). `reason` comes with `eligible: false` and names the most decisive reason when several apply: '
        + 'for a certificate held, the first of onHold, followsCardCertificate (a smartphone certificate follows the card certificate), '
        + 'residentNotActive, cardNotActive, under15, adultWard, overseasSignatureOnly, legalRepresentativeRequired, renewalWindowNotOpen; '
        + 'for a new issuance, the first of residentNotActive, cardNotActive, under15, adultWard, overseasSignatureOnly, legalRepresentativeRequired '
        + '(the order POST /v1/cards/{cardId}/certificates checks them in, so it is the type that request would be refused with that day; '
        + 'an applicant other than the holder is not assumed, hence legalRepresentativeRequired for an under-15).',
      params: ResidentCode,
      querystring: Type.Object({ on: Type.Optional(CivilDate) }, { additionalProperties: false }),
      response: responses({
        200: Type.Object({
          on: CivilDate,
          certificates: Type.Array(Type.Object({
            serial: Type.String(), kind: Kind, carrier: Type.String(), expiresOn: CivilDate, windowOpensOn: CivilDate,
            eligible: Type.Boolean(), reason: Type.Optional(Type.String()), expiresOnIfRenewed: Type.Union([CivilDate, Type.Null()]),
            fee: Type.Union([FeeQuote, Type.Null()]),
          })),
          newIssuance: Type.Array(Type.Object({ kind: Kind, eligible: Type.Boolean(), reason: Type.Optional(Type.String()) })),
        }),
      }, 404),
    },
  }, async (req) => renewalEligibility(req.ctx, req.params.residentCode, req.query.on));
};

export default certificates;
