import { Temporal } from 'temporal-polyfill';
import { startOfTokyoDay, tokyoDateOf, type Instant, type PlainDate } from './dates.js';

/*
 * The proxy (代理人) inquiry-letter case (照会書兼回答書) as a state machine (DOMAIN.md "Proxy
 * procedures", issue 8). The transition table below is data: the service applies it, and
 * docs/inquiry-workflow.md holds the Mermaid diagram generated from it (a test compares them).
 */

export const INQUIRY_STATES = ['awaitingMailing', 'mailed', 'awaitingVisit', 'completed', 'consumed', 'expired', 'cancelled'] as const;
export type InquiryState = (typeof INQUIRY_STATES)[number];

export const INQUIRY_PURPOSES = ['certificateIssuance', 'certificateRenewal', 'pinReset', 'pinChange'] as const;
export type InquiryPurpose = (typeof INQUIRY_PURPOSES)[number];

/** withLetter: the letter came with the expiry notice; withoutLetter: the ward mails one first. */
export const INQUIRY_PATHS = ['withLetter', 'withoutLetter'] as const;
export type InquiryPath = (typeof INQUIRY_PATHS)[number];

/**
 * The paths a purpose may take. The letter enclosed with the expiry notice (有効期限通知書) is there to
 * renew the certificate: `withLetter` fits `certificateRenewal`, and `certificateIssuance` for when the
 * certificate expired before the agent came (after expiry the renewal is a new issuance, 新規発行:
 * DOMAIN.md "Eligibility"). Nothing comes with a letter for a PIN: an agent's PIN reset or change goes
 * by the inquiry letter the ward mails, and never completes in one visit (the seed page:
 * 照会書による手続きは1回では完了しません).
 */
export const INQUIRY_PATHS_BY_PURPOSE: Readonly<Record<InquiryPurpose, readonly InquiryPath[]>> = {
  certificateIssuance: ['withLetter', 'withoutLetter'],
  certificateRenewal: ['withLetter', 'withoutLetter'],
  pinReset: ['withoutLetter'],
  pinChange: ['withoutLetter'],
};

export const AGENT_KINDS = ['legalRepresentative', 'voluntary'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

export type InquiryAction = 'open' | 'mail' | 'visit' | 'cancel' | 'expire' | 'consume';

export const VISIT_OUTCOMES = ['completed', 'letterIncomplete', 'pinMismatch', 'expired'] as const;
export type VisitOutcome = (typeof VISIT_OUTCOMES)[number];

/** Visits that leave the case open: the procedure is not completed that day, the agent comes again. */
export const FAILED_VISIT_OUTCOMES = ['letterIncomplete', 'pinMismatch'] as const satisfies readonly VisitOutcome[];

export interface InquiryTransition {
  /** null: the case does not exist yet (`open`). */
  readonly from: InquiryState | null;
  readonly action: InquiryAction;
  /** `open` depends on the path, `visit` on its outcome. */
  readonly path?: InquiryPath;
  readonly outcome?: VisitOutcome;
  readonly to: InquiryState;
}

/** States a case is still open in: resident changes cancel these, and only these can be cancelled. */
export const OPEN_INQUIRY_STATES: readonly InquiryState[] = ['awaitingMailing', 'mailed', 'awaitingVisit', 'completed'];
export const FINAL_INQUIRY_STATES: readonly InquiryState[] = ['consumed', 'expired', 'cancelled'];

/**
 * Every allowed transition. A visit that is not completed (blank field, wrong PIN) leaves the case
 * where it was: the agent must come again, before the due date when there is one. Only a mailed
 * letter has a due date, so only `mailed` and `completed` cases expire; a `withLetter` case (the
 * letter enclosed with the expiry notice) has none and ends by completion or cancellation.
 */
export const INQUIRY_TRANSITIONS: readonly InquiryTransition[] = [
  { from: null, action: 'open', path: 'withoutLetter', to: 'awaitingMailing' },
  { from: null, action: 'open', path: 'withLetter', to: 'awaitingVisit' },
  { from: 'awaitingMailing', action: 'mail', to: 'mailed' },
  { from: 'mailed', action: 'visit', outcome: 'completed', to: 'completed' },
  { from: 'mailed', action: 'visit', outcome: 'letterIncomplete', to: 'mailed' },
  { from: 'mailed', action: 'visit', outcome: 'pinMismatch', to: 'mailed' },
  { from: 'mailed', action: 'visit', outcome: 'expired', to: 'expired' },
  { from: 'mailed', action: 'expire', to: 'expired' },
  { from: 'awaitingVisit', action: 'visit', outcome: 'completed', to: 'completed' },
  { from: 'awaitingVisit', action: 'visit', outcome: 'letterIncomplete', to: 'awaitingVisit' },
  { from: 'awaitingVisit', action: 'visit', outcome: 'pinMismatch', to: 'awaitingVisit' },
  { from: 'completed', action: 'consume', to: 'consumed' },
  { from: 'completed', action: 'expire', to: 'expired' },
  { from: 'awaitingMailing', action: 'cancel', to: 'cancelled' },
  { from: 'mailed', action: 'cancel', to: 'cancelled' },
  { from: 'awaitingVisit', action: 'cancel', to: 'cancelled' },
  { from: 'completed', action: 'cancel', to: 'cancelled' },
];

/** The state a case starts in. */
export function initialInquiryState(path: InquiryPath): InquiryState {
  return INQUIRY_TRANSITIONS.find((t) => t.from === null && t.path === path)!.to;
}

/** The state after `action` (with the visit's outcome), or null when the state does not allow it. */
export function nextInquiryState(from: InquiryState, action: InquiryAction, outcome?: VisitOutcome): InquiryState | null {
  const t = INQUIRY_TRANSITIONS.find((t) => t.from === from && t.action === action && (t.outcome === undefined || t.outcome === outcome));
  return t ? t.to : null;
}

/** The actions a state allows, in table order, without repeats. */
export function allowedInquiryActions(state: InquiryState): InquiryAction[] {
  return [...new Set(INQUIRY_TRANSITIONS.filter((t) => t.from === state).map((t) => t.action))];
}

/** The answer is accepted through the whole of the due date (Japan time). */
export function dueDateEndedBy(dueOn: PlainDate, at: Instant): boolean {
  return Temporal.Instant.compare(at, startOfTokyoDay(dueOn.add({ days: 1 }))) >= 0;
}

export interface VisitFacts {
  readonly visitedAt: Instant;
  readonly dueOn: PlainDate | null;
  /** The inquiry letter is filled in (no blank field). */
  readonly letterComplete: boolean;
  /** Both sides filled in: the back is the power of attorney (委任状). */
  readonly bothSidesFilled: boolean;
  /** The application form (mailed with the letter, or filled in at the counter). */
  readonly applicationFormComplete: boolean;
  /** Staff entered the holder's PIN and the card accepted it. */
  readonly pinVerified: boolean;
}

/**
 * What a counter visit comes to (the seed page's notes): after the due date the case has expired
 * and a new one is needed; a letter with a blank field cannot be processed; a wrong PIN means the
 * procedure is not completed that day. Checked in that order. Whether the case takes a visit that
 * day at all is comeAgainFrom's question, asked first.
 */
export function visitOutcome(f: VisitFacts): VisitOutcome {
  if (f.dueOn && dueDateEndedBy(f.dueOn, f.visitedAt)) return 'expired';
  if (!f.letterComplete || !f.bothSidesFilled || !f.applicationFormComplete) return 'letterIncomplete';
  if (!f.pinVerified) return 'pinMismatch';
  return 'completed';
}

/**
 * A visit that was not completed (a blank field, a wrong PIN) means the procedure is not completed
 * that day: the agent must come again (DOMAIN.md "Proxy procedures"; the seed page:
 * 当日中には手続きが完了しません). So a case takes no further visit on the Japan date of its last failed
 * visit (nor on an earlier one): returns the date from which the agent may come again, or null when
 * this visit may go ahead. A visit after the end of the due date is not this rule's business: the
 * case expires (visitOutcome), whatever happened before.
 */
export function comeAgainFrom(lastFailedVisitAt: Instant | null, visitedAt: Instant): PlainDate | null {
  if (lastFailedVisitAt === null) return null;
  const failedOn = tokyoDateOf(lastFailedVisitAt);
  return Temporal.PlainDate.compare(tokyoDateOf(visitedAt), failedOn) <= 0 ? failedOn.add({ days: 1 }) : null;
}

/** Which case purpose a certificate procedure needs (initial, new after expiry and reissue are issuances). */
export function inquiryPurposeForProcedure(procedure: 'initial' | 'renewal' | 'newAfterExpiry' | 'reissue'): InquiryPurpose {
  return procedure === 'renewal' ? 'certificateRenewal' : 'certificateIssuance';
}

export type AgentRefusal = 'authorityDocumentRequired' | 'voluntaryAgentForAdultWard';

/**
 * Who may open a case. A legal representative shows proof of authority (戸籍謄本, 後見登記事項証明書).
 * An adult ward (成年被後見人) gets no signature certificate, and a voluntary agent cannot stand in
 * for the guardian for the other: certificate cases for an adult ward go through the legal representative.
 */
export function agentRefusals(f: { agentKind: AgentKind; hasAuthorityDocument: boolean; purpose: InquiryPurpose; adultWard: boolean }): AgentRefusal[] {
  const reasons: AgentRefusal[] = [];
  if (f.agentKind === 'legalRepresentative' && !f.hasAuthorityDocument) reasons.push('authorityDocumentRequired');
  if (f.agentKind === 'voluntary' && f.adultWard && (f.purpose === 'certificateIssuance' || f.purpose === 'certificateRenewal')) {
    reasons.push('voluntaryAgentForAdultWard');
  }
  return reasons;
}

function label(t: InquiryTransition): string {
  if (t.action === 'open') return `open (${t.path})`;
  if (t.action === 'visit') return `visit (${t.outcome})`;
  return t.action;
}

/** The workflow as a Mermaid state diagram, generated from INQUIRY_TRANSITIONS. */
export function inquiryStateDiagram(): string {
  const lines = ['stateDiagram-v2'];
  for (const t of INQUIRY_TRANSITIONS) lines.push(`    ${t.from ?? '[*]'} --> ${t.to} : ${label(t)}`);
  for (const s of FINAL_INQUIRY_STATES) lines.push(`    ${s} --> [*]`);
  return `${lines.join('\n')}\n`;
}

/** docs/inquiry-workflow.md, exactly: written by `npm run inquiry-diagram`, compared by a test. */
export function inquiryWorkflowMarkdown(): string {
  return [
    '# Inquiry-letter workflow (照会書兼回答書)',
    '',
    '<!-- Generated from INQUIRY_TRANSITIONS in src/domain/inquiry-workflow.ts by `npm run inquiry-diagram`; do not edit by hand. -->',
    '',
    'A proxy (代理人) case: `withoutLetter` needs the mailing and a second visit, `withLetter` (the letter came with the expiry',
    'notice; certificate purposes only, never `pinReset` or `pinChange`) completes in one visit. A visit that is not completed',
    '(`letterIncomplete`, `pinMismatch`) leaves the case where it was, and the case takes no further visit that Japan day (409',
    '`inquiryComeAgainLater`, nothing recorded); a visit after the end of `dueOn` closes it as `expired` (409). A `completed`',
    'case authorises one procedure of its purpose and is `consumed` by it. `addressChanged`, `movedOutAbroad` and `died` cancel',
    'open cases (policy `INQUIRY_CANCEL_ON_RESIDENT_CHANGE`). Every change needs `If-Match`.',
    '',
    '```mermaid',
    inquiryStateDiagram().trimEnd(),
    '```',
    '',
  ].join('\n');
}
