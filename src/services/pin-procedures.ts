import { randomBytes } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import type { PinKind } from '../domain/pin-policy.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import * as cards from '../db/repositories/cards.js';
import { insertPinProcedure } from '../db/repositories/inquiries.js';
import { notFound, Problem } from '../problems.js';
import { assertCounterOpen } from './calendar.js';
import type { Actor, ServiceContext } from './context.js';
import { quoteFee, type FeeQuoteView } from './fees.js';
import { runIdempotent, type IdempotentRequest } from './idempotency.js';
import { consumeInquiryIn, lockUsableInquiry } from './inquiries.js';
import { domainPolicyFrom } from './policy.js';
import { assertNearNow, civil, today } from './time.js';

export type PinProcedureKind = 'pinReset' | 'pinChange';

export interface PinProcedureInput {
  pinKind: PinKind;
  officeId: string;
  receivedAt: string;
  applicant: { type: 'self' | 'legalRepresentative' | 'agent'; inquiryId?: string | undefined };
  identityDocument?: string | undefined;
}

export interface PinProcedureView {
  procedureId: string;
  procedure: PinProcedureKind;
  cardId: string;
  residentCode: string;
  pinKind: PinKind;
  officeId: string;
  receivedAt: string;
  applicant: { type: 'self' | 'legalRepresentative' | 'agent'; inquiryId: string | null };
  identityDocument: string | null;
  fee: FeeQuoteView;
  recordedAt: string;
}

/**
 * A PIN reset (ロック解除・再設定) or change done at a counter, recorded without any PIN: staff enter
 * the PIN on the card itself. A reset in person needs an identity document; an agent needs a
 * completed case of the same purpose, used up here. Fee from the schedule (0 today).
 */
export async function recordPinProcedure(
  ctx: ServiceContext,
  actor: Actor,
  request: IdempotentRequest,
  cardId: string,
  procedure: PinProcedureKind,
  input: PinProcedureInput,
) {
  return runIdempotent<PinProcedureView>(ctx, actor, request, async (trx) => {
    const now = ctx.clock.now();
    const locked = await cards.lockCardWithResident(trx, cardId);
    if (!locked) throw notFound('Card', `No card ${cardId}.`);
    const { resident, card } = locked;
    const receivedAt = new Date(input.receivedAt);
    assertNearNow(ctx, 'receivedAt', receivedAt);
    await assertCounterOpen(ctx, trx, domainPolicyFrom(ctx.config), input.officeId, receivedAt);
    if (card.status !== 'active' || Temporal.PlainDate.compare(civil(card.expiresOn), today(ctx)) < 0) {
      throw new Problem(422, 'cardNotActive', 'Card not active', `The card is ${card.status === 'active' ? 'expired' : card.status}.`, { cardStatus: card.status });
    }
    if (resident.status === 'deceased') throw new Problem(422, 'residentNotActive', 'Resident not active', "The resident's status is deceased.");

    const { type, inquiryId } = input.applicant;
    if (type === 'agent' && !inquiryId) {
      throw new Problem(422, 'agentNeedsCompletedInquiry', 'An agent needs a completed inquiry case',
        `An agent applies with \`applicant.inquiryId\` of a completed ${procedure} inquiry-letter case.`);
    }
    if (type === 'self' && inquiryId) {
      throw new Problem(422, 'inquiryIdNotExpected', 'The holder applies without an inquiry case', 'applicant.inquiryId is for agents and legal representatives.');
    }
    if (procedure === 'pinReset' && !inquiryId && !input.identityDocument) {
      throw new Problem(422, 'identityDocumentRequired', 'An identity document is needed',
        'A PIN reset in person needs an identity document (driving licence, health insurance card, …) in identityDocument.');
    }
    const inquiry = inquiryId
      ? await lockUsableInquiry(trx, ctx, { inquiryId, residentCode: resident.residentCode, purpose: procedure, agentKind: type === 'agent' ? 'voluntary' : 'legalRepresentative' })
      : null;

    const fee = await quoteFee(ctx, trx, procedure, today(ctx));
    const procedureId = `pin_${randomBytes(8).toString('hex')}`;
    await insertPinProcedure(trx, {
      procedureId, cardId, residentCode: resident.residentCode, procedure, pinKind: input.pinKind, officeId: input.officeId, receivedAt,
      applicantType: type, inquiryId: inquiryId ?? null, identityDocument: input.identityDocument ?? null, feeTotal: fee.total,
      recordedAt: now, keyId: actor.keyId, requestId: actor.requestId,
    });
    if (inquiry) await consumeInquiryIn(trx, ctx, actor, inquiry, `pinProcedures/${procedureId}`);
    await appendAudit(trx, {
      at: now, keyId: actor.keyId, action: `card.${procedure}`, resource: `cards/${cardId}`, requestId: actor.requestId,
      detail: { procedureId, pinKind: input.pinKind, applicant: type, inquiryId: inquiryId ?? null, fee: fee.total },
    });
    return {
      status: 201,
      body: {
        procedureId, procedure, cardId, residentCode: resident.residentCode, pinKind: input.pinKind, officeId: input.officeId,
        receivedAt: receivedAt.toISOString(), applicant: { type, inquiryId: inquiryId ?? null }, identityDocument: input.identityDocument ?? null,
        fee, recordedAt: now.toISOString(),
      },
    };
  });
}
