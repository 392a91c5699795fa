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

type OpenApiResponses = Record<string, { content?: Record<string, unknown> }>;

/**
 * Every 4xx/5xx answer is sent as application/problem+json (src/plugins/problem-json.ts);
 * @fastify/swagger labels every response schema application/json, so the document is relabelled.
 */
export function problemContentTypes<T>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, { responses?: OpenApiResponses }>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const json = response.content?.['application/json'];
        if (!/^[45]/.test(status) || json === undefined) continue;
        response.content = { 'application/problem+json': json };
      }
    }
  }
  return document;
}

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
          { name: 'residents', description: 'resident events (what they revoke is applied at once)' },
          { name: 'cards', description: 'My Number cards: issuance, loss, recovery, return' },
          { name: 'certificates', description: 'issuance, renewal, revocation, status at any moment, renewal eligibility' },
          { name: 'inquiries', description: 'proxy procedures: the inquiry letter (照会書兼回答書) workflow, PIN procedures' },
          { name: 'fees', description: 'fee quotes and dated fee schedules' },
          { name: 'calendar', description: 'offices, opening hours, closures' },
          { name: 'pins', description: 'PIN format policy (PINs are never stored or echoed)' },
          { name: 'pki', description: 'CA certificates, CRLs and OCSP (public)' },
          { name: 'operations', description: 'health, metrics' },
          { name: 'admin', description: 'API keys, audit log, clock' },
        ],
      },
      transformObject: (document) => problemContentTypes('openapiObject' in document ? document.openapiObject : document.swaggerObject),
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });
  },
  { name: 'openapi' },
);
