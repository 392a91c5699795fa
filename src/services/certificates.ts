import { Temporal } from 'temporal-polyfill';
import type { Applicant } from '../domain/eligibility.js';
import { eligibility } from '../domain/eligibility.js';
import { feeProcedureFor, theftExemption, type FeeExemption } from '../domain/fees.js';
import { inquiryPurposeForProcedure } from '../domain/inquiry-workflow.js';
import { certificateProcedure, type CertificateProcedure } from '../domain/procedure.js';
import { notAfterFor, signatureExpiry, userAuthenticationExpiry } from '../domain/validity.js';
import { generateResidentKeyPair, isPkiError, parseCsr, type BasicFacts } from '../pki/index.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import * as cards from '../db/repositories/cards.js';
import { certificatesOfResident, findCertificateRecord, type CertificateRecord } from '../db/repositories/certificate-records.js';
import { findResident, type Resident } from '../db/repositories/residents.js';
import { notFound, Problem } from '../problems.js';
import { smartphoneIssuanceRevocations } from '../domain/smartphone-device.js';
import { assertCounterOpen } from './calendar.js';
import { changeCertificateStatus, issueCertificate } from './certificate-status.js';
import type { Actor, ServiceContext } from './context.js';
import { quoteFee } from './fees.js';
import { runIdempotent, type IdempotentRequest } from './idempotency.js';
import { consumeInquiryIn, lockUsableInquiry } from './inquiries.js';
import { domainPolicyFrom } from './policy.js';
import { applyRevocationPlan, heldStatus } from './revocations.js';
import { assertNearNow, assertNotAhead, civil, toDate, toInstant, today } from './time.js';

export type CertificateKind = 'signature' | 'userAuthentication';
export type ApplicantType = 'self' | 'legalRepresentative' | 'agent';

export interface IssuanceInput {
  kind: CertificateKind;
  officeId: string;
  receivedAt: string;
  applicant: { type: ApplicantType; inquiryId?: string };
  csr?: string;
  generateKey?: boolean;
  exemption?: FeeExemption;
}

export interface IssuedView {
  serial: string;
  ca: string;
  kind: CertificateKind;
  carrier: 'card' | 'smartphone';
  notBefore: string;
  notAfter: string;
  expiresOn: string;
  status: 'good';
  pem: string;
}

const APPLICANT: Record<ApplicantType, Applicant> = { self: 'holder', legalRepresentative: 'legalRepresentative', agent: 'voluntaryAgent' };

const REFUSAL_TITLES: Record<string, string> = {
  under15: 'No signature certificate under 15',
  adultWard: 'No signature certificate for an adult ward',
  legalRepresentativeRequired: 'A legal representative must apply for a holder under 15',
  overseasSignatureOnly: 'Only the overseas signature certificate can be issued abroad',
  cardSignatureCertificateRequired: 'The card needs a good signature certificate',
};

function refuse(code: string, detail: string, extra: Record<string, unknown> = {}): never {
  throw new Problem(422, code, REFUSAL_TITLES[code] ?? code, detail, extra);
}

/** Reads and checks the key source: a client CSR (key made on the card) or a key pair made here, returned once. */
async function keyFor(input: { csr?: string; generateKey?: boolean }): Promise<{ spki: Uint8Array; privateKeyPem?: string }> {
  if (Boolean(input.csr) === Boolean(input.generateKey)) {
    throw new Problem(422, 'keySourceRequired', 'Give exactly one of csr or generateKey', 'Send a PKCS#10 CSR in `csr`, or `generateKey: true` to have the service make the key pair.');
  }
  if (input.generateKey) return generateResidentKeyPair();
  try {
    return { spki: parseCsr(input.csr!).spki };
  } catch (error) {
    if (isPkiError(error)) throw new Problem(422, error.code, 'CSR refused', error.message);
    throw error;
  }
}

function basicFacts(r: Resident): BasicFacts {
  return { name: r.alias ? `${r.name}（${r.alias}）` : r.name, sex: r.sex, dateOfBirth: r.dateOfBirth, address: r.address };
}

/** Active residents, and residents abroad with continued use (who may hold only the overseas signature certificate). */
export function residentMayApply(r: Resident): boolean {
  return r.status === 'active' || (r.status === 'movedOutAbroad' && r.residence === 'abroadWithContinuedUse');
}

function assertResidentMayApply(r: Resident): void {
  if (!residentMayApply(r)) throw new Problem(422, 'residentNotActive', 'Resident not active', `The resident's status is ${r.status}.`);
}

/** A card certificates can be issued onto on `on`: active and not expired. */
export const cardUsable = (card: cards.Card, on: Temporal.PlainDate): boolean =>
  card.status === 'active' && Temporal.PlainDate.compare(civil(card.expiresOn), on) >= 0;

const latestOf = (certs: CertificateRecord[]): CertificateRecord | undefined =>
  certs.reduce<CertificateRecord | undefined>((a, c) => (!a || c.issuedAt > a.issuedAt ? c : a), undefined);

function certificateView(c: { serial: string; pem: string; notBefore: Date; notAfter: Date }, kind: CertificateKind, carrier: 'card' | 'smartphone', expiresOn: string): IssuedView {
  return { serial: c.serial, ca: kind, kind, carrier, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), expiresOn, status: 'good', pem: c.pem };
}

/**
 * Issues a certificate onto a card at a counter: checks, procedure (initial, renewal, new after
 * expiry, reissue), validity from the domain rules, signing, superseding, fee and audit — one transaction.
 */
export async function issueCardCertificate(ctx: ServiceContext, actor: Actor, request: IdempotentRequest, cardId: string, input: IssuanceInput) {
  // Key generation (tens of milliseconds) happens before the transaction, so it holds no connection or row lock.
  const key = await keyFor(input);
  return runIdempotent(ctx, actor, request, async (trx) => {
    const now = ctx.clock.now();
    const on = today(ctx);
    const policy = domainPolicyFrom(ctx.config);
    // The resident row lock serialises this issuance with the resident's events (issue 7).
    const locked = await cards.lockCardWithResident(trx, cardId);
    if (!locked) throw notFound('Card', `No card ${cardId}.`);
    const { resident, card } = locked;

    const receivedAt = new Date(input.receivedAt);
    assertNearNow(ctx, 'receivedAt', receivedAt);
    await assertCounterOpen(ctx, trx, policy, input.officeId, receivedAt);
    // The resident before the card: a death or a move abroad also abolishes the cards, and the answer names the cause.
    assertResidentMayApply(resident);
    if (!cardUsable(card, on)) {
      throw new Problem(422, 'cardNotActive', 'Card not active', `The card is ${card.status === 'active' ? 'expired' : card.status}.`, { cardStatus: card.status });
    }
    if (input.applicant.type === 'agent' && !input.applicant.inquiryId) {
      throw new Problem(422, 'agentNeedsCompletedInquiry', 'An agent needs a completed inquiry case', 'A voluntary agent applies with `applicant.inquiryId` of a completed inquiry-letter case.');
    }
    if (input.applicant.type === 'self' && input.applicant.inquiryId) {
      throw new Problem(422, 'inquiryIdNotExpected', 'The holder applies without an inquiry case', 'applicant.inquiryId is for agents and legal representatives.');
    }
    const verdict = eligibility({
      kind: input.kind, carrier: 'card', birthDate: civil(resident.dateOfBirth), appliedOn: on, adultWard: resident.adultWard,
      applicant: APPLICANT[input.applicant.type],
      residence: resident.status === 'movedOutAbroad' ? 'abroadWithContinuedUse' : 'domestic',
      cardHasGoodSignatureCertificate: true,
    });
    if (!verdict.eligible) refuse(verdict.reasons[0]!, `Not eligible: ${verdict.reasons.join(', ')}.`, { reasons: verdict.reasons });

    const onCard = (await certificatesOfResident(trx, resident.residentCode)).filter((c) => c.cardId === cardId && c.carrier === 'card');
    const latest = latestOf(onCard.filter((c) => c.kind === input.kind));
    const decision = certificateProcedure(
      latest ? { expiresOn: civil(latest.expiresOn), status: heldStatus(latest, on), revocationReason: (latest.revocationReason ?? undefined) as never } : null,
      on,
    );
    if (!decision.allowed) {
      throw new Problem(422, 'renewalWindowNotOpen', 'Renewal window not open', `The renewal window opens on ${decision.renewalOpensOn.toString()}.`, { renewalOpensOn: decision.renewalOpensOn.toString() });
    }
    const procedure: CertificateProcedure = decision.procedure;
    // Issue 8: the agent's completed inquiry case for this resident and purpose, used up by this issuance.
    const inquiry = input.applicant.inquiryId
      ? await lockUsableInquiry(trx, ctx, {
        inquiryId: input.applicant.inquiryId, residentCode: resident.residentCode, purpose: inquiryPurposeForProcedure(procedure),
        agentKind: input.applicant.type === 'agent' ? 'voluntary' : 'legalRepresentative',
      })
      : null;
    const expiresOn = expiryFor(input.kind, procedure, resident, card, onCard, on, policy);

    const issued = await issueCertificate(trx, ctx, {
      ca: input.kind, spki: key.spki, notBefore: now, notAfter: toDate(notAfterFor(expiresOn)), expiresOn: expiresOn.toString(),
      ...(input.kind === 'signature' ? { basicFacts: basicFacts(resident) } : {}),
      kind: input.kind, carrier: 'card', residentCode: resident.residentCode, cardId, deviceId: null, procedure, cause: `request:${actor.requestId}`,
    });
    const superseded: string[] = [];
    if (procedure === 'renewal' && latest) {
      const renewal = { type: 'renewal', effectiveAt: toInstant(now), serials: [latest.serial] } as const;
      superseded.push(...(await applyRevocationPlan(trx, ctx, renewal, [latest], `renewal:${issued.serial}`)).map((r) => r.serial));
    }
    if (inquiry) await consumeInquiryIn(trx, ctx, actor, inquiry, `certificates/${issued.serial}`);
    const exemption = input.exemption ?? (procedure === 'reissue' && latest ? theftExemption(card.stolen, latest.revocationReason) : null);
    const fee = await quoteFee(ctx, trx, feeProcedureFor(procedure), on.toString(), exemption);
    await appendAudit(trx, {
      at: now, keyId: actor.keyId, action: 'certificate.issued', resource: `certificates/${issued.serial}`, requestId: actor.requestId,
      detail: { cardId, kind: input.kind, procedure, superseded, applicant: input.applicant.type, keyGenerated: Boolean(key.privateKeyPem) },
    });
    const body = { certificate: certificateView(issued, input.kind, 'card', expiresOn.toString()), procedure, fee, superseded };
    return key.privateKeyPem
      ? { status: 201, body: { ...body, privateKeyPem: key.privateKeyPem }, replayBody: { ...body, privateKeyOmitted: true } }
      : { status: 201, body };
  });
}

/** DOMAIN.md "Validity": 5th (or, renewing, 6th) birthday, capped by the card and, for signature, by the user-authentication certificate. */
function expiryFor(
  kind: CertificateKind,
  procedure: CertificateProcedure,
  resident: Resident,
  card: cards.Card,
  onCard: CertificateRecord[],
  on: Temporal.PlainDate,
  policy: ReturnType<typeof domainPolicyFrom>,
): Temporal.PlainDate {
  const facts = { birthDate: civil(resident.dateOfBirth), issuedOn: on, procedure, cardExpiresOn: civil(card.expiresOn) };
  if (kind === 'userAuthentication') return userAuthenticationExpiry(facts, policy);
  const userAuthentication = latestOf(onCard.filter((c) => c.kind === 'userAuthentication' && heldStatus(c, on) === 'good'));
  return signatureExpiry({ ...facts, userAuthenticationExpiresOn: userAuthentication ? civil(userAuthentication.expiresOn) : civil(card.expiresOn) }, policy);
}

/**
 * スマホ用電子証明書: derived from the active card's good certificate of the same kind, whose validity
 * it follows. One device per person: a new device revokes the old device's certificates.
 */
export async function issueSmartphoneCertificate(
  ctx: ServiceContext,
  actor: Actor,
  request: IdempotentRequest,
  residentCode: string,
  input: { kind: CertificateKind; deviceId: string; csr: string },
) {
  const key = await keyFor({ csr: input.csr });
  return runIdempotent(ctx, actor, request, async (trx) => {
    const now = ctx.clock.now();
    const on = today(ctx);
    const resident = await findResident(trx, residentCode, true);
    if (!resident) throw notFound('Resident', `No resident ${residentCode}.`);
    assertResidentMayApply(resident);
    const card = (await cards.liveCardsOf(trx, residentCode)).find((c) => c.status === 'active');
    if (!card) throw new Problem(422, 'cardNotActive', 'No active card', 'Smartphone certificates need an active My Number card.');
    const held = await certificatesOfResident(trx, residentCode);
    const good = (c: CertificateRecord) => heldStatus(c, on) === 'good';
    const cardCerts = held.filter((c) => c.cardId === card.cardId && c.carrier === 'card' && good(c));
    const verdict = eligibility({
      kind: input.kind, carrier: 'smartphone', birthDate: civil(resident.dateOfBirth), appliedOn: on, adultWard: resident.adultWard,
      applicant: 'holder', residence: resident.status === 'movedOutAbroad' ? 'abroadWithContinuedUse' : 'domestic',
      cardHasGoodSignatureCertificate: cardCerts.some((c) => c.kind === 'signature'),
    });
    if (!verdict.eligible) refuse(verdict.reasons[0]!, `Not eligible: ${verdict.reasons.join(', ')}.`, { reasons: verdict.reasons });
    const source = latestOf(cardCerts.filter((c) => c.kind === input.kind));
    if (!source) {
      throw new Problem(422, 'cardCertificateRequired', 'The card holds no good certificate of this kind', `Issue a ${input.kind} certificate on the card first.`);
    }
    const replaced: string[] = [];
    const smartphones = held.filter((c) => c.carrier === 'smartphone').map((c) => ({ serial: c.serial, kind: c.kind, deviceId: c.deviceId, status: heldStatus(c, on) }));
    for (const { serial, reason } of smartphoneIssuanceRevocations(smartphones, { deviceId: input.deviceId, kind: input.kind })) {
      await changeCertificateStatus(trx, ctx, { serial, status: 'revoked', reason, effectiveAt: now, cause: `smartphone:${input.deviceId}` });
      replaced.push(serial);
    }
    const issued = await issueCertificate(trx, ctx, {
      ca: input.kind, spki: key.spki, notBefore: now, notAfter: source.notAfter, expiresOn: source.expiresOn,
      ...(input.kind === 'signature' ? { basicFacts: basicFacts(resident) } : {}),
      kind: input.kind, carrier: 'smartphone', residentCode, cardId: card.cardId, deviceId: input.deviceId, procedure: 'initial', cause: `request:${actor.requestId}`,
    });
    const fee = await quoteFee(ctx, trx, 'certificateIssuance', on.toString());
    await appendAudit(trx, {
      at: now, keyId: actor.keyId, action: 'certificate.issued', resource: `certificates/${issued.serial}`, requestId: actor.requestId,
      detail: { carrier: 'smartphone', kind: input.kind, replaced },
    });
    return { status: 201, body: { certificate: certificateView(issued, input.kind, 'smartphone', source.expiresOn), procedure: 'initial' as const, fee, superseded: replaced } };
  });
}

/** A holder's request (cessationOfOperation) or a reported key compromise. */
export async function revokeCertificate(
  ctx: ServiceContext,
  actor: Actor,
  request: IdempotentRequest,
  serial: string,
  input: { reason: 'holderRequest' | 'keyCompromise'; effectiveAt?: string },
) {
  return runIdempotent(ctx, actor, request, async (trx) => {
    const record = await findCertificateRecord(trx, serial);
    if (!record) throw notFound('Certificate', `No certificate ${serial}.`);
    await findResident(trx, record.residentCode, true);
    const current = (await findCertificateRecord(trx, serial))!;
    if (current.status === 'revoked') {
      throw new Problem(409, 'certificateAlreadyRevoked', 'Certificate already revoked', `Revoked (${current.revocationReason}) at ${current.revokedAt?.toISOString()}.`, { state: 'revoked' });
    }
    const now = ctx.clock.now();
    const requested = input.effectiveAt ? new Date(input.effectiveAt) : now;
    assertNotAhead(ctx, 'effectiveAt', requested);
    const event = { type: input.reason, effectiveAt: toInstant(requested), serials: [serial] } as const;
    const [revoked] = await applyRevocationPlan(trx, ctx, event, [current], `request:${actor.requestId}`);
    if (!revoked) {
      throw new Problem(409, 'certificateExpired', 'Certificate expired', `Certificate ${serial} expired on ${current.expiresOn}; there is nothing to revoke.`, { state: 'expired' });
    }
    const { reason, invalidityDate } = revoked;
    await appendAudit(trx, { at: now, keyId: actor.keyId, action: 'certificate.revoked', resource: `certificates/${serial}`, requestId: actor.requestId, detail: { reason } });
    return { status: 201, body: { serial, status: 'revoked' as const, revocation: { reason, revokedAt: now.toISOString(), invalidityDate } } };
  });
}

