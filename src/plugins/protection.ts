import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { Problem } from '../problems.js';

// JSON API: nothing may frame or script it; Swagger UI needs its own scripts, styles and data: images.
// No upgrade-insecure-requests (helmet's default): on plain HTTP from another host the browser
// would fetch Swagger UI's scripts over https, find nothing, and show a blank page.
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' },
};

/** The headers helmet's middleware sets for these options (none of ours depend on the request). */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number) {
      headers[name] = String(value);
    },
    removeHeader() {},
  };
  helmet(options)({} as never, res as never, () => {});
  return headers;
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined;
}

export default fp(
  async function protection(app: FastifyInstance, opts: { config: Config }) {
    const { config } = opts;
    // helmet's headers do not depend on the request: computed once here and set in one step per
    // answer (@fastify/helmet rebuilt them, CSP directives parsed, on every request).
    const headers = securityHeaders(HELMET_OPTIONS);
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });

    if (config.rateLimit.max > 0) {
      await app.register(rateLimit, {
        max: config.rateLimit.max,
        timeWindow: config.rateLimit.windowMs,
        // Per API key (hashed, never kept in clear); anonymous callers per address.
        keyGenerator: (request) => {
          const auth = request.headers.authorization;
          return auth ? `key:${createHash('sha256').update(auth).digest('base64url').slice(0, 22)}` : `ip:${request.ip}`;
        },
        errorResponseBuilder: (_request, context) =>
          new Problem(429, 'tooManyRequests', 'Too many requests', `At most ${context.max} requests per ${context.after}; retry after ${Math.ceil(context.ttl / 1000)} s.`),
      });
    }

    // Slow-loris: a request whose body has not fully arrived REQUEST_TIMEOUT_MS after it started is
    // answered 408 and its connection closed (Node's own requestTimeout does not cover a body that
    // trickles in once the handler has started waiting for it).
    app.addHook('onRequest', (request, _reply, done) => {
      const raw = request.raw;
      // Injected requests (tests) have no real socket and their body is already there. A request
      // with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3): Node's
      // requestTimeout already covers its headers, so GETs skip the timer.
      if (raw.complete || typeof raw.socket?.destroy !== 'function' || !hasBody(raw.headers)) {
        done();
        return;
      }
      const timer = setTimeout(() => {
        if (raw.complete || raw.socket.destroyed) return;
        const socket = raw.socket;
        if (!socket.writableEnded && socket.bytesWritten === 0) {
          const body = JSON.stringify({ type: 'urn:jpki-ward:problem:requestTimeout', title: 'Request timeout', status: 408, detail: `The request was not received within ${config.requestTimeoutMs} ms.`, requestId: request.id });
          socket.end(`HTTP/1.1 408 Request Timeout\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        }
        setTimeout(() => socket.destroy(), 100).unref();
      }, config.requestTimeoutMs);
      timer.unref();
      const clear = () => clearTimeout(timer);
      raw.once('end', clear);
      raw.once('close', clear);
      done();
    });

    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      retryAfter: 5,
      pressureHandler: async () => {
        throw new Problem(503, 'overloaded', 'Service overloaded', 'The service is shedding load; retry shortly.', {}, { 'Retry-After': '5' });
      },
    });
  },
  { name: 'protection' },
);
