/**
 * An RFC 9457 problem that any layer may raise for a refusal the caller can act on.
 * The error handler renders it as application/problem+json; anything else becomes a 500 without internals.
 */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'Problem';
  }
}

export const PROBLEM_TYPE_PREFIX = 'urn:jpki-ward:problem:';

export function problemType(code: string): string {
  return PROBLEM_TYPE_PREFIX + code;
}

export const notFound = (what: string, detail?: string) => new Problem(404, 'notFound', `${what} not found`, detail);
export const conflict = (code: string, title: string, detail?: string, extra?: Record<string, unknown>) =>
  new Problem(409, code, title, detail, extra);
export const unprocessable = (code: string, title: string, detail?: string, extra?: Record<string, unknown>) =>
  new Problem(422, code, title, detail, extra);
