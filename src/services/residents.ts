import type { ResidentEvent } from '../domain/revocation-plan.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import { liveCardsOf, setCardStatus } from '../db/repositories/cards.js';
import { certificatesOfResident } from '../db/repositories/certificate-records.js';
import * as repo from '../db/repositories/residents.js';
import { notFound, Problem } from '../problems.js';
import { inTransaction, type Actor, type ServiceContext, type Tx } from './context.js';
import { requestFingerprint } from './idempotency.js';
import { cancelOpenInquiriesIn } from './inquiries.js';
import { applyRevocationPlan, type RevokedView } from './revocations.js';
import { assertNotAhead, toInstant } from './time.js';

export const RESIDENT_EVENT_TYPES = [
  'registered', 'nameChanged', 'addressChanged', 'dateOfBirthCorrected', 'sexChanged', 'aliasChanged',
  'guardianshipStarted', 'guardianshipEnded', 'movedOutAbroad', 'stayPeriodChanged', 'died',
] as const;
export type ResidentEventType = (typeof RESIDENT_EVENT_TYPES)[number];

export interface ResidentEventInput {
  eventId: string;
  residentCode: string;
  type: ResidentEventType;
  effectiveAt: string;
  data: Record<string, unknown>;
}

export interface ResidentEventResult {
  eventId: string;
  residentCode: string;
  type: ResidentEventType;
  effectiveAt: string;
  receivedAt: string;
  revoked: RevokedView[];
}

export interface ResidentView {
  residentCode: string;
  name: string;
  alias: string | null;
  address: string;
  dateOfBirth: string;
  sex: repo.Sex;
  adultWard: boolean;
  stayUntil: string | null;
  status: repo.ResidentStatus;
  residence: repo.Residence;
  registeredAt: string;
  updatedAt: string;
}

export function residentView(r: repo.Resident): ResidentView {
  return { ...r, registeredAt: r.registeredAt.toISOString(), updatedAt: r.updatedAt.toISOString() };
}

/** What the event does to the resident's facts, and the revocation-table row it triggers (if any). */
function applyFacts(resident: repo.Resident, input: ResidentEventInput): { next: repo.Resident; event?: ResidentEvent['type']; cardsLapse?: boolean } {
  const d = input.data;
  const next = { ...resident };
  switch (input.type) {
    case 'registered':
      return { next };
    case 'nameChanged':
      return { next: { ...next, name: d.name as string }, event: 'nameChanged' };
    case 'addressChanged':
      return { next: { ...next, address: d.address as string }, event: 'addressChanged' };
    case 'dateOfBirthCorrected':
      return { next: { ...next, dateOfBirth: d.dateOfBirth as string }, event: 'dateOfBirthChanged' };
    case 'sexChanged':
      return { next: { ...next, sex: d.sex as repo.Sex }, event: 'sexChanged' };
    case 'aliasChanged':
      return { next: { ...next, alias: (d.alias as string | null) ?? null }, event: 'aliasChanged' };
    case 'guardianshipStarted':
      return { next: { ...next, adultWard: true }, event: 'guardianshipStarted' };
    case 'guardianshipEnded':
      return { next: { ...next, adultWard: false } };
    case 'stayPeriodChanged':
      return { next: { ...next, stayUntil: d.stayUntil as string } };
    case 'movedOutAbroad':
      return d.continuedUse
        ? { next: { ...next, status: 'movedOutAbroad', residence: 'abroadWithContinuedUse' }, event: 'movedAbroadWithContinuedUse' }
        : { next: { ...next, status: 'movedOutAbroad' }, event: 'movedAbroad', cardsLapse: true };
    case 'died':
      return { next: { ...next, status: 'deceased' }, event: 'death', cardsLapse: true };
  }
}

/**
 * Records a resident event and applies what it revokes, in the caller's transaction. The event id
 * makes it exactly-once: a replay with the same body returns the first answer (200) and does nothing.
 */
export async function applyResidentEventIn(trx: Tx, ctx: ServiceContext, actor: Actor, input: ResidentEventInput): Promise<{ status: 200 | 201; body: ResidentEventResult }> {
  const effectiveAt = new Date(input.effectiveAt);
  const receivedAt = ctx.clock.now();
  const requestHash = requestFingerprint('POST', '/v1/resident-events', input);
  const earlier = await repo.claimResidentEvent(trx, {
    eventId: input.eventId, residentCode: input.residentCode, type: input.type, effectiveAt, receivedAt, data: input.data, requestHash,
  });
  if (earlier) {
    if (earlier.requestHash !== requestHash) {
      throw new Problem(422, 'eventIdReused', 'Event id already used for another event',
        `Event ${input.eventId} was recorded with different content; a new event needs a new eventId.`);
    }
    return { status: 200, body: earlier.response as ResidentEventResult };
  }
  assertNotAhead(ctx, 'effectiveAt', effectiveAt);
  if (!ctx.config.residentCodePattern.test(input.residentCode)) {
    throw new Problem(422, 'invalidResidentCode', 'Invalid resident code', `The resident code does not match the ward's format (RESIDENT_CODE_PATTERN).`);
  }

  let resident = await repo.findResident(trx, input.residentCode, true);
  if (input.type === 'registered') {
    if (resident) throw new Problem(409, 'residentAlreadyRegistered', 'Resident already registered', `Resident ${input.residentCode} exists; send change events instead.`);
    const d = input.data;
    resident = {
      residentCode: input.residentCode,
      name: d.name as string,
      alias: (d.alias as string | undefined) ?? null,
      address: d.address as string,
      dateOfBirth: d.dateOfBirth as string,
      sex: d.sex as repo.Sex,
      adultWard: (d.adultWard as boolean | undefined) ?? false,
      stayUntil: (d.stayUntil as string | undefined) ?? null,
      status: 'active',
      residence: 'domestic',
      registeredAt: receivedAt,
      updatedAt: receivedAt,
    };
    await repo.insertResident(trx, resident);
  } else {
    if (!resident) throw notFound('Resident', `No resident ${input.residentCode}; register them first.`);
    if (resident.status === 'deceased') throw new Problem(409, 'residentDeceased', 'Resident deceased', 'No further events are accepted for a deceased resident.');
  }

  const { next, event, cardsLapse } = applyFacts(resident, input);
  let revoked: RevokedView[] = [];
  if (input.type !== 'registered') {
    await repo.updateResident(trx, { ...next, updatedAt: receivedAt });
    if (event) {
      const held = await certificatesOfResident(trx, input.residentCode);
      revoked = await applyRevocationPlan(trx, ctx, { type: event, effectiveAt: toInstant(effectiveAt) } as ResidentEvent, held, `event:${input.eventId}`);
    }
    if (cardsLapse) {
      for (const card of await liveCardsOf(trx, input.residentCode)) await setCardStatus(trx, card.cardId, 'abolished', receivedAt);
    }
    // Issue 8 (policy INQUIRY_CANCEL_ON_RESIDENT_CHANGE): a move or death cancels the open inquiry-letter cases.
    await cancelOpenInquiriesIn(trx, ctx, actor, input.residentCode, input.type, input.eventId);
  }

  const body: ResidentEventResult = {
    eventId: input.eventId,
    residentCode: input.residentCode,
    type: input.type,
    effectiveAt: effectiveAt.toISOString(),
    receivedAt: receivedAt.toISOString(),
    revoked,
  };
  await repo.storeResidentEventResponse(trx, input.eventId, body);
  await appendAudit(trx, {
    at: receivedAt, keyId: actor.keyId, action: `resident.${input.type}`, resource: `residents/${input.residentCode}`,
    requestId: actor.requestId, detail: { eventId: input.eventId, revoked: revoked.map((r) => r.serial) },
  });
  return { status: 201, body };
}

export async function applyResidentEvent(ctx: ServiceContext, actor: Actor, input: ResidentEventInput) {
  return inTransaction(ctx, (trx) => applyResidentEventIn(trx, ctx, actor, input));
}

export async function getResident(ctx: ServiceContext, residentCode: string): Promise<ResidentView> {
  const r = await repo.findResident(ctx.db, residentCode);
  if (!r) throw notFound('Resident', `No resident ${residentCode}.`);
  return residentView(r);
}

export async function listResidentEvents(ctx: ServiceContext, residentCode: string, after: { receivedAt: string; eventId: string } | undefined, limit: number) {
  if (!(await repo.findResident(ctx.db, residentCode))) throw notFound('Resident', `No resident ${residentCode}.`);
  const rows = await repo.listResidentEvents(ctx.db, residentCode, after, limit);
  return rows.map((e) => ({ eventId: e.eventId, type: e.type, effectiveAt: e.effectiveAt.toISOString(), receivedAt: e.receivedAt.toISOString(), result: e.response as ResidentEventResult }));
}
