import { Temporal } from 'temporal-polyfill';
import type { Carrier, CertificateKind, CertificateStatus, RevocationReason } from './certificates.js';
import type { Instant } from './dates.js';
import type { DomainPolicy } from './policy.js';

/** Changes of the basic facts (基本4情報) that a signature certificate carries. */
export type BasicFactsChange = 'nameChanged' | 'addressChanged' | 'dateOfBirthChanged' | 'sexChanged';

type WholeHolderEvent =
  | BasicFactsChange
  | 'aliasChanged'
  | 'guardianshipStarted'
  | 'movedAbroadWithContinuedUse'
  | 'movedAbroad'
  | 'foreignNationalLeft'
  | 'death'
  | 'cardLost'
  | 'cardAbolished'
  | 'cardReturned';

/**
 * `effectiveAt` is when the event took effect (move-out date, time of death,
 * time of loss), which becomes the RFC 5280 invalidityDate; the revocation
 * date is when the service records it, which is the caller's business.
 */
export type ResidentEvent =
  | { readonly type: WholeHolderEvent; readonly effectiveAt: Instant }
  /** `stolen` decides between keyCompromise and cessationOfOperation for certificates revoked after a loss. */
  | { readonly type: 'cardFound' | 'cardReissued'; readonly effectiveAt: Instant; readonly stolen: boolean }
  /** Events that name the certificates they concern. */
  | {
      readonly type: 'renewal' | 'holderRequest' | 'keyCompromise';
      readonly effectiveAt: Instant;
      readonly serials: readonly string[];
    };

export type ResidentEventType = ResidentEvent['type'];

export interface HeldCertificate {
  readonly serial: string;
  readonly kind: CertificateKind;
  readonly carrier: Carrier;
  readonly status: CertificateStatus;
  /** When the certificate began (its notBefore): no hold or revocation takes effect earlier. */
  readonly notBefore?: Instant;
  /** For a certificate on hold, when the hold took effect: its revocation takes effect no earlier. */
  readonly heldSince?: Instant;
}

export interface RevocationAction {
  readonly serial: string;
  readonly action: 'revoke' | 'hold';
  readonly reason: RevocationReason;
  readonly invalidityDate: Instant;
}

interface Rule {
  readonly applies: (certificate: HeldCertificate) => boolean;
  readonly action: 'revoke' | 'hold';
  readonly reason: (certificate: HeldCertificate) => RevocationReason;
}

const signatures = (c: HeldCertificate) => c.kind === 'signature';
const onCard = (c: HeldCertificate) => c.carrier === 'card';
const everything = () => true;
const none = () => false;
const revoke = (reason: RevocationReason): Pick<Rule, 'action' | 'reason'> => ({
  action: 'revoke',
  reason: () => reason,
});

/** DOMAIN.md's revocation table, one entry per row. */
function ruleFor(event: ResidentEvent, policy: DomainPolicy): Rule {
  switch (event.type) {
    case 'nameChanged':
    case 'addressChanged':
    case 'dateOfBirthChanged':
    case 'sexChanged':
    case 'movedAbroadWithContinuedUse':
      return { applies: signatures, ...revoke('affiliationChanged') };
    case 'aliasChanged':
      return {
        applies: policy.aliasChangeRevokesSignature ? signatures : none,
        ...revoke('affiliationChanged'),
      };
    // Not in the table: an adult ward may not hold a signature certificate, and nothing in it changed.
    case 'guardianshipStarted':
      return { applies: signatures, ...revoke('cessationOfOperation') };
    case 'renewal':
    case 'holderRequest':
    case 'keyCompromise': {
      const named = new Set(event.serials);
      const reason =
        event.type === 'renewal'
          ? 'superseded'
          : event.type === 'keyCompromise'
            ? 'keyCompromise'
            : 'cessationOfOperation';
      return { applies: (c) => named.has(c.serial), ...revoke(reason) };
    }
    // Smartphone certificates live on another device: losing the card does not endanger them.
    case 'cardLost':
      return { applies: (c) => onCard(c) && c.status === 'good', action: 'hold', reason: () => 'certificateHold' };
    case 'cardFound':
      return { applies: onCard, ...revoke(event.stolen ? 'keyCompromise' : 'cessationOfOperation') };
    // A hold is never released: the held certificates die with the old card.
    case 'cardReissued': {
      const stolen = event.stolen;
      return {
        applies: onCard,
        action: 'revoke',
        reason: (c) => (stolen && c.status === 'hold' ? 'keyCompromise' : 'cessationOfOperation'),
      };
    }
    case 'cardAbolished':
    case 'cardReturned':
      return { applies: onCard, ...revoke('cessationOfOperation') };
    case 'death':
    case 'movedAbroad':
    case 'foreignNationalLeft':
      return { applies: everything, ...revoke('cessationOfOperation') };
  }
}

/**
 * A certificate cannot be held or revoked before it existed, nor revoked before its hold began: an event
 * that took effect earlier (a card lost in the morning and reported after certificates were issued onto
 * it that day, a move recorded late, a card found at a time before its loss was reported) takes effect
 * on that certificate when its current state began.
 */
function effectiveFor(certificate: HeldCertificate, effectiveAt: Instant): Instant {
  let at = effectiveAt;
  for (const begun of [certificate.notBefore, certificate.heldSince]) {
    if (begun && Temporal.Instant.compare(begun, at) > 0) at = begun;
  }
  return at;
}

/**
 * What an event does to the certificates a resident holds. Revoked and
 * expired certificates are left alone; serials an event names that the
 * resident does not hold are ignored. Each action's invalidityDate is the
 * event's effective time, or the certificate's notBefore or hold's start when that is later.
 */
export function revocationPlan(
  event: ResidentEvent,
  certificates: readonly HeldCertificate[],
  policy: DomainPolicy,
): RevocationAction[] {
  const rule = ruleFor(event, policy);
  return certificates
    .filter((c) => (c.status === 'good' || c.status === 'hold') && rule.applies(c))
    .map((c) => ({
      serial: c.serial,
      action: rule.action,
      reason: rule.reason(c),
      invalidityDate: effectiveFor(c, event.effectiveAt),
    }));
}
