import type { ResidentEvent } from '../domain/revocation-plan.js';
import { DomainError } from '../domain/errors.js';
import { problemFromDomainError } from '../domain-problems.js';
import { appendAuditEntries, type AuditEntry } from '../db/repositories/audit-log.js';
import { liveCardsOf, setCardStatus } from '../db/repositories/cards.js';
import { lockCertificatesOfResidents, type CertificateRecord } from '../db/repositories/certificate-records.js';
import * as repo from '../db/repositories/residents.js';
import { notFound, Problem } from '../problems.js';
import { inRetriedTransaction, type Actor, type ServiceContext, type Tx } from './context.js';
import { requestFingerprint } from './idempotency.js';
import { changeCertificateStatuses, type StatusChange } from './certificate-status.js';
import { cancelOpenInquiriesIn, residentsWithCancellableInquiries } from './inquiries.js';
import { plannedRevocations, type RevokedView } from './revocations.js';
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

export type ResidentEventOutcome = { status: 200 | 201; body: ResidentEventResult } | { problem: Problem };

function asProblem(error: unknown): Problem | undefined {
  if (error instanceof Problem) return error;
  if (error instanceof DomainError) return problemFromDomainError(error);
  return undefined;
}

const eventIdReused = (eventId: string) => new Problem(422, 'eventIdReused', 'Event id already used for another event',
  `Event ${eventId} was recorded with different content; a new event needs a new eventId.`);

/**
 * Records resident events, in order, and applies what they revoke, in the caller's transaction; an
 * answer or a refusal per event. The event id makes each exactly-once: a replay with the same body
 * answers as the first time (200) and does nothing. A refused event changes nothing; the others
 * still apply (a batch line's problem stays on its line).
 *
 * Set-wise, so that a batch chunk of hundreds costs about ten statements: the residents and their
 * certificates are locked and read first, every event is decided in memory in order (later events
 * of a resident see what earlier ones did), then the writes go out together.
 */
export async function applyResidentEventsIn(trx: Tx, ctx: ServiceContext, actor: Actor, inputs: ResidentEventInput[]): Promise<ResidentEventOutcome[]> {
  const codes = inputs.map((i) => i.residentCode);
  const residents = new Map((await repo.lockResidents(trx, codes)).map((r) => [r.residentCode, r]));
  const stored = await repo.findResidentEvents(trx, inputs.map((i) => i.eventId));
  const certificates = new Map<string, CertificateRecord[]>();
  if (inputs.some((i) => i.type !== 'registered')) {
    for (const c of await lockCertificatesOfResidents(trx, codes)) certificates.set(c.residentCode, [...(certificates.get(c.residentCode) ?? []), c]);
  }
  const withInquiries = await residentsWithCancellableInquiries(trx, ctx, codes, inputs.map((i) => i.type));

  const recorded = new Map<string, { requestHash: string; response: unknown }>(stored);
  const created = new Map<string, repo.Resident>();
  const changed = new Map<string, repo.Resident>();
  const events: repo.StoredResidentEvent[] = [];
  const statusChanges: StatusChange[] = [];
  const lapses: string[] = [];
  const cancellations: ResidentEventInput[] = [];
  const audit: AuditEntry[] = [];

  const decide = (input: ResidentEventInput): ResidentEventOutcome => {
    const requestHash = requestFingerprint('POST', '/v1/resident-events', input);
    const earlier = recorded.get(input.eventId);
    if (earlier) {
      if (earlier.requestHash !== requestHash) throw eventIdReused(input.eventId);
      return { status: 200, body: earlier.response as ResidentEventResult };
    }
    const effectiveAt = new Date(input.effectiveAt);
    const receivedAt = ctx.clock.now();
    assertNotAhead(ctx, 'effectiveAt', effectiveAt);
    if (!ctx.config.residentCodePattern.test(input.residentCode)) {
      throw new Problem(422, 'invalidResidentCode', 'Invalid resident code', `The resident code does not match the ward's format (RESIDENT_CODE_PATTERN).`);
    }
    let resident = residents.get(input.residentCode);
    let revoked: RevokedView[] = [];
    if (input.type === 'registered') {
      if (resident) throw new Problem(409, 'residentAlreadyRegistered', 'Resident already registered', `Resident ${input.residentCode} exists; send change events instead.`);
      resident = registeredResident(input, receivedAt);
      created.set(resident.residentCode, resident);
    } else {
      if (!resident) throw notFound('Resident', `No resident ${input.residentCode}; register them first.`);
      if (resident.status === 'deceased') throw new Problem(409, 'residentDeceased', 'Resident deceased', 'No further events are accepted for a deceased resident.');
      const { next, event, cardsLapse } = applyFacts(resident, input);
      const held = certificates.get(input.residentCode) ?? [];
      const plan = event ? plannedRevocations(ctx, { type: event, effectiveAt: toInstant(effectiveAt) } as ResidentEvent, held, `event:${input.eventId}`) : undefined;
      // Decided: from here on nothing throws, and the event's effects join the chunk's.
      resident = { ...next, updatedAt: receivedAt };
      (created.has(resident.residentCode) ? created : changed).set(resident.residentCode, resident);
      if (plan) {
        statusChanges.push(...plan.changes);
        revoked = plan.revoked;
        const after = new Map(plan.changes.map((c) => [c.serial, c]));
        certificates.set(input.residentCode, held.map((c) => {
          const change = after.get(c.serial);
          return change ? { ...c, status: change.status, revocationReason: change.reason, revokedAt: receivedAt, invalidityDate: change.effectiveAt } : c;
        }));
      }
      if (cardsLapse) lapses.push(input.residentCode);
      // Issue 8 (policy INQUIRY_CANCEL_ON_RESIDENT_CHANGE): a move or death cancels the open inquiry-letter cases.
      if (withInquiries.has(input.residentCode)) cancellations.push(input);
    }
    residents.set(resident.residentCode, resident);
    const body: ResidentEventResult = {
      eventId: input.eventId, residentCode: input.residentCode, type: input.type,
      effectiveAt: effectiveAt.toISOString(), receivedAt: receivedAt.toISOString(), revoked,
    };
    recorded.set(input.eventId, { requestHash, response: body });
    events.push({ eventId: input.eventId, residentCode: input.residentCode, type: input.type, effectiveAt, receivedAt, data: input.data, requestHash, response: body });
    audit.push({
      at: receivedAt, keyId: actor.keyId, action: `resident.${input.type}`, resource: `residents/${input.residentCode}`,
      requestId: actor.requestId, detail: { eventId: input.eventId, revoked: revoked.map((r) => r.serial) },
    });
    return { status: 201, body };
  };

  const outcomes = inputs.map((input): ResidentEventOutcome => {
    try {
      return decide(input);
    } catch (error) {
      const problem = asProblem(error);
      if (!problem) throw error;
      return { problem };
    }
  });

  // Both sequences share the transaction's connection (statements queue there); started together so
  // that the OCSP signing inside the status changes overlaps the resident writes.
  await Promise.all([
    changeCertificateStatuses(trx, ctx, statusChanges),
    (async () => {
      await repo.insertResidentEvents(trx, events);
      await repo.insertResidents(trx, [...created.values()]);
      await repo.updateResidents(trx, [...changed.values()]);
    })(),
  ]);
  for (const residentCode of lapses) {
    for (const card of await liveCardsOf(trx, residentCode)) await setCardStatus(trx, card.cardId, 'abolished', ctx.clock.now());
  }
  for (const input of cancellations) await cancelOpenInquiriesIn(trx, ctx, actor, input.residentCode, input.type, input.eventId);
  await appendAuditEntries(trx, audit);
  return outcomes;
}

function registeredResident(input: ResidentEventInput, receivedAt: Date): repo.Resident {
  const d = input.data;
  return {
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
}

/** One event in its own transaction (POST /v1/resident-events). */
export async function applyResidentEvent(ctx: ServiceContext, actor: Actor, input: ResidentEventInput): Promise<{ status: 200 | 201; body: ResidentEventResult }> {
  const [outcome] = await inRetriedTransaction(ctx, (trx) => applyResidentEventsIn(trx, ctx, actor, [input]));
  if (!outcome || 'problem' in outcome) throw outcome?.problem ?? new Error('no outcome');
  return outcome;
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
