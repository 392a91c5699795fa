import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServiceContext } from '../services/context.js';
import { checkPkiConsistency } from '../services/pki-consistency.js';
import { Instant, responses } from './schemas.js';

const Difference = Type.Object({
  serial: Type.String(),
  database: Type.String({ description: '`good` or `revoked:<reason>` (a hold is `revoked:certificateHold`); `none` when we never issued it' }),
  published: Type.String({ description: 'what the CRL or the stored OCSP answer says: `good`, `notInCrl`, `revoked:<reason>`, `none`, `malformed`' }),
});

const CaReport = Type.Object({
  ca: Type.String(),
  crlNumber: Type.Union([Type.String(), Type.Null()]),
  crlThisUpdate: Type.Union([Instant, Type.Null()]),
  crlStale: Type.Boolean({ description: 'a status change is waiting for the next CRL (regenerated within seconds by maintenance, or now with ?regenerate=true)' }),
  crlStaleSince: Type.Union([Instant, Type.Null()]),
  crlSignatureValid: Type.Boolean(),
  certificates: Type.Integer(),
  revokedOrOnHold: Type.Integer(),
  crlEntries: Type.Integer(),
  differences: Type.Object({ crl: Type.Integer(), ocsp: Type.Integer() }),
  crl: Type.Array(Difference, { description: 'the first 100 CRL differences' }),
  ocsp: Type.Array(Difference, { description: 'the first 100 OCSP differences' }),
});

const pkiConsistency: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  app.get('/v1/pki/consistency', {
    config: { auth: 'admin' },
    schema: {
      tags: ['pki'],
      summary: 'Do the published CRLs and OCSP answers match the database?',
      description:
        'For each CA, in one database snapshot: every certificate the database shows revoked or on hold must be in the latest CRL with the same ' +
        'reason and be answered revoked (same reason) by both its stored OCSP answers (SHA-1 and SHA-256 CertID; a missing one is a difference); no other certificate may be. The CRL ' +
        'and OCSP bytes are parsed, and the CRL signature checked. `crlStale` says a regeneration is pending, which explains CRL differences for ' +
        'a few seconds after a change; `?regenerate=true` regenerates stale CRLs first. Reads every certificate: an operations check, not a hot path.',
      querystring: Type.Object({ regenerate: Type.Boolean({ default: false }) }, { additionalProperties: false }),
      response: responses({ 200: Type.Object({ consistent: Type.Boolean(), checkedAt: Instant, regenerated: Type.Boolean(), cas: Type.Array(CaReport) }) }),
    },
  }, async (request) => checkPkiConsistency(request.ctx, { regenerate: request.query.regenerate }));
};

export default pkiConsistency;
