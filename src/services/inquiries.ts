import { randomBytes } from 'node:crypto';
import { Temporal } from 'temporal-polyfill';
import {
  FAILED_VISIT_OUTCOMES,
  INQUIRY_PATHS_BY_PURPOSE,
  INQUIRY_TRANSITIONS,
  OPEN_INQUIRY_STATES,
  agentRefusals,
  allowedInquiryActions,
  comeAgainFrom,
  dueDateEndedBy,
  initialInquiryState,
  nextInquiryState,
  visitOutcome,
  type AgentKind,
  type InquiryAction,
  type InquiryPath,
  type InquiryPurpose,
  type InquiryState,
  type VisitOutcome,
} from '../domain/inquiry-workflow.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import * as repo from '../db/repositories/inquiries.js';
import { findResident, lockResidents, type Resident } from '../db/repositories/residents.js';
import type { PlainDate } from '../domain/dates.js';
import { notFound, Problem } from '../problems.js';
import { assertCounterOpen, inquiryDueOn } from './calendar.js';
import { inRetriedTransaction, inTransaction, type Actor, type ServiceContext, type Tx } from './context.js';
import { runIdempotent, type IdempotentRequest } from './idempotency.js';
import { domainPolicyFrom } from './policy.js';
import { assertNearNow, civil, toInstant, today, tokyoDate } from './time.js';

export interface InquiryView {
  inquiryId: string;
  residentCode: string;
  purpose: InquiryPurpose;
  path: InquiryPath;
  agent: { kind: AgentKind; name: string; identityDocument: string; authorityDocument: string | null };
  officeId: string;
  openedAt: string;
  state: InquiryState;
  allowedActions: InquiryAction[];
  mailedOn: string | null;
  periodEndsOn: string | null;
  dueOn: string | null;
  registeredAddress: string | null;
  visitCount: number;
  lastVisitOutcome: VisitOutcome | null;
  consumedBy: string | null;
  consumedAt: string | null;
  closedReason: string | null;
  closedAt: string | null;
  version: number;
}

export interface InquiryEventView {
  id: string;
  at: string;
  action: InquiryAction;
  fromState: InquiryState | null;
  toState: InquiryState;
  outcome: VisitOutcome | null;
  actor: { keyId: string | null; requestId: string | null };
  details: Record<string, unknown>;
}

/** Strong ETag of a case version. */
export const inquiryEtag = (version: number): string => `"v${version}"`;

export function inquiryView(i: repo.Inquiry): InquiryView {
  return {
    inquiryId: i.inquiryId,
    residentCode: i.residentCode,
    purpose: i.purpose,
    path: i.path,
    agent: { ...i.agent },
    officeId: i.officeId,
    openedAt: i.openedAt.toISOString(),
    state: i.state,
    allowedActions: allowedInquiryActions(i.state),
    mailedOn: i.mailedOn,
    periodEndsOn: i.periodEndsOn,
    dueOn: i.dueOn,
    registeredAddress: i.registeredAddress,
    visitCount: i.visitCount,
    lastVisitOutcome: i.lastVisitOutcome,
    consumedBy: i.consumedBy,
    consumedAt: i.consumedAt?.toISOString() ?? null,
    closedReason: i.closedReason,
    closedAt: i.closedAt?.toISOString() ?? null,
    version: i.version,
  };
}

const inquiryNotFound = (inquiryId: string) => notFound('Inquiry', `No inquiry case ${inquiryId}.`);

function actionNotAllowed(i: repo.Inquiry, action: InquiryAction): Problem {
  const allowed = allowedInquiryActions(i.state);
  return new Problem(409, 'inquiryActionNotAllowed', 'The case does not allow this action in its state',
    `The case is ${i.state}; ${action} is not allowed. Allowed: ${allowed.length ? allowed.join(', ') : 'none (the case is closed)'}.`,
    { state: i.state, action, allowedActions: allowed });
}

/**
 * If-Match (RFC 9110 13.1.1, strong comparison): every change names the version it was based on.
 * Missing: 428. Not the current ETag (or `*`, which would defeat the check): 412.
 */
function assertIfMatch(i: repo.Inquiry, ifMatch: string | undefined): void {
  const current = inquiryEtag(i.version);
  if (ifMatch === undefined || ifMatch.trim() === '') {
    throw new Problem(428, 'ifMatchRequired', 'If-Match required',
      'Every change to an inquiry case needs If-Match with the ETag from GET /v1/inquiries/{id}.', {}, { ETag: current });
  }
  const tags = ifMatch.split(',').map((t) => t.trim());
  if (!tags.includes(current)) {
    throw new Problem(412, 'etagMismatch', 'The case has changed',
      'If-Match does not name the current version of the case; read it again and decide on what it says now.', {}, { ETag: current });
  }
}

/**
 * Not completed that day (DOMAIN.md "Proxy procedures"): the case's last visit failed on this Japan
 * date, so it takes no further visit until `from`. Nothing is recorded; the answer says when the
 * agent may come again, and whether the due date still allows it.
 */
function comeAgainLater(i: repo.Inquiry, last: { visitedAt: Date; outcome: VisitOutcome }, from: PlainDate): Problem {
  const failedOn = tokyoDate(last.visitedAt).toString();
  const tooLate = i.dueOn !== null && Temporal.PlainDate.compare(from, civil(i.dueOn)) > 0;
  const until = i.dueOn === null ? '' : tooLate
    ? `; but the case is due on ${i.dueOn}, so it will expire and a new case is needed`
    : `, up to the due date ${i.dueOn}`;
  return new Problem(409, 'inquiryComeAgainLater', 'Not completed that day: the agent must come again another day',
    `A visit on ${failedOn} (Japan time) was not completed (${last.outcome}), so the procedure is not completed that day and the case `
    + `takes no further visit on it. The agent may come again from ${from.toString()}${until}. Nothing was recorded.`,
    {
      inquiryId: i.inquiryId, state: i.state, allowedActions: allowedInquiryActions(i.state), comeAgainFrom: from.toString(),
      lastFailedVisit: { visitedAt: last.visitedAt.toISOString(), outcome: last.outcome }, dueOn: i.dueOn,
    });
}

/** Lock order everywhere: the resident first, then the case (several: residents in code order, then cases in seq order). */
async function lockCase(trx: Tx, inquiryId: string): Promise<{ inquiry: repo.Inquiry; resident: Resident }> {
  const found = await repo.findInquiry(trx, inquiryId);
  if (!found) throw inquiryNotFound(inquiryId);
  const resident = (await findResident(trx, found.residentCode, true))!;
  return { inquiry: (await repo.findInquiry(trx, inquiryId, true))!, resident };
}

type Change = Omit<repo.InquiryChange, 'state' | 'updatedAt'>;

/** Applies one row of the transition table, with its history entry and audit row. */
async function transition(
  trx: Tx,
  ctx: ServiceContext,
  actor: Actor,
  current: repo.Inquiry,
  action: InquiryAction,
  change: Change,
  extra: { outcome?: VisitOutcome; details?: Record<string, unknown> } = {},
): Promise<repo.Inquiry> {
  const to = nextInquiryState(current.state, action, extra.outcome);
  if (!to) throw actionNotAllowed(current, action);
  const now = ctx.clock.now();
  const updated = await repo.updateInquiry(trx, current.inquiryId, current.version, { ...change, state: to, updatedAt: now });
  if (!updated) throw new Error('inquiry changed while locked');
  const details = extra.details ?? {};
  await repo.appendInquiryEvent(trx, {
    inquiryId: current.inquiryId, at: now, action, fromState: current.state, toState: to, outcome: extra.outcome ?? null,
    keyId: actor.keyId, requestId: actor.requestId, details,
  });
  await appendAudit(trx, {
    at: now, keyId: actor.keyId, action: `inquiry.${action}`, resource: `inquiries/${current.inquiryId}`, requestId: actor.requestId,
    detail: { from: current.state, to, ...(extra.outcome ? { outcome: extra.outcome } : {}), ...details },
  });
  return updated;
}

export interface OpenInquiryInput {
  residentCode: string;
  purpose: InquiryPurpose;
  path: InquiryPath;
  agent: { kind: AgentKind; name: string; identityDocument: string; authorityDocument?: string | undefined };
  officeId: string;
  openedAt: string;
}

function assertPathFitsPurpose(purpose: InquiryPurpose, path: InquiryPath): void {
  const allowedPaths = INQUIRY_PATHS_BY_PURPOSE[purpose];
  if (allowedPaths.includes(path)) return;
  throw new Problem(422, 'withLetterNotForPurpose', 'The expiry notice encloses no letter for this purpose',
    `The inquiry letter enclosed with the expiry notice (有効期限通知書) is for renewing a certificate. An agent's ${purpose} goes by the `
    + `letter the ward mails (path ${allowedPaths.join(' or ')}), and is never completed in one visit.`,
    { field: 'path', purpose, path, allowedPaths });
}

const AGENT_REFUSAL_TEXT = {
  authorityDocumentRequired: 'A legal representative must show proof of authority (戸籍謄本, 後見登記事項証明書, …) in agent.authorityDocument.',
  voluntaryAgentForAdultWard: 'The resident is an adult ward (成年被後見人): no signature certificate is issued to them, and certificate procedures for them go through their legal representative, not a voluntary agent.',
} as const;

/** POST /v1/inquiries: the agent's first visit at a counter opens the case. */
export async function openInquiry(ctx: ServiceContext, actor: Actor, request: IdempotentRequest, input: OpenInquiryInput) {
  return runIdempotent<InquiryView>(ctx, actor, request, async (trx) => {
    const now = ctx.clock.now();
    const openedAt = new Date(input.openedAt);
    assertNearNow(ctx, 'openedAt', openedAt);
    assertPathFitsPurpose(input.purpose, input.path);
    const resident = await findResident(trx, input.residentCode, true);
    if (!resident) {
      throw new Problem(422, 'residentNotFound', 'No such resident', `No resident ${input.residentCode}; register them first.`, { residentCode: input.residentCode });
    }
    const abroadWithUse = resident.status === 'movedOutAbroad' && resident.residence === 'abroadWithContinuedUse';
    if (resident.status !== 'active' && !abroadWithUse) {
      throw new Problem(422, 'residentNotActive', 'Resident not active', `The resident's status is ${resident.status}.`);
    }
    const reasons = agentRefusals({
      agentKind: input.agent.kind, hasAuthorityDocument: Boolean(input.agent.authorityDocument), purpose: input.purpose, adultWard: resident.adultWard,
    });
    if (reasons.length > 0) {
      throw new Problem(422, reasons[0]!, 'The agent cannot open this case', reasons.map((r) => AGENT_REFUSAL_TEXT[r]).join(' '), { reasons });
    }
    await assertCounterOpen(ctx, trx, domainPolicyFrom(ctx.config), input.officeId, openedAt);
    const state = initialInquiryState(input.path);
    const inquiry = await repo.insertInquiry(trx, {
      inquiryId: `inq_${randomBytes(8).toString('hex')}`,
      residentCode: input.residentCode,
      purpose: input.purpose,
      path: input.path,
      agent: { kind: input.agent.kind, name: input.agent.name, identityDocument: input.agent.identityDocument, authorityDocument: input.agent.authorityDocument ?? null },
      officeId: input.officeId,
      openedAt,
      state,
      createdAt: now,
      updatedAt: now,
    });
    const details = { purpose: input.purpose, path: input.path, agentKind: input.agent.kind, officeId: input.officeId, openedAt: openedAt.toISOString() };
    await repo.appendInquiryEvent(trx, {
      inquiryId: inquiry.inquiryId, at: now, action: 'open', fromState: null, toState: state, outcome: null,
      keyId: actor.keyId, requestId: actor.requestId, details,
    });
    await appendAudit(trx, {
      at: now, keyId: actor.keyId, action: 'inquiry.open', resource: `inquiries/${inquiry.inquiryId}`, requestId: actor.requestId,
      detail: { residentCode: input.residentCode, to: state, ...details },
    });
    return { status: 201, body: inquiryView(inquiry) };
  });
}

export async function getInquiry(ctx: ServiceContext, inquiryId: string): Promise<InquiryView> {
  const i = await repo.findInquiry(ctx.db, inquiryId);
  if (!i) throw inquiryNotFound(inquiryId);
  return inquiryView(i);
}

export async function inquiryEvents(ctx: ServiceContext, inquiryId: string): Promise<InquiryEventView[]> {
  if (!(await repo.findInquiry(ctx.db, inquiryId))) throw inquiryNotFound(inquiryId);
  return (await repo.listInquiryEvents(ctx.db, inquiryId)).map((e) => ({
    id: e.id, at: e.at.toISOString(), action: e.action, fromState: e.fromState, toState: e.toState, outcome: e.outcome,
    actor: { keyId: e.keyId, requestId: e.requestId }, details: e.details,
  }));
}

export async function listInquiries(ctx: ServiceContext, q: repo.InquiryQuery): Promise<(InquiryView & { seq: string })[]> {
  if (q.dueBefore) civil(q.dueBefore);
  return (await repo.listInquiries(ctx.db, q)).map((i) => ({ ...inquiryView(i), seq: i.seq }));
}

/** POST /v1/inquiries/{id}/mailings: the letter goes to the registered address of that moment, with its due date. */
export async function mailInquiry(ctx: ServiceContext, actor: Actor, inquiryId: string, ifMatch: string | undefined, input: { mailedOn: string }): Promise<InquiryView> {
  return inTransaction(ctx, async (trx) => {
    const { inquiry, resident } = await lockCase(trx, inquiryId);
    assertIfMatch(inquiry, ifMatch);
    if (!nextInquiryState(inquiry.state, 'mail')) throw actionNotAllowed(inquiry, 'mail');
    const mailedOn = civil(input.mailedOn);
    const now = today(ctx);
    if (Temporal.PlainDate.compare(mailedOn, now) > 0) {
      throw new Problem(422, 'mailedOnInFuture', 'mailedOn is after today',
        `A letter is recorded once mailed: mailedOn may not be after today (${now.toString()}, Japan time).`, { field: 'mailedOn' });
    }
    if (Temporal.PlainDate.compare(mailedOn, tokyoDate(inquiry.openedAt)) < 0) {
      throw new Problem(422, 'mailedBeforeOpened', 'mailedOn is before the case was opened', 'The letter is mailed after the agent\'s first visit.', { field: 'mailedOn' });
    }
    const deadline = await inquiryDueOn(trx, domainPolicyFrom(ctx.config), mailedOn);
    const updated = await transition(trx, ctx, actor, inquiry, 'mail', {
      mailedOn: mailedOn.toString(), periodEndsOn: deadline.periodEndsOn.toString(), dueOn: deadline.dueOn.toString(), registeredAddress: resident.address,
    }, { details: { mailedOn: mailedOn.toString(), periodEndsOn: deadline.periodEndsOn.toString(), dueOn: deadline.dueOn.toString() } });
    return inquiryView(updated);
  });
}

export interface VisitInput {
  officeId: string;
  visitedAt: string;
  letterComplete: boolean;
  bothSidesFilled: boolean;
  applicationFormComplete: boolean;
  agentIdentityVerified: boolean;
  pinVerified: boolean;
}

/**
 * POST /v1/inquiries/{id}/visits. A visit after the end of the due date closes the case as expired
 * and is answered 409: the closing is committed first, the refusal is raised after. A visit on the
 * Japan date of the case's last failed visit is refused (409 inquiryComeAgainLater), nothing recorded.
 */
export async function recordVisit(ctx: ServiceContext, actor: Actor, inquiryId: string, ifMatch: string | undefined, input: VisitInput): Promise<InquiryView> {
  const result = await inTransaction(ctx, async (trx) => {
    const { inquiry } = await lockCase(trx, inquiryId);
    assertIfMatch(inquiry, ifMatch);
    if (!nextInquiryState(inquiry.state, 'visit', 'completed')) throw actionNotAllowed(inquiry, 'visit');
    const visitedAt = new Date(input.visitedAt);
    assertNearNow(ctx, 'visitedAt', visitedAt);
    await assertCounterOpen(ctx, trx, domainPolicyFrom(ctx.config), input.officeId, visitedAt);
    const dueOn = inquiry.dueOn ? civil(inquiry.dueOn) : null;
    const expired = dueOn !== null && dueDateEndedBy(dueOn, toInstant(visitedAt));
    const lastFailed = expired || inquiry.visitCount === 0 ? null : await repo.lastVisitWith(trx, inquiryId, FAILED_VISIT_OUTCOMES);
    const from = lastFailed && comeAgainFrom(toInstant(lastFailed.visitedAt), toInstant(visitedAt));
    if (lastFailed && from) throw comeAgainLater(inquiry, lastFailed, from);
    if (!expired && !input.agentIdentityVerified) {
      throw new Problem(422, 'agentIdentityNotVerified', "The agent's identity was not verified",
        "Nothing is recorded for a visit whose visitor could not be identified as the case's agent (photo ID, and proof of authority for a legal representative).");
    }
    const outcome = visitOutcome({
      visitedAt: toInstant(visitedAt), dueOn, letterComplete: input.letterComplete, bothSidesFilled: input.bothSidesFilled,
      applicationFormComplete: input.applicationFormComplete, pinVerified: input.pinVerified,
    });
    const details = {
      officeId: input.officeId, visitedAt: visitedAt.toISOString(),
      checks: {
        letterComplete: input.letterComplete, bothSidesFilled: input.bothSidesFilled, applicationFormComplete: input.applicationFormComplete,
        agentIdentityVerified: input.agentIdentityVerified, pinVerified: input.pinVerified,
      },
    };
    const updated = await transition(trx, ctx, actor, inquiry, 'visit', {
      visitCount: inquiry.visitCount + 1, lastVisitOutcome: outcome,
      ...(outcome === 'expired' ? { closedReason: 'dueDatePassed', closedAt: ctx.clock.now() } : {}),
    }, { outcome, details });
    return { updated, outcome };
  });
  if (result.outcome === 'expired') {
    throw new Problem(409, 'inquiryExpired', 'The answer deadline has passed',
      `The visit at ${input.visitedAt} is after the end of the due date ${result.updated.dueOn}: the case is closed as expired and a new case is needed.`,
      { state: result.updated.state, allowedActions: allowedInquiryActions(result.updated.state), dueOn: result.updated.dueOn, inquiryId },
      { ETag: inquiryEtag(result.updated.version) });
  }
  return inquiryView(result.updated);
}

export async function cancelInquiry(ctx: ServiceContext, actor: Actor, inquiryId: string, ifMatch: string | undefined, input: { reason: string }): Promise<InquiryView> {
  return inTransaction(ctx, async (trx) => {
    const { inquiry } = await lockCase(trx, inquiryId);
    assertIfMatch(inquiry, ifMatch);
    const updated = await transition(trx, ctx, actor, inquiry, 'cancel', { closedReason: input.reason, closedAt: ctx.clock.now() }, { details: { reason: input.reason } });
    return inquiryView(updated);
  });
}

/**
 * A resident event (addressChanged, movedOutAbroad, died) cancels the resident's open cases when
 * the policy INQUIRY_CANCEL_ON_RESIDENT_CHANGE is on: the letter went to, or would go to, an address
 * that no longer holds. Runs in the event's transaction, which already holds the resident's row.
 */
const CANCELLING_EVENTS = ['addressChanged', 'movedOutAbroad', 'died'];

/** The residents among these whose open cases an event of one of these types would cancel (one query). */
export async function residentsWithCancellableInquiries(trx: Tx, ctx: ServiceContext, residentCodes: string[], eventTypes: string[]): Promise<Set<string>> {
  if (!ctx.config.policy.inquiryCancelOnResidentChange || !eventTypes.some((t) => CANCELLING_EVENTS.includes(t))) return new Set();
  return repo.residentsWithInquiries(trx, residentCodes, OPEN_INQUIRY_STATES);
}

export async function cancelOpenInquiriesIn(trx: Tx, ctx: ServiceContext, actor: Actor, residentCode: string, eventType: string, eventId: string): Promise<string[]> {
  if (!ctx.config.policy.inquiryCancelOnResidentChange) return [];
  if (!CANCELLING_EVENTS.includes(eventType)) return [];
  const cancelled: string[] = [];
  for (const inquiry of await repo.inquiriesOfResident(trx, residentCode, OPEN_INQUIRY_STATES)) {
    await transition(trx, ctx, actor, inquiry, 'cancel', { closedReason: eventType, closedAt: ctx.clock.now() }, { details: { reason: eventType, residentEventId: eventId } });
    cancelled.push(inquiry.inquiryId);
  }
  return cancelled;
}

const EXPIRING_STATES = [...new Set(INQUIRY_TRANSITIONS.filter((t) => t.action === 'expire').map((t) => t.from!))];

/**
 * POST /v1/inquiries/expirations: closes every case whose due date ended before `asOf`; a rerun finds
 * nothing more. Locks as every other use case does, the residents first (in code order, as resident
 * events and batches lock them), then their cases in seq order (as a resident event's cancellations
 * lock them), so it cannot deadlock with them; a deadlock with anything else is retried.
 */
export async function runExpirations(ctx: ServiceContext, actor: Actor, input: { asOf: string }) {
  const asOf = new Date(input.asOf);
  if (asOf.getTime() > ctx.clock.now().getTime()) {
    throw new Problem(422, 'timeInFuture', 'asOf is in the future', `asOf may not be after the service clock (${ctx.clock.now().toISOString()}): cases cannot expire early.`, { field: 'asOf' });
  }
  return inRetriedTransaction(ctx, async (trx) => {
    const before = tokyoDate(asOf).toString();
    const residentCodes = await repo.residentsWithInquiriesDueBefore(trx, before, EXPIRING_STATES);
    await lockResidents(trx, residentCodes);
    const due = await repo.inquiriesDueBefore(trx, before, EXPIRING_STATES, residentCodes);
    const expired: string[] = [];
    for (const inquiry of due) {
      await transition(trx, ctx, actor, inquiry, 'expire', { closedReason: 'dueDatePassed', closedAt: ctx.clock.now() }, { details: { asOf: asOf.toISOString(), dueOn: inquiry.dueOn } });
      expired.push(inquiry.inquiryId);
    }
    await appendAudit(trx, {
      at: ctx.clock.now(), keyId: actor.keyId, action: 'inquiry.expirationsRun', resource: 'inquiries', requestId: actor.requestId,
      detail: { asOf: asOf.toISOString(), expired: expired.length },
    });
    return { asOf: asOf.toISOString(), expired: expired.length, inquiryIds: expired };
  });
}

/**
 * The case that authorises an agent's procedure (issue 8): a completed, unused case of that resident
 * and purpose whose due date has not ended, locked. Refusals: 422 for the wrong case, 409 for a case
 * in the wrong state (a second use, an expired or unfinished case).
 */
export async function lockUsableInquiry(
  trx: Tx,
  ctx: ServiceContext,
  use: { inquiryId: string; residentCode: string; purpose: InquiryPurpose; agentKind?: AgentKind },
): Promise<repo.Inquiry> {
  const inquiry = await repo.findInquiry(trx, use.inquiryId, true);
  if (!inquiry) throw new Problem(422, 'inquiryNotFound', 'No such inquiry case', `No inquiry case ${use.inquiryId}.`, { inquiryId: use.inquiryId });
  if (inquiry.residentCode !== use.residentCode) {
    throw new Problem(422, 'inquiryForAnotherResident', 'The case is for another resident', `Case ${use.inquiryId} is not for this card's holder.`, { inquiryId: use.inquiryId });
  }
  if (inquiry.purpose !== use.purpose) {
    throw new Problem(422, 'inquiryPurposeMismatch', 'The case is for another procedure',
      `Case ${use.inquiryId} authorises ${inquiry.purpose}; this procedure needs a ${use.purpose} case.`, { inquiryId: use.inquiryId, purpose: inquiry.purpose, needed: use.purpose });
  }
  if (use.agentKind && inquiry.agent.kind !== use.agentKind) {
    throw new Problem(422, 'inquiryAgentMismatch', 'The case is for another kind of agent',
      `Case ${use.inquiryId} was opened by a ${inquiry.agent.kind} agent.`, { inquiryId: use.inquiryId, agentKind: inquiry.agent.kind });
  }
  if (inquiry.state === 'consumed') {
    throw new Problem(409, 'inquiryAlreadyUsed', 'The case has already been used',
      `Case ${use.inquiryId} authorised one procedure and was used by ${inquiry.consumedBy}; a new procedure needs a new case.`,
      { inquiryId: use.inquiryId, state: inquiry.state, allowedActions: allowedInquiryActions(inquiry.state), consumedBy: inquiry.consumedBy });
  }
  if (inquiry.state !== 'completed') {
    throw new Problem(409, 'inquiryNotCompleted', 'The case is not completed',
      `Case ${use.inquiryId} is ${inquiry.state}; only a completed case authorises a procedure.`, { inquiryId: use.inquiryId, state: inquiry.state, allowedActions: allowedInquiryActions(inquiry.state) });
  }
  if (inquiry.dueOn && dueDateEndedBy(civil(inquiry.dueOn), toInstant(ctx.clock.now()))) {
    throw new Problem(409, 'inquiryExpired', 'The answer deadline has passed', `Case ${use.inquiryId} was due on ${inquiry.dueOn}; a new case is needed.`, { inquiryId: use.inquiryId, dueOn: inquiry.dueOn });
  }
  return inquiry;
}

/** Marks a case returned by lockUsableInquiry as used by `by`, in the procedure's transaction. */
export async function consumeInquiryIn(trx: Tx, ctx: ServiceContext, actor: Actor, inquiry: repo.Inquiry, by: string): Promise<void> {
  await transition(trx, ctx, actor, inquiry, 'consume', { consumedBy: by, consumedAt: ctx.clock.now() }, { details: { consumedBy: by } });
}
