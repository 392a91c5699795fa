import { Temporal } from 'temporal-polyfill';
import type { CertificateStatus, RevocationReason } from './certificates.js';
import type { PlainDate } from './dates.js';
import { isInRenewalWindow, renewalWindow } from './renewal-window.js';

/** 新規発行 / 更新 / 期限切れ後の新規発行 / 再発行. */
export type CertificateProcedure = 'initial' | 'renewal' | 'newAfterExpiry' | 'reissue';

/** The holder's latest certificate of the kind being applied for, on the same carrier. */
export interface LatestCertificate {
  readonly expiresOn: PlainDate;
  readonly status: CertificateStatus;
  readonly revocationReason?: RevocationReason | undefined;
}

export type ProcedureDecision =
  | { readonly allowed: true; readonly procedure: CertificateProcedure }
  | {
      readonly allowed: false;
      readonly reason: 'renewalWindowNotOpen';
      readonly renewalOpensOn: PlainDate;
    };

/**
 * Which procedure an application on `on` is. A certificate revoked because the
 * basic facts changed is replaced by a fresh issuance (nothing was lost); one
 * on hold or revoked for any other reason is a reissue.
 */
export function certificateProcedure(
  latest: LatestCertificate | null,
  on: PlainDate,
): ProcedureDecision {
  if (latest === null) return { allowed: true, procedure: 'initial' };
  if (latest.status === 'expired' || Temporal.PlainDate.compare(on, latest.expiresOn) > 0) {
    return { allowed: true, procedure: 'newAfterExpiry' };
  }
  if (latest.status === 'revoked') {
    return {
      allowed: true,
      procedure: latest.revocationReason === 'affiliationChanged' ? 'initial' : 'reissue',
    };
  }
  if (latest.status === 'hold') return { allowed: true, procedure: 'reissue' };
  if (isInRenewalWindow(latest.expiresOn, on)) return { allowed: true, procedure: 'renewal' };
  return {
    allowed: false,
    reason: 'renewalWindowNotOpen',
    renewalOpensOn: renewalWindow(latest.expiresOn).opensOn,
  };
}
