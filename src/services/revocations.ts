import { Temporal } from 'temporal-polyfill';
import type { CertificateStatus } from '../domain/certificates.js';
import { revocationPlan, type HeldCertificate, type ResidentEvent } from '../domain/revocation-plan.js';
import type { CertificateRecord } from '../db/repositories/certificate-records.js';
import { changeCertificateStatuses, type StatusChange } from './certificate-status.js';
import type { ServiceContext, Tx } from './context.js';
import { domainPolicyFrom } from './policy.js';
import { toInstant, today } from './time.js';

export interface RevokedView {
  serial: string;
  ca: string;
  kind: string;
  carrier: string;
  reason: string;
  status: 'onHold' | 'revoked';
  invalidityDate: string;
}

/** The domain's vocabulary for a stored certificate on a given day. */
export function heldStatus(c: CertificateRecord, on: Temporal.PlainDate): CertificateStatus {
  if (c.status === 'revoked') return 'revoked';
  if (c.status === 'onHold') return 'hold';
  return Temporal.PlainDate.compare(Temporal.PlainDate.from(c.expiresOn), on) < 0 ? 'expired' : 'good';
}

/**
 * DOMAIN.md's revocation table for the given certificates: the status changes to make and how the
 * answer shows them. Decides only; the caller applies the changes (changeCertificateStatuses).
 */
export function plannedRevocations(
  ctx: ServiceContext,
  event: ResidentEvent,
  certificates: CertificateRecord[],
  cause: string,
): { changes: StatusChange[]; revoked: RevokedView[] } {
  const on = today(ctx);
  const held: HeldCertificate[] = certificates.map((c) => ({ serial: c.serial, kind: c.kind, carrier: c.carrier, status: heldStatus(c, on), notBefore: toInstant(c.notBefore),
    ...(c.status === 'onHold' && c.invalidityDate ? { heldSince: toInstant(c.invalidityDate) } : {}),
  }));
  const byserial = new Map(certificates.map((c) => [c.serial, c]));
  const changes: StatusChange[] = [];
  const revoked: RevokedView[] = [];
  for (const action of revocationPlan(event, held, domainPolicyFrom(ctx.config))) {
    const c = byserial.get(action.serial)!;
    const status = action.action === 'hold' ? 'onHold' : 'revoked';
    const effectiveAt = new Date(action.invalidityDate.epochMilliseconds);
    changes.push({ serial: c.serial, status, reason: action.reason, effectiveAt, cause });
    revoked.push({ serial: c.serial, ca: c.caId, kind: c.kind, carrier: c.carrier, reason: action.reason, status, invalidityDate: effectiveAt.toISOString() });
  }
  return { changes, revoked };
}

/**
 * Applies DOMAIN.md's revocation table to the given certificates, in the caller's transaction:
 * each status change is stored (and its OCSP answer re-signed) before the transaction commits.
 */
export async function applyRevocationPlan(
  trx: Tx,
  ctx: ServiceContext,
  event: ResidentEvent,
  certificates: CertificateRecord[],
  cause: string,
): Promise<RevokedView[]> {
  const { changes, revoked } = plannedRevocations(ctx, event, certificates, cause);
  await changeCertificateStatuses(trx, ctx, changes);
  return revoked;
}
