import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { problemFromDomainError } from '../domain-problems.js';
import { DomainError } from '../domain/errors.js';
import { Problem, problemType } from '../problems.js';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const TITLES: Record<number, [string, string]> = {
  400: ['badRequest', 'Bad request'],
  401: ['unauthorized', 'Authentication required'],
  403: ['forbidden', 'Forbidden'],
  404: ['notFound', 'Not found'],
  405: ['methodNotAllowed', 'Method not allowed'],
  406: ['notAcceptable', 'Not acceptable'],
  408: ['requestTimeout', 'Request timeout'],
  409: ['conflict', 'Conflict'],
  412: ['preconditionFailed', 'Precondition failed'],
  413: ['payloadTooLarge', 'Payload too large'],
  415: ['unsupportedMediaType', 'Unsupported media type'],
  422: ['unprocessable', 'Unprocessable content'],
  428: ['preconditionRequired', 'Precondition required'],
  429: ['tooManyRequests', 'Too many requests'],
  503: ['serviceUnavailable', 'Service unavailable'],
};

export function sendProblem(request: FastifyRequest, reply: FastifyReply, p: Problem): FastifyReply {
  for (const [name, value] of Object.entries(p.headers)) reply.header(name, value);
  return reply
    .code(p.status)
    .type('application/problem+json; charset=utf-8')
    .send({
      type: problemType(p.code),
      title: p.title,
      status: p.status,
      ...(p.detail ? { detail: p.detail } : {}),
      instance: request.url.split('?')[0],
      requestId: request.id,
      ...p.extra,
    });
}

function validationErrors(error: FastifyError): { path: string; message: string }[] {
  const context = error.validationContext ?? 'body';
  return ((error.validation ?? []) as ValidationIssue[]).map((issue) => {
    const extra = issue.params?.additionalProperty ?? issue.params?.missingProperty;
    const base = `${context}${issue.instancePath ?? ''}`;
    return {
      path: typeof extra === 'string' ? `${base}/${extra}` : base,
      message: typeof extra === 'string' && issue.params?.additionalProperty ? 'unknown field' : (issue.message ?? 'invalid'),
    };
  });
}

/** Turns every error into RFC 9457 problem+json; internals (stacks, SQL) never leave the process. */
function toProblem(error: FastifyError): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof DomainError) return problemFromDomainError(error);
  if (error.validation) {
    return new Problem(400, 'validationFailed', 'Request does not match the schema', error.message, { errors: validationErrors(error) });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const [code, title] = TITLES[status] ?? ['badRequest', 'Bad request'];
    // Fastify's own 4xx messages (bad JSON, media type, body size) are safe and useful.
    return new Problem(status, code, title, error.message);
  }
  if (status === 503) return new Problem(503, 'serviceUnavailable', 'Service unavailable', 'Try again shortly.', {}, { 'Retry-After': '5' });
  return new Problem(500, 'internal', 'Internal server error', 'The error was logged with this request id.');
}

/** A database that cannot be reached is a temporary condition, not a bug. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE',
  '08000', '08001', '08003', '08004', '08006', // connection exceptions
  '53300', // too many connections
  '55000', // database not accepting connections
  '57P01', '57P02', '57P03', // admin shutdown, crash shutdown, cannot connect now
  '57014', // statement timeout (DB_STATEMENT_TIMEOUT_MS)
]);
// 'Query read timeout': no answer within the client-side query_timeout (src/db/connection.ts), a server that hangs.
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|Client was closed and is not queryable/;

function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) || (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message));
}

/** Text PostgreSQL cannot hold (a NUL byte, an invalid sequence) is the client's mistake, not ours. */
function isUnstorableText(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: unknown };
  return code === '22021' || code === '22P05';
}

export default fp(
  async function problemJson(app: FastifyInstance) {
    const routePatterns: { method: string; pattern: RegExp }[] = [];
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const source = route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*');
      for (const method of methods) routePatterns.push({ method, pattern: new RegExp(`^${source}$`) });
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      let problem = toProblem(error);
      if (problem.status === 500 && isUnstorableText(error)) {
        problem = new Problem(400, 'invalidCharacters', 'Invalid characters', 'A value holds a character that cannot be stored (such as NUL).');
      }
      if (problem.status === 500 && isDatabaseUnavailable(error)) {
        problem = new Problem(503, 'databaseUnavailable', 'Database unavailable', 'The database cannot be reached; try again shortly.', {}, { 'Retry-After': '5' });
      }
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ problem: problem.code, status: problem.status }, 'request refused');
      return sendProblem(request, reply, problem);
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      const allowed = [...new Set(routePatterns.filter((r) => r.pattern.test(path)).map((r) => r.method))];
      if (allowed.length > 0) {
        return sendProblem(request, reply, new Problem(405, 'methodNotAllowed', 'Method not allowed', `${request.method} is not allowed here; use ${allowed.join(', ')}.`, {}, { Allow: allowed.join(', ') }));
      }
      return sendProblem(request, reply, new Problem(404, 'notFound', 'Not found', `No route ${request.method} ${path}.`));
    });
  },
  { name: 'problem-json' },
);
