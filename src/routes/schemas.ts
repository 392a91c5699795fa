import { Type, type TSchema } from '@sinclair/typebox';

/** RFC 9457 problem details; every 4xx/5xx response has this shape. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI naming the kind of problem, e.g. urn:jpki-ward:problem:under15' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true, description: 'application/problem+json (RFC 9457)' },
);

const problemRef = Type.Ref('Problem');

/** Response map with the listed problem statuses (400, 401, 403, 429, 500 always). */
export function responses(ok: Record<number, TSchema>, ...problems: number[]): Record<number, TSchema> {
  const map: Record<number, TSchema> = { ...ok };
  for (const status of new Set([400, 401, 403, 429, 500, ...problems])) map[status] = problemRef;
  return map;
}

/** Public endpoints have no 401/403. */
export function publicResponses(ok: Record<number, TSchema>, ...problems: number[]): Record<number, TSchema> {
  const map: Record<number, TSchema> = { ...ok };
  for (const status of new Set([429, 500, ...problems])) map[status] = problemRef;
  return map;
}

// Year 0000 is a valid ISO date but not a PostgreSQL one (there is no year 0 there): refused as input
// here, once, rather than failing as a database error behind whichever route passes it on.
const NOT_YEAR_ZERO = '^(?!0000)';
export const Instant = Type.String({ format: 'date-time', pattern: NOT_YEAR_ZERO, description: 'RFC 3339 instant with offset' });
export const CivilDate = Type.String({ format: 'date', pattern: NOT_YEAR_ZERO, description: 'Japan date YYYY-MM-DD' });

export const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'opaque cursor from nextCursor' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/** A fee quote as every procedure that costs something returns it. */
export const FeeQuote = Type.Object({
  procedure: Type.String(),
  on: CivilDate,
  currency: Type.Literal('JPY'),
  total: Type.Integer(),
  lines: Type.Array(Type.Object({ item: Type.String(), amount: Type.Integer() })),
  exemption: Type.Union([Type.String(), Type.Null()]),
  scheduleEffectiveFrom: CivilDate,
});

export const Revoked = Type.Object({
  serial: Type.String(),
  ca: Type.String(),
  kind: Type.String(),
  carrier: Type.String(),
  reason: Type.String(),
  status: Type.Union([Type.Literal('onHold'), Type.Literal('revoked')]),
  invalidityDate: Instant,
});

export const Serial = Type.String({ pattern: '^[0-9a-fA-F]{2,40}$', description: 'certificate serial number, hex' });
