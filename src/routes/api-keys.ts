import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../plugins/auth.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../services/api-keys.js';
import type { ServiceContext } from '../services/context.js';
import { SCOPES } from '../services/scopes.js';
import { cursorCodec } from './cursor.js';
import { IdempotencyKeyHeader, idempotentRequest, sendIdempotent } from './idempotency.js';
import { Instant, Page, PageQuery, responses } from './schemas.js';

const Scope = Type.Union(SCOPES.map((s) => Type.Literal(s)));

const ApiKey = Type.Object({
  keyId: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Instant,
  expiresAt: Type.Union([Instant, Type.Null()]),
  revokedAt: Type.Union([Instant, Type.Null()]),
});

const NewApiKey = Type.Composite([
  ApiKey,
  Type.Object({
    secret: Type.Optional(Type.String({ description: 'The key itself: shown once, never stored' })),
    secretOmitted: Type.Optional(Type.Boolean({ description: 'true on an idempotent replay: the secret is not kept' })),
  }),
]);

const keysCursor = cursorCodec(Type.Object({ keyId: Type.String({ pattern: '^key_[0-9a-z_]{1,40}$' }) }, { additionalProperties: false }));

const apiKeys: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app) => {
  app.post('/v1/api-keys', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'Create an API key (the secret is returned once)',
      headers: IdempotencyKeyHeader,
      body: Type.Object({
        name: Type.String({ minLength: 1, maxLength: 100 }),
        scopes: Type.Array(Scope, { minItems: 1, maxItems: SCOPES.length, uniqueItems: true }),
        expiresAt: Type.Optional(Instant),
      }, { additionalProperties: false }),
      response: responses({ 201: NewApiKey, 200: NewApiKey }, 422),
    },
  }, async (request, reply) => {
    const outcome = await createApiKey(request.ctx, actorOf(request), idempotentRequest(request), request.body);
    return sendIdempotent(reply, outcome);
  });

  app.get('/v1/api-keys', {
    config: { auth: 'admin' },
    schema: { tags: ['admin'], summary: 'List API keys (never their secrets)', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: responses({ 200: Page(ApiKey) }) },
  }, async (request) => {
    const { limit } = request.query;
    const rows = await listApiKeys(request.ctx, keysCursor.decode(request.query.cursor)?.keyId, limit + 1);
    return keysCursor.page(rows, limit, (last) => ({ keyId: last.keyId }));
  });

  app.delete('/v1/api-keys/:keyId', {
    config: { auth: 'admin' },
    schema: { tags: ['admin'], summary: 'Revoke an API key', params: Type.Object({ keyId: Type.String({ maxLength: 64 }) }), response: responses({ 204: Type.Null() }, 404) },
  }, async (request, reply) => {
    await revokeApiKey(request.ctx, actorOf(request), request.params.keyId);
    return reply.code(204).send();
  });
};

export default apiKeys;
