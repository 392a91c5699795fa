import { sql, type Kysely } from 'kysely';
import type { AgentKind, InquiryAction, InquiryPath, InquiryPurpose, InquiryState, VisitOutcome } from '../../domain/inquiry-workflow.js';
import type { Database } from '../schema.js';

export interface Inquiry {
  inquiryId: string;
  seq: string;
  residentCode: string;
  purpose: InquiryPurpose;
  path: InquiryPath;
  agent: { kind: AgentKind; name: string; identityDocument: string; authorityDocument: string | null };
  officeId: string;
  openedAt: Date;
  state: InquiryState;
  mailedOn: string | null;
  periodEndsOn: string | null;
  dueOn: string | null;
  registeredAddress: string | null;
  visitCount: number;
  lastVisitOutcome: VisitOutcome | null;
  version: number;
  consumedBy: string | null;
  consumedAt: Date | null;
  closedReason: string | null;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

function toInquiry(r: {
  inquiry_id: string; seq: string; resident_code: string; purpose: string; path: string; agent_kind: string; agent_name: string;
  agent_identity_document: string; agent_authority_document: string | null; office_id: string; opened_at: Date; state: string;
  mailed_on: string | null; period_ends_on: string | null; due_on: string | null; registered_address: string | null;
  visit_count: number; last_visit_outcome: string | null; version: number; consumed_by: string | null; consumed_at: Date | null;
  closed_reason: string | null; closed_at: Date | null; created_at: Date; updated_at: Date;
}): Inquiry {
  return {
    inquiryId: r.inquiry_id,
    seq: String(r.seq),
    residentCode: r.resident_code,
    purpose: r.purpose as InquiryPurpose,
    path: r.path as InquiryPath,
    agent: { kind: r.agent_kind as AgentKind, name: r.agent_name, identityDocument: r.agent_identity_document, authorityDocument: r.agent_authority_document },
    officeId: r.office_id,
    openedAt: r.opened_at,
    state: r.state as InquiryState,
    mailedOn: r.mailed_on,
    periodEndsOn: r.period_ends_on,
    dueOn: r.due_on,
    registeredAddress: r.registered_address,
    visitCount: r.visit_count,
    lastVisitOutcome: r.last_visit_outcome as VisitOutcome | null,
    version: r.version,
    consumedBy: r.consumed_by,
    consumedAt: r.consumed_at,
    closedReason: r.closed_reason,
    closedAt: r.closed_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export type NewInquiry = Omit<Inquiry, 'seq' | 'version' | 'visitCount' | 'lastVisitOutcome' | 'consumedBy' | 'consumedAt' | 'closedReason' | 'closedAt' | 'mailedOn' | 'periodEndsOn' | 'dueOn' | 'registeredAddress'>;

export async function insertInquiry(db: Kysely<Database>, i: NewInquiry): Promise<Inquiry> {
  const row = await db
    .insertInto('inquiries')
    .values({
      inquiry_id: i.inquiryId,
      resident_code: i.residentCode,
      purpose: i.purpose,
      path: i.path,
      agent_kind: i.agent.kind,
      agent_name: i.agent.name,
      agent_identity_document: i.agent.identityDocument,
      agent_authority_document: i.agent.authorityDocument,
      office_id: i.officeId,
      opened_at: i.openedAt,
      state: i.state,
      mailed_on: null,
      period_ends_on: null,
      due_on: null,
      registered_address: null,
      last_visit_outcome: null,
      consumed_by: null,
      consumed_at: null,
      closed_reason: null,
      closed_at: null,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toInquiry(row);
}

/** With `lock`, the row is held until the transaction ends (lock the resident first). */
export async function findInquiry(db: Kysely<Database>, inquiryId: string, lock = false): Promise<Inquiry | undefined> {
  let q = db.selectFrom('inquiries').selectAll().where('inquiry_id', '=', inquiryId);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && toInquiry(row);
}

export interface InquiryChange {
  state: InquiryState;
  updatedAt: Date;
  mailedOn?: string;
  periodEndsOn?: string;
  dueOn?: string;
  registeredAddress?: string;
  visitCount?: number;
  lastVisitOutcome?: VisitOutcome;
  consumedBy?: string;
  consumedAt?: Date;
  closedReason?: string;
  closedAt?: Date;
}

/** Applies a change and bumps the version, only if the version is still `expectedVersion`. */
export async function updateInquiry(db: Kysely<Database>, inquiryId: string, expectedVersion: number, c: InquiryChange): Promise<Inquiry | undefined> {
  const row = await db
    .updateTable('inquiries')
    .set((eb) => ({
      state: c.state,
      updated_at: c.updatedAt,
      version: eb('version', '+', 1),
      ...(c.mailedOn !== undefined ? { mailed_on: c.mailedOn } : {}),
      ...(c.periodEndsOn !== undefined ? { period_ends_on: c.periodEndsOn } : {}),
      ...(c.dueOn !== undefined ? { due_on: c.dueOn } : {}),
      ...(c.registeredAddress !== undefined ? { registered_address: c.registeredAddress } : {}),
      ...(c.visitCount !== undefined ? { visit_count: c.visitCount } : {}),
      ...(c.lastVisitOutcome !== undefined ? { last_visit_outcome: c.lastVisitOutcome } : {}),
      ...(c.consumedBy !== undefined ? { consumed_by: c.consumedBy } : {}),
      ...(c.consumedAt !== undefined ? { consumed_at: c.consumedAt } : {}),
      ...(c.closedReason !== undefined ? { closed_reason: c.closedReason } : {}),
      ...(c.closedAt !== undefined ? { closed_at: c.closedAt } : {}),
    }))
    .where('inquiry_id', '=', inquiryId)
    .where('version', '=', expectedVersion)
    .returningAll()
    .executeTakeFirst();
  return row && toInquiry(row);
}

export interface InquiryEvent {
  id: string;
  inquiryId: string;
  at: Date;
  action: InquiryAction;
  fromState: InquiryState | null;
  toState: InquiryState;
  outcome: VisitOutcome | null;
  keyId: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

export async function appendInquiryEvent(db: Kysely<Database>, e: Omit<InquiryEvent, 'id'>): Promise<void> {
  await db
    .insertInto('inquiry_events')
    .values({
      inquiry_id: e.inquiryId,
      at: e.at,
      action: e.action,
      from_state: e.fromState,
      to_state: e.toState,
      outcome: e.outcome,
      key_id: e.keyId,
      request_id: e.requestId,
      details: JSON.stringify(e.details),
    })
    .execute();
}

export async function listInquiryEvents(db: Kysely<Database>, inquiryId: string): Promise<InquiryEvent[]> {
  const rows = await db.selectFrom('inquiry_events').selectAll().where('inquiry_id', '=', inquiryId).orderBy('id').execute();
  return rows.map((r) => ({
    id: String(r.id),
    inquiryId: r.inquiry_id,
    at: r.at,
    action: r.action as InquiryAction,
    fromState: r.from_state as InquiryState | null,
    toState: r.to_state as InquiryState,
    outcome: r.outcome as VisitOutcome | null,
    keyId: r.key_id,
    requestId: r.request_id,
    details: r.details,
  }));
}

/** The case's latest visit (by its `visitedAt`) with one of these outcomes, or null. */
export async function lastVisitWith(db: Kysely<Database>, inquiryId: string, outcomes: readonly VisitOutcome[]): Promise<{ visitedAt: Date; outcome: VisitOutcome } | null> {
  const visitedAt = sql<Date | string>`(details->>'visitedAt')::timestamptz`;
  const row = await db
    .selectFrom('inquiry_events')
    .select(['outcome', visitedAt.as('visited_at')])
    .where('inquiry_id', '=', inquiryId)
    .where('action', '=', 'visit')
    .where('outcome', 'in', [...outcomes])
    .orderBy(visitedAt, 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { visitedAt: new Date(row.visited_at), outcome: row.outcome as VisitOutcome } : null;
}

export interface InquiryQuery {
  state?: InquiryState;
  residentCode?: string;
  /** due_on strictly before this date. */
  dueBefore?: string;
  afterSeq?: string;
  limit: number;
}

export async function listInquiries(db: Kysely<Database>, q: InquiryQuery): Promise<Inquiry[]> {
  let query = db.selectFrom('inquiries').selectAll().orderBy('seq').limit(q.limit);
  if (q.state) query = query.where('state', '=', q.state);
  if (q.residentCode) query = query.where('resident_code', '=', q.residentCode);
  if (q.dueBefore) query = query.where('due_on', '<', q.dueBefore);
  if (q.afterSeq) query = query.where('seq', '>', q.afterSeq);
  return (await query.execute()).map(toInquiry);
}

/** Which of these residents have a case in one of these states. */
export async function residentsWithInquiries(db: Kysely<Database>, residentCodes: string[], states: readonly InquiryState[]): Promise<Set<string>> {
  if (residentCodes.length === 0) return new Set();
  const rows = await db.selectFrom('inquiries').select('resident_code').distinct().where('resident_code', 'in', [...new Set(residentCodes)]).where('state', 'in', [...states]).execute();
  return new Set(rows.map((r) => r.resident_code));
}

/** A resident's cases in `states`, locked in `seq` order (the caller holds the resident's row). */
export async function inquiriesOfResident(db: Kysely<Database>, residentCode: string, states: readonly InquiryState[]): Promise<Inquiry[]> {
  const rows = await db
    .selectFrom('inquiries')
    .selectAll()
    .where('resident_code', '=', residentCode)
    .where('state', 'in', [...states])
    .orderBy('seq')
    .forUpdate()
    .execute();
  return rows.map(toInquiry);
}

/** The residents with a case in `states` whose due date is before `date`, in code order (nothing locked). */
export async function residentsWithInquiriesDueBefore(db: Kysely<Database>, date: string, states: readonly InquiryState[]): Promise<string[]> {
  const rows = await db
    .selectFrom('inquiries')
    .select('resident_code')
    .distinct()
    .where('state', 'in', [...states])
    .where('due_on', '<', date)
    .orderBy('resident_code')
    .execute();
  return rows.map((r) => r.resident_code);
}

/**
 * These residents' cases in `states` whose due date is before `date`, locked in `seq` order, as
 * inquiriesOfResident locks them: the caller holds the residents' rows first.
 */
export async function inquiriesDueBefore(db: Kysely<Database>, date: string, states: readonly InquiryState[], residentCodes: readonly string[]): Promise<Inquiry[]> {
  if (residentCodes.length === 0) return [];
  const rows = await db
    .selectFrom('inquiries')
    .selectAll()
    .where('resident_code', 'in', [...residentCodes])
    .where('state', 'in', [...states])
    .where('due_on', '<', date)
    .orderBy('seq')
    .forUpdate()
    .execute();
  return rows.map(toInquiry);
}

export interface PinProcedure {
  procedureId: string;
  cardId: string;
  residentCode: string;
  procedure: 'pinReset' | 'pinChange';
  pinKind: string;
  officeId: string;
  receivedAt: Date;
  applicantType: string;
  inquiryId: string | null;
  identityDocument: string | null;
  feeTotal: number;
  recordedAt: Date;
  keyId: string | null;
  requestId: string | null;
}

export async function insertPinProcedure(db: Kysely<Database>, p: PinProcedure): Promise<void> {
  await db
    .insertInto('pin_procedures')
    .values({
      procedure_id: p.procedureId,
      card_id: p.cardId,
      resident_code: p.residentCode,
      procedure: p.procedure,
      pin_kind: p.pinKind,
      office_id: p.officeId,
      received_at: p.receivedAt,
      applicant_type: p.applicantType,
      inquiry_id: p.inquiryId,
      identity_document: p.identityDocument,
      fee_total: p.feeTotal,
      recorded_at: p.recordedAt,
      key_id: p.keyId,
      request_id: p.requestId,
    })
    .execute();
}
