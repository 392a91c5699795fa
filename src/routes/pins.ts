import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PIN_KINDS } from '../domain/pin-policy.js';
import type { ServiceContext } from '../services/context.js';
import { checkPinFormat } from '../services/pins.js';
import { responses } from './schemas.js';

const PinProblem = Type.Union(['tooShort', 'tooLong', 'invalidCharacter', 'letterRequired', 'digitRequired'].map((p) => Type.Literal(p)));

const pins: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  app.post('/v1/pins/check', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['pins'],
      summary: 'Check a PIN against its format (never stored, logged or echoed)',
      description: 'signature: 6–16 of A–Z and 0–9 with at least one letter and one digit (lower case is taken as upper case), locks after 5 wrong tries; userAuthentication, formAssist, residentRegistry: exactly 4 digits, lock after 3.',
      body: Type.Object({
        pinKind: Type.Union(PIN_KINDS.map((k) => Type.Literal(k))),
        pin: Type.String({ maxLength: 256, writeOnly: true }),
      }, { additionalProperties: false }),
      response: responses({
        200: Type.Object({ valid: Type.Boolean(), problems: Type.Array(PinProblem), lockAfterFailures: Type.Integer() }),
      }, 422),
    },
  }, async (request, reply) => {
    reply.header('Cache-Control', 'no-store');
    return checkPinFormat(request.body.pinKind, request.body.pin);
  });
};

export default pins;
