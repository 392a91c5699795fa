import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DbHandle } from '../db/connection.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry; counter(name: string, help: string, labelNames?: string[]): Counter };
  }
}

export default fp(
  async function metrics(app: FastifyInstance, opts: { database: DbHandle }) {
    // One registry per app instance, so tests building many apps do not collide.
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const pool = opts.database.pool;
    if (pool) {
      new Gauge({ name: 'db_pool_total', help: 'pg pool connections', registers: [registry], collect() { this.set(pool.totalCount); } });
      new Gauge({ name: 'db_pool_idle', help: 'pg pool idle connections', registers: [registry], collect() { this.set(pool.idleCount); } });
      new Gauge({ name: 'db_pool_waiting', help: 'requests waiting for a pg connection', registers: [registry], collect() { this.set(pool.waitingCount); } });
    }
    const counters = new Map<string, Counter>();
    app.decorate('metrics', {
      registry,
      counter(name: string, help: string, labelNames: string[] = []) {
        let c = counters.get(name);
        if (!c) {
          c = new Counter({ name, help, labelNames, registers: [registry] });
          counters.set(name, c);
        }
        return c;
      },
    });
    // One labelled child per (method, route, status), looked up by a string key: prom-client would
    // otherwise sort and join the label object on every observation.
    const children = new Map<string, { observe(value: number): void }>();
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const key = `${request.method} ${reply.statusCode} ${route}`;
      let child = children.get(key);
      if (!child) children.set(key, (child = duration.labels(request.method, route, String(reply.statusCode))));
      child.observe(reply.elapsedTime / 1000);
      done();
    });
  },
  { name: 'metrics' },
);
