import type { CertificateKind, CertificateStatus, RevocationReason } from './certificates.js';

/** A smartphone certificate the resident holds, as the one-device rule sees it. */
export interface SmartphoneCertificate {
  readonly serial: string;
  readonly kind: CertificateKind;
  readonly deviceId: string | null;
  readonly status: CertificateStatus;
}

export interface DeviceRevocation {
  readonly serial: string;
  readonly reason: Extract<RevocationReason, 'cessationOfOperation' | 'superseded'>;
}

/**
 * DOMAIN.md: one device per person. Issuing a smartphone certificate of `kind` to `deviceId`
 * revokes every live certificate (good or on hold) on any other device, `cessationOfOperation`
 * (the old device's service ends), and the one of the same kind on the same device, `superseded`
 * (replaced by the new one); the other kind on the same device stays. Revoked and expired
 * certificates are left alone.
 */
export function smartphoneIssuanceRevocations(
  held: readonly SmartphoneCertificate[],
  issued: { readonly deviceId: string; readonly kind: CertificateKind },
): DeviceRevocation[] {
  const plan: DeviceRevocation[] = [];
  for (const c of held) {
    if (c.status !== 'good' && c.status !== 'hold') continue;
    if (c.deviceId !== issued.deviceId) plan.push({ serial: c.serial, reason: 'cessationOfOperation' });
    else if (c.kind === issued.kind) plan.push({ serial: c.serial, reason: 'superseded' });
  }
  return plan;
}
