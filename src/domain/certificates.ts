/** Vocabulary shared by the certificate rules (DOMAIN.md glossary). */

export type CertificateKind = 'signature' | 'userAuthentication';

export type Carrier = 'card' | 'smartphone';

/** `expired` lets callers pass a holder's whole history; expired certificates are never acted on. */
export type CertificateStatus = 'good' | 'hold' | 'revoked' | 'expired';

/** RFC 5280 CRLReason names, as J-LIS uses them. */
export type RevocationReason =
  | 'keyCompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold';
