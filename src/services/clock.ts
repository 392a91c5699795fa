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

export async function setClock(ctx: ServiceContext, clock: AdjustableClock, actor: Actor, now: string | null): Promise<ClockView> {
  const previous = clock.now().toISOString();
  if (now === null) clock.reset();
  else clock.set(new Date(now));
  await inTransaction(ctx, (trx) =>
    appendAudit(trx, { at: clock.now(), keyId: actor.keyId, action: now === null ? 'clock.reset' : 'clock.set', resource: 'clock', requestId: actor.requestId, detail: { previous } }),
  );
  return clockView(clock);
}
