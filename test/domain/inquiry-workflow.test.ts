import { readFileSync } from 'node:fs';
import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import {
  FINAL_INQUIRY_STATES,
  INQUIRY_PATHS_BY_PURPOSE,
  INQUIRY_STATES,
  INQUIRY_TRANSITIONS,
  agentRefusals,
  allowedInquiryActions,
  comeAgainFrom,
  dueDateEndedBy,
  initialInquiryState,
  inquiryPurposeForProcedure,
  inquiryWorkflowMarkdown,
  nextInquiryState,
  visitOutcome,
} from '../../src/domain/inquiry-workflow.js';
import { tokyoInstant } from '../../src/domain/dates.js';
import { d } from './support.js';

t.test('docs/inquiry-workflow.md is the diagram generated from the transition table', async (t) => {
  const committed = readFileSync(new URL('../../docs/inquiry-workflow.md', import.meta.url), 'utf8');
  t.equal(committed, inquiryWorkflowMarkdown(), 'docs/inquiry-workflow.md is current (run `npm run inquiry-diagram`)');
  // Read back independently: every arrow of the committed diagram is a row of the table and vice versa.
  const arrows = [...committed.matchAll(/^ {4}(\S+) --> (\S+)(?: : (.*))?$/gm)].map((m) => [m[1], m[2], m[3] ?? '']);
  const fromTable = INQUIRY_TRANSITIONS.map((r) => [r.from ?? '[*]', r.to, r.action === 'open' ? `open (${r.path})` : r.action === 'visit' ? `visit (${r.outcome})` : r.action]);
  t.same(arrows.filter((a) => a[1] !== '[*]'), fromTable);
  t.same(arrows.filter((a) => a[1] === '[*]').map((a) => a[0]), FINAL_INQUIRY_STATES);
  const mentioned = new Set(arrows.flatMap((a) => [a[0], a[1]]));
  for (const s of INQUIRY_STATES) t.ok(mentioned.has(s), `${s} is in the diagram`);
});

t.test('transitions', async (t) => {
  t.equal(initialInquiryState('withLetter'), 'awaitingVisit');
  t.equal(initialInquiryState('withoutLetter'), 'awaitingMailing');
  t.equal(nextInquiryState('awaitingMailing', 'mail'), 'mailed');
  t.equal(nextInquiryState('awaitingMailing', 'visit', 'completed'), null, 'no visit before the letter is mailed');
  t.equal(nextInquiryState('mailed', 'visit', 'letterIncomplete'), 'mailed', 'the agent must come again');
  t.equal(nextInquiryState('mailed', 'visit', 'expired'), 'expired');
  t.equal(nextInquiryState('awaitingVisit', 'visit', 'expired'), null, 'a withLetter case has no due date');
  t.equal(nextInquiryState('completed', 'consume'), 'consumed');
  t.equal(nextInquiryState('consumed', 'consume'), null, 'one procedure per case');
  for (const s of FINAL_INQUIRY_STATES) t.same(allowedInquiryActions(s), [], `${s} is final`);
  t.same(allowedInquiryActions('awaitingMailing'), ['mail', 'cancel']);
  t.same(allowedInquiryActions('mailed'), ['visit', 'expire', 'cancel']);
  t.same(allowedInquiryActions('completed'), ['consume', 'expire', 'cancel']);
});

t.test('visit outcome: expired, then blank field, then wrong PIN', async (t) => {
  const good = { letterComplete: true, bothSidesFilled: true, applicationFormComplete: true, pinVerified: true };
  const at = (s: string) => tokyoInstant(d(s.slice(0, 10)), s.slice(11));
  const dueOn = d('2026-03-02');
  t.equal(visitOutcome({ ...good, dueOn, visitedAt: at('2026-03-02T18:59') }), 'completed', 'through the whole due date');
  t.equal(visitOutcome({ ...good, dueOn, visitedAt: at('2026-03-03T00:00') }), 'expired', 'from 00:00 the next day');
  t.equal(visitOutcome({ ...good, dueOn, visitedAt: at('2026-03-03T09:00'), letterComplete: false }), 'expired', 'expiry first');
  t.equal(visitOutcome({ ...good, dueOn, visitedAt: at('2026-02-10T10:00'), bothSidesFilled: false }), 'letterIncomplete');
  t.equal(visitOutcome({ ...good, dueOn, visitedAt: at('2026-02-10T10:00'), applicationFormComplete: false, pinVerified: false }), 'letterIncomplete');
  t.equal(visitOutcome({ ...good, dueOn, visitedAt: at('2026-02-10T10:00'), pinVerified: false }), 'pinMismatch');
  t.equal(visitOutcome({ ...good, dueOn: null, visitedAt: at('2031-01-01T10:00') }), 'completed', 'no due date, no expiry');
  t.notOk(dueDateEndedBy(dueOn, at('2026-03-02T23:59:59')));
});

t.test('not completed that day: after a failed visit the case takes no visit until the next Japan date', async (t) => {
  const at = (s: string) => tokyoInstant(d(s.slice(0, 10)), s.slice(11));
  t.equal(comeAgainFrom(null, at('2026-02-16T10:00')), null, 'no failed visit: go ahead');
  t.same(comeAgainFrom(at('2026-02-16T08:30'), at('2026-02-16T18:59'))?.toString(), '2026-02-17', 'later the same day: refused');
  t.same(comeAgainFrom(at('2026-02-16T10:00'), at('2026-02-15T16:00'))?.toString(), '2026-02-17', 'a visit dated before the failure: refused too');
  t.equal(comeAgainFrom(at('2026-02-16T16:59'), at('2026-02-17T08:30')), null, 'the next day: go ahead');
  // Japan dates, not UTC ones: 2026-02-16T23:30 UTC is already 2026-02-17 08:30 in Tokyo.
  t.equal(comeAgainFrom(at('2026-02-16T10:00'), Temporal.Instant.from('2026-02-16T23:30:00Z')), null);
  t.same(comeAgainFrom(Temporal.Instant.from('2026-02-16T14:59:59Z'), at('2026-02-16T23:59'))?.toString(), '2026-02-17');
});

t.test('withLetter only where a letter comes: the expiry notice encloses one for certificates, never for PINs', async (t) => {
  t.same(INQUIRY_PATHS_BY_PURPOSE.certificateRenewal, ['withLetter', 'withoutLetter']);
  t.same(INQUIRY_PATHS_BY_PURPOSE.certificateIssuance, ['withLetter', 'withoutLetter'], 'expired before the agent came: a new issuance');
  t.same(INQUIRY_PATHS_BY_PURPOSE.pinReset, ['withoutLetter']);
  t.same(INQUIRY_PATHS_BY_PURPOSE.pinChange, ['withoutLetter']);
});

t.test('agents and purposes', async (t) => {
  t.same(agentRefusals({ agentKind: 'legalRepresentative', hasAuthorityDocument: false, purpose: 'pinReset', adultWard: false }), ['authorityDocumentRequired']);
  t.same(agentRefusals({ agentKind: 'voluntary', hasAuthorityDocument: false, purpose: 'certificateIssuance', adultWard: true }), ['voluntaryAgentForAdultWard']);
  t.same(agentRefusals({ agentKind: 'legalRepresentative', hasAuthorityDocument: true, purpose: 'certificateIssuance', adultWard: true }), []);
  t.same(agentRefusals({ agentKind: 'voluntary', hasAuthorityDocument: false, purpose: 'certificateRenewal', adultWard: false }), []);
  t.equal(inquiryPurposeForProcedure('renewal'), 'certificateRenewal');
  for (const p of ['initial', 'newAfterExpiry', 'reissue'] as const) t.equal(inquiryPurposeForProcedure(p), 'certificateIssuance');
});
