import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { ProblemSchema } from '../routes/schemas.js';

export const OPENAPI_INFO = {
  title: 'jpki-ward',
  version: '0.1.0',
  description:
    'JPKI certificate lifecycle for a ward office (公的個人認証サービス), with a software TEST CA. ' +
    'Errors are application/problem+json (RFC 9457). Authenticate with "Authorization: Bearer <api key>".',
};

export default fp(
  async function openapi(app: FastifyInstance, opts: { config: Config }) {
    app.addSchema(ProblemSchema);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: OPENAPI_INFO,
        servers: [{ url: opts.config.publicBaseUrl }],
        components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'API key' } } },
        tags: [
          { name: 'operations', description: 'health, metrics' },
          { name: 'admin', description: 'API keys, audit log, clock' },
        ],
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });
  },
  { name: 'openapi' },
);
