import type { AdjustableClock } from '../clock.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import { inTransaction, type Actor, type ServiceContext } from './context.js';

export interface ClockView {
  now: string;
  adjusted: boolean;
}

export function clockView(clock: AdjustableClock): ClockView {
  return { now: clock.now().toISOString(), adjusted: clock.adjusted };
}

/**
 * Moves the clock (null: back to the system clock) and audits it as one unit: the audit row is
 * written at the new time, and the clock moves only once that row has committed.
 */
export async function setClock(ctx: ServiceContext, clock: AdjustableClock, actor: Actor, now: string | null): Promise<ClockView> {
  const previous = clock.now().toISOString();
  const target = now === null ? null : new Date(now);
  await inTransaction(ctx, (trx) =>
    appendAudit(trx, { at: target ?? clock.systemNow(), keyId: actor.keyId, action: target === null ? 'clock.reset' : 'clock.set', resource: 'clock', requestId: actor.requestId, detail: { previous } }),
  );
  if (target === null) clock.reset();
  else clock.set(target);
  return clockView(clock);
}
