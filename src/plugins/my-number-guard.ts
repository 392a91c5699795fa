import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { containsMyNumber } from '../domain/my-number.js';
import { Problem } from '../problems.js';

/**
 * The service never accepts a My Number (個人番号): a value shaped like one, in any string field of
 * the body, query or path, or in a header the service keeps (Idempotency-Key is stored, X-Request-Id
 * is logged, stored in the audit log and echoed), is refused before anything else looks at it
 * (DESIGN.md "HTTP conventions"). Encoded binary (CSR, PEM, hex serials) is exempt: its digits are
 * not a person's number.
 */
const ENCODED_FIELDS = new Set(['csr', 'pem', 'certificate', 'serial']);
const MAX_DEPTH = 32;

export function findMyNumber(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return containsMyNumber(value) ? path : undefined;
  // Binary bodies (OCSP requests) are DER, not text a person typed.
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return undefined;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, v] of entries) {
    if (ENCODED_FIELDS.has(key)) continue;
    const found = findMyNumber(v, `${path}/${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Headers whose values the service stores, logs or echoes. */
const KEPT_HEADERS = ['idempotency-key', 'x-request-id'] as const;

// A UUID is a machine's random token, the usual Idempotency-Key and request id; about one in 630
// random UUIDs holds twelve digits in a row (across its dashes) that pass the check digit, and
// refusing those would fail a well-behaved client's retry now and then.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a kept header's value carries a My Number (a UUID never does). */
export function headerHoldsMyNumber(value: string): boolean {
  return !UUID.test(value) && containsMyNumber(value);
}

export function findMyNumberInHeaders(headers: Record<string, unknown>): string | undefined {
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && headerHoldsMyNumber(v))) return `headers/${name}`;
  }
  return undefined;
}

export default fp(
  async function myNumberGuard(app: FastifyInstance) {
    app.addHook('preValidation', (request, _reply, done) => {
      const found =
        findMyNumber(request.params, 'params') ?? findMyNumber(request.query, 'query') ?? findMyNumberInHeaders(request.headers) ??
        findMyNumber(request.body, 'body');
      if (!found) {
        done();
        return;
      }
      done(new Problem(422, 'myNumberNotAccepted', 'My Number not accepted',
          `The value at ${found} looks like a My Number (個人番号), which this service never accepts or stores; use the resident code (宛名番号).`,
          { errors: [{ path: found, message: 'My Number not accepted' }] }));
    });
  },
  { name: 'my-number-guard' },
);
