import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Problem } from '../problems.js';
import type { ServiceContext } from '../services/context.js';
import { answerOcsp, answerOcspGet, caCertificate, latestCrl, ocspEtag, startOcspAnswerCache, verifyPresentedCertificate, type OcspAnswer } from '../services/pki-distribution.js';
import { Instant, publicResponses, responses } from './schemas.js';

/** Largest OCSP request accepted: one CertID with a nonce is ~100 bytes; a signed request a few KB. */
export const OCSP_REQUEST_LIMIT_BYTES = 8192;

// Not an enum: an unknown CA is a 404 (no such resource), not a 400.
const CaParam = Type.Object({ ca: Type.String({ maxLength: 64, description: 'signature or userAuthentication', examples: ['signature'] }) });
const binary = (mediaType: string, description: string) => ({
  description,
  content: { [mediaType]: { schema: { type: 'string', format: 'binary' } } },
});
const ocspResponse = binary('application/ocsp-response', 'OCSPResponse (DER); OCSP-level errors (malformedRequest, unauthorized) are also HTTP 200');

const VerifyResult = Type.Object({
  chained: Type.Boolean({ description: 'the signature verifies under one of our CAs' }),
  ca: Type.Union([Type.Literal('signature'), Type.Literal('userAuthentication'), Type.Null()]),
  serial: Type.String({ description: 'lowercase hex' }),
  notBefore: Instant,
  notAfter: Instant,
  status: Type.Union(['good', 'onHold', 'revoked', 'expired', 'notYetValid', 'unknown'].map((s) => Type.Literal(s)), {
    description: 'from our records now: unknown when it does not chain or was never issued here',
  }),
  revocationReason: Type.Optional(Type.String()),
  revokedAt: Type.Optional(Instant),
  invalidityDate: Type.Optional(Instant),
});

/** Headers of an OCSP answer; `now` only for a cacheable (GET) one, which gets validators (its ETag is returned). */
function ocspHeaders(reply: FastifyReply, answer: OcspAnswer, now: (() => Date) | null): string | undefined {
  reply.type('application/ocsp-response');
  if (now && answer.responseStatus === 'successful' && answer.nextUpdate && answer.thisUpdate) {
    const etag = ocspEtag(answer);
    // RFC 5019 §6.2: cache no longer than nextUpdate.
    const maxAge = Math.max(0, Math.floor((answer.nextUpdate.getTime() - now().getTime()) / 1000));
    reply.header('Cache-Control', `public, max-age=${maxAge}, no-transform, must-revalidate`);
    reply.header('ETag', etag);
    reply.header('Last-Modified', answer.thisUpdate.toUTCString());
    reply.header('Expires', answer.nextUpdate.toUTCString());
    return etag;
  }
  reply.header('Cache-Control', 'no-store');
  return undefined;
}

const pki: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  // Raw DER bodies; this plugin's scope only.
  app.addContentTypeParser('application/ocsp-request', { parseAs: 'buffer', bodyLimit: OCSP_REQUEST_LIMIT_BYTES }, (_request, body, done) => done(null, body));
  // Stored OCSP answers in memory, filled as soon as this process listens for their changes.
  startOcspAnswerCache(ctx);

  app.get('/pki/:ca/ca.crt', {
    config: { auth: 'public' },
    schema: {
      tags: ['pki'],
      summary: 'The CA certificate (DER; PEM with Accept: application/x-pem-file)',
      params: CaParam,
      response: {
        200: {
          description: 'The self-signed CA certificate',
          content: {
            'application/pkix-cert': { schema: { type: 'string', format: 'binary' } },
            'application/x-pem-file': { schema: { type: 'string' } },
          },
        },
        ...publicResponses({}, 404),
      },
    },
  }, async (request, reply) => {
    const cert = caCertificate(request.ctx, request.params.ca);
    reply.header('Cache-Control', 'public, max-age=86400');
    reply.header('Vary', 'Accept');
    if (/application\/x-pem-file/.test(request.headers.accept ?? '')) return reply.type('application/x-pem-file').send(cert.pem);
    return reply.type('application/pkix-cert').send(cert.der);
  });

  app.get('/pki/:ca/crl', {
    config: { auth: 'public' },
    schema: {
      tags: ['pki'],
      summary: 'The latest full CRL of this CA (DER)',
      description: 'Regenerated after every status change (coalesced) and at half its validity (CRL_VALIDITY_HOURS). Cacheable until nextUpdate.',
      params: CaParam,
      response: { 200: binary('application/pkix-crl', 'CertificateList (DER)'), 304: { description: 'Not modified', type: 'null' }, ...publicResponses({}, 404, 503) },
    },
  }, async (request, reply) => {
    const crl = await latestCrl(request.ctx, request.params.ca);
    const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - ctx.clock.now().getTime()) / 1000));
    reply.header('Cache-Control', `public, max-age=${maxAge}, no-transform, must-revalidate`);
    reply.header('ETag', crl.etag);
    reply.header('Last-Modified', crl.thisUpdate.toUTCString());
    reply.header('Expires', crl.nextUpdate.toUTCString());
    if (request.headers['if-none-match'] === crl.etag) return reply.code(304).send();
    return reply.type('application/pkix-crl').send(Buffer.from(crl.der));
  });

  app.post('/pki/:ca/ocsp', {
    config: { auth: 'public' },
    schema: {
      tags: ['pki'],
      summary: 'OCSP responder (RFC 6960, RFC 5019 profile), POST',
      description:
        'Body: one OCSPRequest (DER) with one CertID (SHA-1 or SHA-256). Both answers are pre-signed when the status changes and ' +
        'refreshed at half of OCSP_VALIDITY_HOURS, and served from storage; a nonce in the request is not echoed (RFC 8954). A serial this CA never issued ' +
        'gets `unknown`, a CertID of another issuer `unauthorized`, undecodable bytes `malformedRequest`.',
      params: CaParam,
      body: { description: 'OCSPRequest (DER)', content: { 'application/ocsp-request': { schema: { type: 'string', format: 'binary' } } } },
      response: { 200: ocspResponse, ...publicResponses({}, 404, 413, 415) },
    },
    // The body is raw DER: nothing for the JSON schema validator to check (params are checked by the service).
    validatorCompiler: () => () => true,
  }, async (request, reply) => {
    const body = request.body as unknown;
    if (!Buffer.isBuffer(body)) throw new Problem(415, 'unsupportedMediaType', 'Unsupported media type', 'Send the DER OCSPRequest as application/ocsp-request.');
    const answer = await answerOcsp(request.ctx, request.params.ca, body);
    ocspHeaders(reply, answer, null);
    return reply.send(answer.der);
  });

  app.get('/pki/:ca/ocsp/*', {
    config: { auth: 'public' },
    schema: {
      tags: ['pki'],
      summary: 'OCSP responder (RFC 6960 Appendix A.1), GET',
      description: 'The path ends with the DER OCSPRequest in base64 (URL-encoded) or base64url. Cacheable: Cache-Control max-age up to nextUpdate, ETag, If-None-Match → 304.',
      params: Type.Object({ ca: CaParam.properties.ca, '*': Type.String({ description: 'base64 OCSPRequest' }) }),
      response: { 200: ocspResponse, 304: { description: 'Not modified', type: 'null' }, ...publicResponses({}, 404) },
    },
  }, async (request, reply) => {
    // The raw path, not the router's decoded parameter: base64 may hold '/', '+' and '%2F'.
    const raw = request.raw.url ?? '';
    const marker = `/pki/${request.params.ca}/ocsp/`;
    const at = raw.indexOf(marker);
    const segment = at >= 0 ? raw.slice(at + marker.length).split('?')[0]! : '';
    const answer = await answerOcspGet(request.ctx, request.params.ca, segment);
    const etag = ocspHeaders(reply, answer, () => ctx.clock.now());
    if (etag && request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.send(answer.der);
  });

  app.post('/v1/certificates/verify', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['certificates'],
      summary: 'Does this certificate come from our CAs, and what is its status now?',
      body: Type.Object({ pem: Type.String({ minLength: 1, maxLength: 65_536, description: 'PEM certificate' }) }, { additionalProperties: false }),
      response: responses({ 200: VerifyResult }, 422),
    },
  }, async (request) => verifyPresentedCertificate(request.ctx, request.body.pem));
};

export default pki;
