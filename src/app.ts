import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DestinationStream } from 'pino';
import { AdjustableClock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase, type DbHandle } from './db/connection.js';
import { migrateToLatest } from './db/migrator.js';
import { loggerOptions } from './logger.js';
import auth from './plugins/auth.js';
import corsOrigins from './plugins/cors.js';
import metrics from './plugins/metrics.js';
import myNumberGuard from './plugins/my-number-guard.js';
import problemJson from './plugins/problem-json.js';
import protection from './plugins/protection.js';
import requestId, { requestIdFrom } from './plugins/request-id.js';
import { lazySerializerFactory, validatorCompiler } from './plugins/validator.js';
import openapi from './plugins/swagger.js';
import apiKeyRoutes from './routes/api-keys.js';
import auditEventRoutes from './routes/audit-events.js';
import calendarClosureRoutes from './routes/calendar-closures.js';
import feeRoutes from './routes/fees.js';
import officeRoutes from './routes/offices.js';
import pinRoutes from './routes/pins.js';
import clockRoutes from './routes/clock.js';
import operationRoutes from './routes/operations.js';
import pkiRoutes from './routes/pki.js';
import cardRoutes from './routes/cards.js';
import certificateRoutes from './routes/certificates.js';
import renewalRoutes from './routes/renewals.js';
import residentRoutes from './routes/residents.js';
import inquiryRoutes from './routes/inquiries.js';
import pinProcedureRoutes from './routes/pin-procedures.js';
import residentBatchRoutes from './routes/resident-batches.js';
import pkiConsistencyRoutes from './routes/pki-consistency.js';
import { bootstrapAdminKey } from './services/api-keys.js';
import { emptyCaRegistry, loadCertificateAuthorities } from './services/certificate-authority.js';
import { publishMissingCrls } from './services/certificate-status.js';
import { startPkiMaintenance, type PkiMaintenance } from './services/pki-maintenance.js';
import { forRequest, type ServiceContext } from './services/context.js';
import { startCacheInvalidation, type CacheInvalidation } from './services/cache-invalidation.js';

export interface AppOptions {
  /** An already open database (tests); otherwise one is opened from the config. */
  database?: DbHandle;
  /** Where logs go (tests capture them); stdout otherwise. */
  logStream?: DestinationStream;
  clock?: AdjustableClock;
  /** Background CRL/OCSP/responder work (src/services/pki-maintenance.ts); default on, except NODE_ENV=test. */
  pkiMaintenance?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    ctx: ServiceContext;
    clock: AdjustableClock;
  }
  interface FastifyRequest {
    /** The service context for this request: its log lines carry the request id (forRequest). */
    readonly ctx: ServiceContext;
  }
}

/** Builds the whole service (fastify/demo style): third-party plugins, our plugins, then routes. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream),
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    // Node checks request timeouts on this interval (30 s by default): keep it a fraction of the timeout.
    http: { connectionsCheckingInterval: Math.min(5000, Math.ceil(config.requestTimeoutMs / 4)) },
    // Start-up on a busy 2-core machine (Swagger compiling every schema) can exceed Fastify's 10 s default.
    pluginTimeout: 120_000,
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());

  const database = options.database ?? (await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.db.poolMax,
    statementTimeoutMs: config.db.statementTimeoutMs,
  }));
  const clock = options.clock ?? new AdjustableClock();
  const ctx: ServiceContext = { db: database.db, clock, config, log: app.log, cas: emptyCaRegistry() };
  app.decorate('ctx', ctx);
  // Made when a handler asks for it (no hook on every request).
  app.decorateRequest('ctx', { getter(this: FastifyRequest) { return forRequest(ctx, this.log); } });
  app.decorate('clock', clock);
  app.addHook('onClose', async () => {
    if (!options.database) await database.close();
  });
  // While closing, answers tell keep-alive clients to reconnect elsewhere, so close does not wait for idle sockets.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });

  // The database's part of start-up (round trips, mostly waiting) runs while the plugins and routes
  // register below (CPU, no queries); both are done before buildApp returns, so before listen.
  const databaseReady = (async () => {
    await migrateToLatest(database.db as never);
    const { keyFile } = await bootstrapAdminKey(ctx);
    if (keyFile) app.log.info({ keyFile }, 'development admin API key is in this file (mode 0600)');
    ctx.cas = await loadCertificateAuthorities(ctx);
    await publishMissingCrls(ctx);
  })();
  // Its failure is handled where it is awaited, at the end.
  databaseReady.catch(() => {});
  // In-memory caches (API keys) answer only while this process hears the invalidations of the others.
  let cacheInvalidation: CacheInvalidation | undefined;
  app.addHook('onReady', async () => {
    cacheInvalidation = startCacheInvalidation(ctx, database);
  });
  app.addHook('preClose', async () => {
    await cacheInvalidation?.stop();
  });
  if (options.pkiMaintenance ?? config.env !== 'test') {
    let maintenance: PkiMaintenance | undefined;
    app.addHook('onReady', async () => {
      maintenance = startPkiMaintenance(ctx, { database });
    });
    app.addHook('preClose', async () => {
      await maintenance?.stop();
    });
  }

  await app.register(protection, { config });
  await app.register(corsOrigins, { config });
  await app.register(openapi, { config });
  await app.register(problemJson);
  await app.register(requestId);
  await app.register(metrics, { database });
  await app.register(auth, { ctx });
  await app.register(myNumberGuard);

  await app.register(operationRoutes, { ctx });
  await app.register(apiKeyRoutes, { ctx });
  await app.register(auditEventRoutes, { ctx });
  await app.register(pkiRoutes, { ctx });
  await app.register(feeRoutes, { ctx });
  await app.register(officeRoutes, { ctx });
  await app.register(calendarClosureRoutes, { ctx });
  await app.register(pinRoutes, { ctx });
  await app.register(residentRoutes, { ctx });
  await app.register(residentBatchRoutes, { ctx });
  await app.register(pkiConsistencyRoutes, { ctx });
  await app.register(cardRoutes, { ctx });
  await app.register(certificateRoutes, { ctx });
  await app.register(renewalRoutes, { ctx });
  await app.register(inquiryRoutes, { ctx });
  await app.register(pinProcedureRoutes, { ctx });
  if (config.clockControl) await app.register(clockRoutes, { ctx, clock });

  try {
    await databaseReady;
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}
