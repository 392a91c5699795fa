import { randomBytes } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import type { ResidentEvent } from '../domain/revocation-plan.js';
import { cardExpiry } from '../domain/validity.js';
import { theftExemption, type FeeExemption } from '../domain/fees.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import * as cards from '../db/repositories/cards.js';
import { certificatesOfResident } from '../db/repositories/certificate-records.js';
import { findResident } from '../db/repositories/residents.js';
import { notFound, Problem } from '../problems.js';
import type { Actor, ServiceContext, Tx } from './context.js';
import { quoteFee } from './fees.js';
import { runIdempotent, type IdempotentRequest } from './idempotency.js';
import { domainPolicyFrom } from './policy.js';
import { applyRevocationPlan, type RevokedView } from './revocations.js';
import { assertNotAhead, civil, today, tokyoDate, toInstant } from './time.js';

export interface CardView {
  cardId: string;
  residentCode: string;
  issuedOn: string;
  expiresOn: string;
  status: cards.CardStatus;
}

export const cardView = (c: cards.Card): CardView => ({ cardId: c.cardId, residentCode: c.residentCode, issuedOn: c.issuedOn, expiresOn: c.expiresOn, status: c.status });

async function lockedCard(trx: Tx, cardId: string): Promise<cards.Card> {
  // Lock order everywhere: resident first, then the card, so concurrent use cases cannot deadlock.
  const locked = await cards.lockCardWithResident(trx, cardId);
  if (!locked) throw notFound('Card', `No card ${cardId}.`);
  return locked.card;
}

/** Applies a card event's row of the revocation table to the certificates on that card. */
async function reviseCardCertificates(trx: Tx, ctx: ServiceContext, card: cards.Card, event: ResidentEvent, cause: string): Promise<RevokedView[]> {
  const onCard = (await certificatesOfResident(trx, card.residentCode)).filter((c) => c.cardId === card.cardId);
  return applyRevocationPlan(trx, ctx, event, onCard, cause);
}

export async function issueCard(
  ctx: ServiceContext,
  actor: Actor,
  request: IdempotentRequest,
  residentCode: string,
  input: { officeId: string; receivedAt: string; issuedOn: string; exemption?: FeeExemption },
) {
  return runIdempotent(ctx, actor, request, async (trx) => {
    const now = ctx.clock.now();
    const resident = await findResident(trx, residentCode, true);
    if (!resident) throw notFound('Resident', `No resident ${residentCode}.`);
    if (resident.status !== 'active') throw new Problem(422, 'residentNotActive', 'Resident not active', `The resident's status is ${resident.status}.`);
    const receivedAt = new Date(input.receivedAt);
    assertNotAhead(ctx, 'receivedAt', receivedAt);
    const issuedOn = civil(input.issuedOn);
    if (Temporal.PlainDate.compare(issuedOn, today(ctx)) > 0) {
      throw new Problem(422, 'issuedOnInFuture', 'issuedOn is in the future', 'A card is recorded on or after the day it is handed over.');
    }
    if (Temporal.PlainDate.compare(tokyoDate(receivedAt), issuedOn) > 0) {
      throw new Problem(422, 'receivedAfterIssue', 'receivedAt is after issuedOn', 'The application must be received before the card is issued.');
    }

    const earlierCards = await cards.countCardsOf(trx, residentCode);
    const revoked: RevokedView[] = [];
    const abolished: string[] = [];
    for (const old of await cards.liveCardsOf(trx, residentCode)) {
      await cards.findCard(trx, old.cardId, true);
      revoked.push(...(await reviseCardCertificates(trx, ctx, old, { type: 'cardReissued', effectiveAt: toInstant(now), stolen: old.stolen }, `card:${old.cardId}:replaced`)));
      await cards.setCardStatus(trx, old.cardId, 'abolished', now);
      abolished.push(old.cardId);
    }

    if (Temporal.PlainDate.compare(issuedOn, civil(resident.dateOfBirth)) < 0 || Temporal.PlainDate.compare(tokyoDate(receivedAt), civil(resident.dateOfBirth)) < 0) {
      throw new Problem(422, 'dateBeforeBirth', 'Date before birth', `issuedOn and receivedAt cannot be before the resident's date of birth.`);
    }
    const expiresOn = cardExpiry({
      birthDate: civil(resident.dateOfBirth),
      issuedOn,
      applicationReceivedOn: tokyoDate(receivedAt),
      stayUntil: resident.stayUntil ? civil(resident.stayUntil) : undefined,
    }, domainPolicyFrom(ctx.config));
    const card: cards.Card = {
      cardId: `card_${randomBytes(8).toString('hex')}`,
      residentCode,
      issuedOn: issuedOn.toString(),
      expiresOn: expiresOn.toString(),
      status: 'active',
      stolen: false,
      officeId: input.officeId,
      receivedAt,
      statusChangedAt: now,
    };
    await cards.insertCard(trx, card);
    const fee = await quoteFee(ctx, trx, earlierCards === 0 ? 'cardIssuance' : 'cardReissue', today(ctx).toString(), input.exemption);
    await appendAudit(trx, { at: now, keyId: actor.keyId, action: 'card.issued', resource: `cards/${card.cardId}`, requestId: actor.requestId, detail: { residentCode, abolished } });
    return { status: 201, body: { card: cardView(card), fee, abolished, revoked } };
  });
}

export async function reportCardLoss(ctx: ServiceContext, actor: Actor, request: IdempotentRequest, cardId: string, input: { reportedAt: string; stolen?: boolean }) {
  return runIdempotent(ctx, actor, request, async (trx) => {
    const card = await lockedCard(trx, cardId);
    if (card.status !== 'active') throw new Problem(422, 'cardNotActive', 'Card not active', `The card is ${card.status}; only an active card can be reported lost.`, { state: card.status });
    const reportedAt = new Date(input.reportedAt);
    assertNotAhead(ctx, 'reportedAt', reportedAt);
    const now = ctx.clock.now();
    const held = await reviseCardCertificates(trx, ctx, card, { type: 'cardLost', effectiveAt: toInstant(reportedAt) }, `card:${cardId}:lost`);
    await cards.setCardStatus(trx, cardId, 'lost', now, input.stolen ?? false);
    await appendAudit(trx, { at: now, keyId: actor.keyId, action: 'card.lost', resource: `cards/${cardId}`, requestId: actor.requestId, detail: { stolen: input.stolen ?? false } });
    return { status: 201, body: { card: { ...cardView(card), status: 'lost' as const }, held } };
  });
}

export async function recoverCard(ctx: ServiceContext, actor: Actor, request: IdempotentRequest, cardId: string, input: { foundAt: string }) {
  return runIdempotent(ctx, actor, request, async (trx) => {
    const card = await lockedCard(trx, cardId);
    if (card.status !== 'lost') throw new Problem(409, 'cardNotLost', 'Card not reported lost', `The card is ${card.status}.`, { state: card.status });
    const foundAt = new Date(input.foundAt);
    assertNotAhead(ctx, 'foundAt', foundAt);
    const now = ctx.clock.now();
    const revoked = await reviseCardCertificates(trx, ctx, card, { type: 'cardFound', effectiveAt: toInstant(foundAt), stolen: card.stolen }, `card:${cardId}:found`);
    await cards.setCardStatus(trx, cardId, 'active', now);
    await appendAudit(trx, { at: now, keyId: actor.keyId, action: 'card.recovered', resource: `cards/${cardId}`, requestId: actor.requestId });
    const reissueFee = await quoteFee(ctx, trx, 'certificateReissue', today(ctx).toString(), theftExemption(card.stolen));
    return { status: 201, body: { card: { ...cardView(card), status: 'active' as const }, revoked, reissueFee } };
  });
}

export async function returnCard(ctx: ServiceContext, actor: Actor, request: IdempotentRequest, cardId: string, input: { returnedAt: string }) {
  return runIdempotent(ctx, actor, request, async (trx) => {
    const card = await lockedCard(trx, cardId);
    if (card.status === 'abolished') throw new Problem(409, 'cardAbolished', 'Card already abolished', 'The card was already returned or replaced.', { state: card.status });
    const returnedAt = new Date(input.returnedAt);
    assertNotAhead(ctx, 'returnedAt', returnedAt);
    const now = ctx.clock.now();
    const revoked = await reviseCardCertificates(trx, ctx, card, { type: 'cardReturned', effectiveAt: toInstant(returnedAt) }, `card:${cardId}:returned`);
    await cards.setCardStatus(trx, cardId, 'abolished', now);
    await appendAudit(trx, { at: now, keyId: actor.keyId, action: 'card.returned', resource: `cards/${cardId}`, requestId: actor.requestId });
    return { status: 201, body: { card: { ...cardView(card), status: 'abolished' as const }, revoked } };
  });
}
