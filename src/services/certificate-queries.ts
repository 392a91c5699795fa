import { eligibility } from '../domain/eligibility.js';
import { expiriesWithWindowOpeningBetween, renewalWindow } from '../domain/renewal-window.js';
import { certificateProcedure } from '../domain/procedure.js';
import { signatureExpiry, userAuthenticationExpiry } from '../domain/validity.js';
import * as cards from '../db/repositories/cards.js';
import * as records from '../db/repositories/certificate-records.js';
import { findResident } from '../db/repositories/residents.js';
import { notFound } from '../problems.js';
import type { ServiceContext } from './context.js';
import { quoteFee, type FeeQuoteView } from './fees.js';
import { domainPolicyFrom } from './policy.js';
import { cardUsable, residentMayApply } from './certificates.js';
import { heldStatus } from './revocations.js';
import { civil, today } from './time.js';

export type StatusAt = 'good' | 'onHold' | 'revoked' | 'expired' | 'notYetValid';

export interface CertificateStatusView {
  serial: string;
  ca: string;
  kind: string;
  carrier: string;
  residentCode: string;
  cardId: string | null;
  deviceId: string | null;
  notBefore: string;
  notAfter: string;
  expiresOn: string;
  status: StatusAt;
  revocation: { reason: string; revokedAt: string; invalidityDate: string } | null;
  at: string;
}

/** Status at an instant by effective times: a revocation counts from its invalidity date, not from when it was recorded. */
export function statusAt(record: records.CertificateRecord, changes: records.StatusChange[], at: Date): Pick<CertificateStatusView, 'status' | 'revocation'> {
  const effective = changes.filter((c) => c.status !== 'good' && c.effectiveAt <= at).at(-1);
  if (effective) {
    return {
      status: effective.status as 'onHold' | 'revoked',
      revocation: { reason: effective.reason ?? 'unspecified', revokedAt: effective.recordedAt.toISOString(), invalidityDate: effective.effectiveAt.toISOString() },
    };
  }
  if (at < record.notBefore) return { status: 'notYetValid', revocation: null };
  if (at > record.notAfter) return { status: 'expired', revocation: null };
  return { status: 'good', revocation: null };
}

function view(record: records.CertificateRecord, changes: records.StatusChange[], at: Date): CertificateStatusView {
  return {
    serial: record.serial, ca: record.caId, kind: record.kind, carrier: record.carrier, residentCode: record.residentCode,
    cardId: record.cardId, deviceId: record.deviceId, notBefore: record.notBefore.toISOString(), notAfter: record.notAfter.toISOString(),
    expiresOn: record.expiresOn, ...statusAt(record, changes, at), at: at.toISOString(),
  };
}

export async function getCertificateStatus(ctx: ServiceContext, serial: string, at?: string): Promise<CertificateStatusView> {
  const found = await records.findCertificateWithChanges(ctx.db, serial.toLowerCase());
  if (!found) throw notFound('Certificate', `No certificate ${serial}.`);
  return view(found.record, found.changes, at ? new Date(at) : ctx.clock.now());
}

export async function residentCertificates(ctx: ServiceContext, residentCode: string, at?: string, status?: StatusAt): Promise<CertificateStatusView[]> {
  if (!(await findResident(ctx.db, residentCode))) throw notFound('Resident', `No resident ${residentCode}.`);
  const when = at ? new Date(at) : ctx.clock.now();
  const views = [];
  for (const record of await records.certificatesOfResident(ctx.db, residentCode)) {
    views.push(view(record, await records.statusChanges(ctx.db, record.serial), when));
  }
  return status ? views.filter((v) => v.status === status) : views;
}

export interface RenewalEligibilityView {
  on: string;
  certificates: {
    serial: string; kind: string; carrier: string; expiresOn: string; windowOpensOn: string;
    eligible: boolean; reason?: string; expiresOnIfRenewed: string | null; fee: FeeQuoteView | null;
  }[];
  newIssuance: { kind: 'signature' | 'userAuthentication'; eligible: boolean; reason?: string }[];
}

/** The first reason that applies, in the order given, or undefined: the most decisive one is listed first. */
const firstReason = (...reasons: (string | false | undefined)[]): string | undefined => reasons.find((r): r is string => Boolean(r));

/**
 * What the expiry notice (有効期限通知書) tells a resident: each certificate's window and what a renewal on
 * `on` would give, and whether a certificate of each kind could be issued. When several reasons apply the
 * answer names one: first the certificate's own state (onHold, followsCardCertificate), then in the order
 * POST /v1/cards/{id}/certificates checks them (residentNotActive, cardNotActive, the eligibility reasons,
 * renewalWindowNotOpen), so it is the type such a request that day would be refused with.
 */
export async function renewalEligibility(ctx: ServiceContext, residentCode: string, onText?: string): Promise<RenewalEligibilityView> {
  const resident = await findResident(ctx.db, residentCode);
  if (!resident) throw notFound('Resident', `No resident ${residentCode}.`);
  const on = onText ? civil(onText) : today(ctx);
  const policy = domainPolicyFrom(ctx.config);
  const liveCards = await cards.liveCardsOf(ctx.db, residentCode);
  const held = (await records.certificatesOfResident(ctx.db, residentCode)).filter((c) => ['good', 'hold'].includes(heldStatus(c, on)));
  const judge = (kind: 'signature' | 'userAuthentication', carrier: 'card' | 'smartphone') => eligibility({
    kind, carrier, birthDate: civil(resident.dateOfBirth), appliedOn: on, adultWard: resident.adultWard, applicant: 'holder',
    residence: resident.residence, cardHasGoodSignatureCertificate: held.some((c) => c.kind === 'signature' && c.carrier === 'card' && heldStatus(c, on) === 'good'),
  });
  const residentRefused = !residentMayApply(resident) && 'residentNotActive';
  const renewalFee = await quoteFee(ctx, ctx.db, 'certificateRenewal', on.toString());

  const certificates = held.map((c) => {
    const windowOpensOn = renewalWindow(civil(c.expiresOn)).opensOn.toString();
    const decision = certificateProcedure({ expiresOn: civil(c.expiresOn), status: heldStatus(c, on) }, on);
    const card = liveCards.find((k) => k.cardId === c.cardId);
    const reason = firstReason(
      heldStatus(c, on) === 'hold' && 'onHold',
      c.carrier === 'smartphone' && 'followsCardCertificate',
      residentRefused,
      !(card && cardUsable(card, on)) && 'cardNotActive',
      judge(c.kind, c.carrier).reasons[0],
      !decision.allowed && decision.reason,
    );
    let expiresOnIfRenewed: string | null = null;
    if (card && c.carrier === 'card') {
      const facts = { birthDate: civil(resident.dateOfBirth), issuedOn: on, procedure: 'renewal' as const, cardExpiresOn: civil(card.expiresOn) };
      const ua = userAuthenticationExpiry(facts, policy);
      expiresOnIfRenewed = (c.kind === 'userAuthentication' ? ua : signatureExpiry({ ...facts, userAuthenticationExpiresOn: ua }, policy)).toString();
    }
    return {
      serial: c.serial, kind: c.kind, carrier: c.carrier, expiresOn: c.expiresOn, windowOpensOn,
      eligible: reason === undefined, ...(reason ? { reason } : {}), expiresOnIfRenewed, fee: reason === undefined ? renewalFee : null,
    };
  });
  const anyCardUsable = liveCards.some((k) => cardUsable(k, on));
  const newIssuance = (['signature', 'userAuthentication'] as const).map((kind) => {
    const reason = firstReason(residentRefused, !anyCardUsable && 'cardNotActive', judge(kind, 'card').reasons[0]);
    return { kind, eligible: reason === undefined, ...(reason ? { reason } : {}) };
  });
  return { on: on.toString(), certificates, newIssuance };
}

export interface RenewalDueView {
  serial: string; kind: string; carrier: string; residentCode: string; cardId: string | null; expiresOn: string; windowOpensOn: string;
}

/** Certificates whose renewal window opens in [from, to], for the expiry-notice batch. */
export async function renewalsDue(
  ctx: ServiceContext,
  from: string,
  to: string,
  after: { expiresOn: string; serial: string } | undefined,
  limit: number,
): Promise<RenewalDueView[]> {
  const expiries = expiriesWithWindowOpeningBetween(civil(from), civil(to));
  if (!expiries) return [];
  const rows = await records.goodCertificatesExpiringBetween(ctx.db, expiries.earliest.toString(), expiries.latest.toString(), after, limit);
  return rows.map((c) => ({
    serial: c.serial, kind: c.kind, carrier: c.carrier, residentCode: c.residentCode, cardId: c.cardId, expiresOn: c.expiresOn,
    windowOpensOn: renewalWindow(civil(c.expiresOn)).opensOn.toString(),
  }));
}
