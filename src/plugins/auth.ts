import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Problem } from '../problems.js';
import { authenticate } from '../services/api-keys.js';
import type { Actor, ServiceContext } from '../services/context.js';
import { hasScope, type Principal, type Scope } from '../services/scopes.js';

/** Every route states who may call it: 'public' (PKI distribution, health) or one scope. */
export type RouteAuth = 'public' | Scope;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Every route and its auth decision, as registered (the access-control matrix test reads it). */
    routeAuthTable: { method: string; url: string; auth: RouteAuth }[];
  }
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;

export function actorOf(request: FastifyRequest): Actor {
  return { keyId: request.principal?.keyId ?? null, requestId: request.id };
}

/** The onRequest hook of a route that needs `required`: a known, live API key with that scope (or admin). */
const CHECKERS = new WeakSet<object>();
function checkerFor(ctx: ServiceContext, required: Scope): onRequestAsyncHookHandler {
  const check: onRequestAsyncHookHandler = async function authenticated(request, reply) {
    const header = request.headers.authorization;
    const match = header ? BEARER.exec(header) : null;
    if (!match?.[1]) {
      reply.header('WWW-Authenticate', 'Bearer realm="jpki-ward"');
      throw new Problem(401, 'unauthorized', 'Authentication required', 'Send an API key as "Authorization: Bearer <key>".');
    }
    const principal = await authenticate(ctx, match[1]);
    if (!principal) {
      reply.header('WWW-Authenticate', 'Bearer realm="jpki-ward", error="invalid_token"');
      throw new Problem(401, 'unauthorized', 'Authentication required', 'The API key is unknown, revoked or expired.');
    }
    if (!hasScope(principal, required)) {
      throw new Problem(403, 'forbidden', 'Forbidden', `This API key lacks the scope ${required}.`, { requiredScope: required });
    }
    request.principal = principal;
  };
  CHECKERS.add(check);
  return check;
}

/** Routes that plugins (Swagger UI) register themselves are public documentation. */
const DOCUMENTATION = /^\/docs(\/|$)/;

export default fp(
  async function auth(app: FastifyInstance, opts: { ctx: ServiceContext }) {
    app.decorateRequest('principal', null);
    const table: { method: string; url: string; auth: RouteAuth }[] = [];
    app.decorate('routeAuthTable', table);
    const record = (method: string | string[], url: string, auth: RouteAuth) => {
      for (const m of Array.isArray(method) ? method : [method]) table.push({ method: m, url, auth });
    };

    app.addHook('onRoute', (route) => {
      if (DOCUMENTATION.test(route.url)) {
        route.config = { ...(route.config ?? {}), auth: 'public' };
        record(route.method, route.url, 'public');
        return;
      }
      const required = route.config?.auth;
      if (!required) {
        throw new Error(`route ${String(route.method)} ${route.url} has no auth decision (config.auth)`);
      }
      record(route.method, route.url, required);
      if (required === 'public') return;
      // The check is a hook of the route itself, so public routes skip it and no request has to look
      // its route's config up. (A HEAD route copied from its GET may already carry it.)
      const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
      if (!hooks.some((h) => CHECKERS.has(h))) route.onRequest = [checkerFor(opts.ctx, required), ...hooks];
      if (route.schema) {
        const scopeNote = `Requires an API key with scope \`${required}\`${required === 'admin' ? '' : ' (or admin)'}.`;
        route.schema = {
          ...route.schema,
          security: [{ apiKey: [] }],
          description: route.schema.description ? `${route.schema.description}\n\n${scopeNote}` : scopeNote,
        };
      }
    });
  },
  { name: 'auth' },
);
