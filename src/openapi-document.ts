import type { FastifyInstance } from 'fastify';

/** The committed openapi/openapi.json is exactly this text; a test compares them. */
export function openapiText(app: FastifyInstance): string {
  return `${JSON.stringify(app.swagger(), null, 2)}\n`;
}

/** Settings that shape the document, so the committed file does not depend on the machine. */
export const OPENAPI_ENV = { CLOCK_CONTROL: 'enabled', PUBLIC_BASE_URL: 'http://localhost:3000' } as const;
