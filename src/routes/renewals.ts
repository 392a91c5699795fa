import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Problem } from '../problems.js';
import { renewalsDue } from '../services/certificate-queries.js';
import type { ServiceContext } from '../services/context.js';
import { cursorCodec } from './cursor.js';
import { CivilDate, Page, PageQuery, Serial, responses } from './schemas.js';

const RenewalDue = Type.Object({
  serial: Type.String(), kind: Type.String(), carrier: Type.String(), residentCode: Type.String(),
  cardId: Type.Union([Type.String(), Type.Null()]), expiresOn: CivilDate, windowOpensOn: CivilDate,
});

const NDJSON = 'application/x-ndjson';
const cursor = cursorCodec(Type.Object({ expiresOn: CivilDate, serial: Serial }, { additionalProperties: false }));

const renewals: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  app.get('/v1/renewals/due', {
    config: { auth: 'status:read' },
    schema: {
      tags: ['certificates'],
      summary: 'Certificates whose renewal window opens in a date range (both ends included), for the expiry-notice batch',
      description: `JSON pages by default; with \`Accept: ${NDJSON}\` the whole list streams as one line per certificate.`,
      querystring: Type.Object({ ...PageQuery, windowOpensFrom: CivilDate, windowOpensTo: CivilDate }, { additionalProperties: false }),
      response: responses({ 200: Page(RenewalDue) }),
    },
  }, async (request, reply) => {
    const { windowOpensFrom: from, windowOpensTo: to, limit } = request.query;
    if (from > to) throw new Problem(400, 'invalidRange', 'Invalid range', '`windowOpensFrom` is after `windowOpensTo`.');
    const after = cursor.decode(request.query.cursor);
    if (request.headers.accept?.includes(NDJSON)) {
      reply.type(NDJSON);
      // Readable, not the bare generator: Fastify would hand a generator to the JSON serializer (the type says json).
      return reply.send(Readable.from(streamAll(request.ctx, from, to, after)));
    }
    const rows = await renewalsDue(request.ctx, from, to, after, limit + 1);
    return cursor.page(rows, limit, (last) => ({ expiresOn: last.expiresOn, serial: last.serial }));
  });
};

async function* streamAll(ctx: ServiceContext, from: string, to: string, after: { expiresOn: string; serial: string } | undefined) {
  let cursor = after;
  for (;;) {
    const rows = await renewalsDue(ctx, from, to, cursor, 1000);
    for (const row of rows) yield `${JSON.stringify(row)}\n`;
    const last = rows.at(-1);
    if (rows.length < 1000 || !last) return;
    cursor = { expiresOn: last.expiresOn, serial: last.serial };
  }
}

export default renewals;
