import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AdjustableClock } from '../clock.js';
import { actorOf } from '../plugins/auth.js';
import { clockView, setClock } from '../services/clock.js';
import type { ServiceContext } from '../services/context.js';
import { Instant, responses } from './schemas.js';

const ClockView = Type.Object({ now: Instant, adjusted: Type.Boolean() });

/** Registered only when CLOCK_CONTROL=enabled (test environments). */
const clock: FastifyPluginAsyncTypebox<{ ctx: ServiceContext; clock: AdjustableClock }> = async (app, opts) => {
  app.get('/v1/clock', {
    config: { auth: 'status:read' },
    schema: { tags: ['admin'], summary: "The service's current time", response: responses({ 200: ClockView }) },
  }, async () => clockView(opts.clock));

  app.put('/v1/clock', {
    config: { auth: 'admin' },
    schema: {
      tags: ['admin'],
      summary: 'Set the service clock (test environments only); it runs on from there',
      body: Type.Object({ now: Instant }, { additionalProperties: false }),
      response: responses({ 200: ClockView }),
    },
  }, async (request) => setClock(request.ctx, opts.clock, actorOf(request), request.body.now));

  app.delete('/v1/clock', {
    config: { auth: 'admin' },
    schema: { tags: ['admin'], summary: 'Return to the system clock', response: responses({ 200: ClockView }) },
  }, async (request) => setClock(request.ctx, opts.clock, actorOf(request), null));
};

export default clock;
