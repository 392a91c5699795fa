import { ageOn } from './age.js';
import type { Carrier, CertificateKind } from './certificates.js';
import type { PlainDate } from './dates.js';

/** Minimum age for a signature certificate: it stands in for a registered seal (実印). */
export const SIGNATURE_MINIMUM_AGE = 15;

export type Applicant = 'holder' | 'legalRepresentative' | 'voluntaryAgent';

/** Where the holder lives; `abroadWithContinuedUse` is the 国外転出者 procedure (since 2024-05-27). */
export type Residence = 'domestic' | 'abroadWithContinuedUse';

export interface EligibilityFacts {
  readonly kind: CertificateKind;
  readonly carrier: Carrier;
  readonly birthDate: PlainDate;
  /** Ages are judged on the day the application is received. */
  readonly appliedOn: PlainDate;
  readonly adultWard: boolean;
  readonly applicant: Applicant;
  readonly residence: Residence;
  /** Smartphone certificates are derived from a card holding a good signature certificate. */
  readonly cardHasGoodSignatureCertificate: boolean;
}

export type IneligibilityReason =
  | 'under15'
  | 'adultWard'
  | 'legalRepresentativeRequired'
  | 'overseasSignatureOnly'
  | 'cardSignatureCertificateRequired';

/** What would be issued: abroad, only the signature certificate for overseas residents exists. */
export type IssuableCertificate = CertificateKind | 'overseasSignature';

export type Eligibility =
  | { readonly eligible: true; readonly issues: IssuableCertificate; readonly reasons: readonly [] }
  | { readonly eligible: false; readonly reasons: readonly IneligibilityReason[] };

/** Every reason that applies is listed, so staff can resolve them in one visit. */
export function eligibility(facts: EligibilityFacts): Eligibility {
  const reasons: IneligibilityReason[] = [];
  const under15 = ageOn(facts.birthDate, facts.appliedOn) < SIGNATURE_MINIMUM_AGE;
  const abroad = facts.residence === 'abroadWithContinuedUse';

  if (facts.kind === 'signature') {
    if (under15) reasons.push('under15');
    if (facts.adultWard) reasons.push('adultWard');
  } else {
    if (abroad) reasons.push('overseasSignatureOnly');
    // An under-15 cannot set the PIN alone; the legal representative applies for them.
    if (under15 && facts.applicant !== 'legalRepresentative') {
      reasons.push('legalRepresentativeRequired');
    }
  }
  if (facts.carrier === 'smartphone' && !facts.cardHasGoodSignatureCertificate) {
    reasons.push('cardSignatureCertificateRequired');
  }

  if (reasons.length > 0) return { eligible: false, reasons };
  const issues: IssuableCertificate =
    facts.kind === 'signature' && abroad ? 'overseasSignature' : facts.kind;
  return { eligible: true, issues, reasons: [] };
}
