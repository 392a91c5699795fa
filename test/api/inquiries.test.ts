import t from 'tap';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { cases, JST } from './inquiries-support.js';

const HANAKO = { name: '新宿 花子', address: '東京都新宿区四谷1-1', dateOfBirth: '1990-05-20', sex: 'female' };

t.test('with the letter: one visit completes the case, and the agent renews with it', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('W001', HANAKO);
  const { card } = await s.card('W001', '2026-01-15', JST('2026-01-15T09:30:00'));
  await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));

  // The expiry notice (with the inquiry letter) came; the renewal window opened on 2030-02-21.
  await s.setClock(JST('2030-03-05T10:00:00'));
  const opened = await c.open({ residentCode: 'W001', purpose: 'certificateRenewal', path: 'withLetter', openedAt: JST('2030-03-05T10:00:00') });
  t.equal(opened.statusCode, 201, opened.body);
  const inq = opened.json();
  t.equal(inq.state, 'awaitingVisit');
  t.equal(inq.dueOn, null, 'the letter that came with the expiry notice has no ward deadline');
  t.equal(opened.headers.etag, '"v1"');
  t.equal(opened.headers.location, `/v1/inquiries/${inq.inquiryId}`);

  const noLetter = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, payload: { kind: 'signature', officeId: 'main', receivedAt: JST('2030-03-05T10:05:00'), applicant: { type: 'agent', inquiryId: inq.inquiryId }, generateKey: true } });
  t.equal(noLetter.statusCode, 409, 'not usable before the visit');
  t.equal(noLetter.json().type, 'urn:jpki-ward:problem:inquiryNotCompleted');
  t.equal(noLetter.json().state, 'awaitingVisit');

  const visit = await c.visit(inq.inquiryId, opened.headers.etag as string, JST('2030-03-05T10:10:00'));
  t.equal(visit.statusCode, 200, visit.body);
  t.equal(visit.json().state, 'completed');
  t.equal(visit.json().lastVisitOutcome, 'completed');
  t.equal(visit.headers.etag, '"v2"');

  const renewal = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, payload: { kind: 'signature', officeId: 'main', receivedAt: JST('2030-03-05T10:15:00'), applicant: { type: 'agent', inquiryId: inq.inquiryId }, generateKey: true } });
  t.equal(renewal.statusCode, 201, renewal.body);
  t.equal(renewal.json().procedure, 'renewal');
  t.same(renewal.json().superseded, [sig.certificate.serial]);
  const after = (await c.get(inq.inquiryId)).json();
  t.equal(after.state, 'consumed');
  t.equal(after.consumedBy, `certificates/${renewal.json().certificate.serial}`);
  t.same((await c.events(inq.inquiryId)).json().items.map((e: any) => [e.action, e.fromState, e.toState, e.outcome]), [
    ['open', null, 'awaitingVisit', null],
    ['visit', 'awaitingVisit', 'completed', 'completed'],
    ['consume', 'completed', 'consumed', null],
  ]);
});

t.test('without the letter: mailed 2026-01-30, due 2026-03-02; blank field, wrong PIN, then completed; issuance consumes the case', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-30T10:00:00'));
  await s.register('N001', HANAKO);
  const { card } = await s.card('N001', '2026-01-30', JST('2026-01-30T09:30:00'));

  const opened = await c.open({ residentCode: 'N001', openedAt: JST('2026-01-30T10:00:00') });
  t.equal(opened.statusCode, 201, opened.body);
  const id = opened.json().inquiryId;
  t.equal(opened.json().state, 'awaitingMailing');
  t.same(opened.json().allowedActions, ['mail', 'cancel']);

  const work = (await c.list('state=awaitingMailing')).json();
  t.same(work.items.map((i: any) => i.inquiryId), [id], "the mailing job's work list");

  const early = await c.visit(id, '"v1"', JST('2026-01-30T10:05:00'));
  t.equal(early.statusCode, 409, 'no visit before the mailing');
  t.equal(early.json().type, 'urn:jpki-ward:problem:inquiryActionNotAllowed');
  t.equal(early.json().state, 'awaitingMailing');
  t.same(early.json().allowedActions, ['mail', 'cancel']);

  const future = await c.mail(id, '"v1"', '2026-01-31');
  t.equal(future.statusCode, 422, 'mailedOn after today');
  t.equal(future.json().type, 'urn:jpki-ward:problem:mailedOnInFuture');

  const mailed = await c.mail(id, '"v1"', '2026-01-30');
  t.equal(mailed.statusCode, 200, mailed.body);
  t.equal(mailed.json().state, 'mailed');
  t.equal(mailed.json().periodEndsOn, '2026-02-28', '民法 143: the end of February');
  t.equal(mailed.json().dueOn, '2026-03-02', 'a Saturday, so the next day all counters open');
  t.equal(mailed.json().registeredAddress, HANAKO.address, 'to the registered address of that moment');

  await s.setClock(JST('2026-02-16T10:00:00'));
  const blank = await c.visit(id, mailed.headers.etag as string, JST('2026-02-16T10:00:00'), { letterComplete: false });
  t.equal(blank.statusCode, 200, blank.body);
  t.equal(blank.json().lastVisitOutcome, 'letterIncomplete');
  t.equal(blank.json().state, 'mailed', 'still open: the agent must come again');

  const wrongPin = await c.visit(id, blank.headers.etag as string, JST('2026-02-16T11:00:00'), { pinVerified: false });
  t.equal(wrongPin.json().lastVisitOutcome, 'pinMismatch');
  t.equal(wrongPin.json().state, 'mailed');

  const closed = await c.visit(id, wrongPin.headers.etag as string, JST('2026-02-16T08:00:00'));
  t.equal(closed.statusCode, 422, 'before opening time');
  t.equal(closed.json().type, 'urn:jpki-ward:problem:officeClosed');

  const good = await c.visit(id, wrongPin.headers.etag as string, JST('2026-02-16T14:00:00'));
  t.equal(good.statusCode, 200, good.body);
  t.equal(good.json().state, 'completed');
  t.equal(good.json().visitCount, 3);

  const issue = (kind: string) => h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, payload: { kind, officeId: 'main', receivedAt: JST('2026-02-16T14:10:00'), applicant: { type: 'agent', inquiryId: id }, generateKey: true } });
  const issued = await issue('userAuthentication');
  t.equal(issued.statusCode, 201, issued.body);
  t.equal(issued.json().procedure, 'initial');
  t.equal((await c.get(id)).json().state, 'consumed');
  const again = await issue('signature');
  t.equal(again.statusCode, 409, 'a case authorises one procedure');
  t.equal(again.json().type, 'urn:jpki-ward:problem:inquiryAlreadyUsed');

  const none = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, payload: { kind: 'signature', officeId: 'main', receivedAt: JST('2026-02-16T14:10:00'), applicant: { type: 'agent' }, generateKey: true } });
  t.equal(none.json().type, 'urn:jpki-ward:problem:agentNeedsCompletedInquiry');

  t.same((await c.events(id)).json().items.map((e: any) => [e.action, e.toState, e.outcome]), [
    ['open', 'awaitingMailing', null],
    ['mail', 'mailed', null],
    ['visit', 'mailed', 'letterIncomplete'],
    ['visit', 'mailed', 'pinMismatch'],
    ['visit', 'completed', 'completed'],
    ['consume', 'consumed', null],
  ]);
  t.notMatch(h.logs(), /代理 一郎|四谷1-1/, "neither the agent's name nor the address reaches the logs");
});

t.test('deadlines: 2026-01-15 → 2026-02-16 rolling on, 2026-02-15 off; a late visit expires the case for good', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('D001', HANAKO);
  const { card } = await s.card('D001', '2026-01-15', JST('2026-01-15T09:30:00'));
  const opened = await c.open({ residentCode: 'D001', openedAt: JST('2026-01-15T10:00:00') });
  const id = opened.json().inquiryId;
  const mailed = await c.mail(id, opened.headers.etag as string, '2026-01-15');
  t.equal(mailed.json().dueOn, '2026-02-16', '2026-02-15 is a Sunday');

  await s.setClock(JST('2026-02-17T10:00:00'));
  const late = await c.visit(id, mailed.headers.etag as string, JST('2026-02-17T10:00:00'));
  t.equal(late.statusCode, 409);
  t.equal(late.json().type, 'urn:jpki-ward:problem:inquiryExpired');
  t.equal(late.json().state, 'expired');
  const now = await c.get(id);
  t.equal(now.json().state, 'expired', 'the closing was committed though the answer is 409');
  t.equal(now.json().closedReason, 'dueDatePassed');
  t.equal(now.json().lastVisitOutcome, 'expired');
  t.equal(late.headers.etag, now.headers.etag);
  const issued = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, payload: { kind: 'userAuthentication', officeId: 'main', receivedAt: JST('2026-02-17T10:05:00'), applicant: { type: 'agent', inquiryId: id }, generateKey: true } });
  t.equal(issued.statusCode, 409, 'an expired case authorises nothing');
  t.equal(issued.json().type, 'urn:jpki-ward:problem:inquiryNotCompleted');
  t.equal(issued.json().state, 'expired');
  const revisit = await c.visit(id, now.headers.etag as string, JST('2026-02-17T10:10:00'));
  t.equal(revisit.statusCode, 409);
  t.same(revisit.json().allowedActions, [], 'a new case is needed');

  const off = await testApp(t, { DEADLINE_ROLLS_TO_NEXT_OPEN_DAY: 'false' });
  const s2 = lifecycle(off);
  const c2 = cases(off);
  await s2.setClock(JST('2026-01-15T10:00:00'));
  await s2.register('D002', HANAKO);
  const o2 = await c2.open({ residentCode: 'D002', openedAt: JST('2026-01-15T10:00:00') });
  const m2 = await c2.mail(o2.json().inquiryId, o2.headers.etag as string, '2026-01-15');
  t.equal(m2.json().dueOn, '2026-02-15', 'rolling off: the 民法 period end itself');
});

t.test('If-Match: missing 428, stale 412 and nothing changed; concurrent visits: exactly one wins', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('E001', HANAKO);
  const opened = await c.open({ residentCode: 'E001', openedAt: JST('2026-01-15T10:00:00') });
  const id = opened.json().inquiryId;
  const mailed = await c.mail(id, opened.headers.etag as string, '2026-01-15');
  const counts = async () => ({
    events: (await c.events(id)).json().items.length,
    audit: (await h.app.ctx.db.selectFrom('audit_log').select('id').execute()).length,
  });
  const before = await counts();
  const missing = await c.visit(id, undefined, JST('2026-01-15T11:00:00'));
  t.equal(missing.statusCode, 428);
  const stale = await c.visit(id, opened.headers.etag as string, JST('2026-01-15T11:00:00'));
  t.equal(stale.statusCode, 412);
  t.equal(stale.json().type, 'urn:jpki-ward:problem:etagMismatch');
  const star = await c.cancel(id, '*', 'test');
  t.equal(star.statusCode, 412, '* does not stand for the current version');
  t.same(await counts(), before, 'nothing recorded');
  t.same((await c.get(id)).json(), mailed.json(), 'the case is unchanged');

  const both = await Promise.all([
    c.visit(id, mailed.headers.etag as string, JST('2026-01-15T11:00:00')),
    c.visit(id, mailed.headers.etag as string, JST('2026-01-15T11:00:01'), { pinVerified: false }),
  ]);
  t.same(both.map((r) => r.statusCode).sort(), [200, 412], 'one visit wins, the other is told the case changed');
  const after = (await c.get(id)).json();
  t.equal(after.visitCount, 1);
  t.equal(after.version, 3);
  t.equal((await c.events(id)).json().items.length, before.events + 1);
});

t.test('expirations are idempotent; events and the audit log name the actor of every transition', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  const key = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'counter-1', scopes: ['inquiries:write', 'status:read'] } });
  const { keyId, secret } = key.json();
  const c = cases(h, secret);
  await s.register('X001', HANAKO);
  await s.register('X002', { ...HANAKO, name: '新宿 二郎' });
  const ids: string[] = [];
  for (const [code, mailedOn] of [['X001', '2026-01-15'], ['X002', '2026-01-15'], ['X001', '']] as const) {
    const o = await c.open({ residentCode: code, openedAt: JST('2026-01-15T10:00:00') }, { 'x-request-id': `open-${ids.length}` });
    t.equal(o.statusCode, 201, o.body);
    ids.push(o.json().inquiryId);
    if (mailedOn) t.equal((await c.mail(o.json().inquiryId, o.headers.etag as string, mailedOn, { 'x-request-id': `mail-${ids.length}` })).statusCode, 200);
  }
  const forbidden = await h.request({ method: 'POST', url: '/v1/inquiries/expirations', payload: { asOf: JST('2026-01-15T10:00:00') }, auth: null });
  t.equal(forbidden.statusCode, 401);
  t.equal((await c.expirations(JST('2026-01-16T10:00:00'))).statusCode, 422, 'asOf after the service clock');

  const dueSoon = (await c.list('dueBefore=2026-02-17')).json().items.map((i: any) => i.inquiryId);
  t.same(dueSoon.sort(), [ids[0], ids[1]].sort(), 'dueBefore lists mailed cases only');
  const mine = (await c.list('residentCode=X001&limit=1')).json();
  t.equal(mine.items.length, 1);
  const next = (await c.list(`residentCode=X001&limit=1&cursor=${mine.nextCursor}`)).json();
  t.same([mine.items[0].inquiryId, next.items[0].inquiryId], [ids[0], ids[2]], 'cursor pages through');
  t.equal(next.nextCursor, null);

  await s.setClock(JST('2026-02-17T00:00:00'));
  const first = await c.expirations(JST('2026-02-17T00:00:00'));
  t.equal(first.statusCode, 200, first.body);
  t.equal(first.json().expired, 2);
  t.same(first.json().inquiryIds.sort(), [ids[0], ids[1]].sort());
  const states = async () => Promise.all(ids.map(async (id) => (await c.get(id)).json()));
  const once = await states();
  const second = await c.expirations(JST('2026-02-17T00:00:00'));
  t.same(second.json(), { asOf: first.json().asOf, expired: 0, inquiryIds: [] });
  t.same(await states(), once, 'a rerun changes nothing');
  t.same(once.map((i) => i.state), ['expired', 'expired', 'awaitingMailing']);

  const events = (await c.events(ids[0]!)).json().items;
  t.same(events.map((e: any) => [e.action, e.toState, e.actor.keyId]), [['open', 'awaitingMailing', keyId], ['mail', 'mailed', keyId], ['expire', 'expired', keyId]]);
  t.equal(events[0].actor.requestId, 'open-0');
  t.equal(events[1].actor.requestId, 'mail-1');
  const audit = (await h.request({ method: 'GET', url: `/v1/audit-events?resource=inquiries/${ids[0]}` })).json().items;
  t.same(audit.map((a: any) => [a.action, a.keyId]), [['inquiry.open', keyId], ['inquiry.mail', keyId], ['inquiry.expire', keyId]]);
  t.same(audit.map((a: any) => a.requestId), events.map((e: any) => e.actor.requestId), 'the same request ids');
});

t.test('refusals: a legal representative without proof, a voluntary agent for an adult ward, times off the clock', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('F001', { ...HANAKO, adultWard: true });
  const legal = await c.open({ residentCode: 'F001', agent: { kind: 'legalRepresentative', name: '後見 人', identityDocument: 'passport' }, openedAt: JST('2026-01-15T10:00:00') });
  t.equal(legal.statusCode, 422);
  t.equal(legal.json().type, 'urn:jpki-ward:problem:authorityDocumentRequired');
  const ward = await c.open({ residentCode: 'F001', openedAt: JST('2026-01-15T10:00:00') });
  t.equal(ward.statusCode, 422);
  t.equal(ward.json().type, 'urn:jpki-ward:problem:voluntaryAgentForAdultWard');
  t.match(ward.json().detail, /adult ward/);
  const ok = await c.open({ residentCode: 'F001', agent: { kind: 'legalRepresentative', name: '後見 人', identityDocument: 'passport', authorityDocument: '後見登記事項証明書' }, openedAt: JST('2026-01-15T10:00:00') });
  t.equal(ok.statusCode, 201, 'the guardian may');
  const far = await c.open({ residentCode: 'F001', agent: { kind: 'legalRepresentative', name: '後見 人', identityDocument: 'passport', authorityDocument: '後見登記事項証明書' }, openedAt: JST('2026-01-17T10:00:00') });
  t.equal(far.json().type, 'urn:jpki-ward:problem:timeOutOfRange');
  const unknown = await c.open({ residentCode: 'F001', openedAt: JST('2026-01-15T10:00:00'), pin: '1234' });
  t.equal(unknown.statusCode, 400, 'unknown fields are refused');
  t.equal((await h.app.ctx.db.selectFrom('inquiries').select('inquiry_id').execute()).length, 1, 'refusals record nothing');
  const scope = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['status:read'] } });
  const denied = await cases(h, scope.json().secret).open({ residentCode: 'F001', openedAt: JST('2026-01-15T10:00:00') });
  t.equal(denied.statusCode, 403, 'writes need inquiries:write');
});

t.test('an address change cancels open cases (policy on), not closed ones; explicit cancellation', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('M001', HANAKO);
  const a = await c.open({ residentCode: 'M001', openedAt: JST('2026-01-15T10:00:00') });
  const b = await c.open({ residentCode: 'M001', openedAt: JST('2026-01-15T10:00:00'), path: 'withLetter', purpose: 'pinReset' });
  const cancelled = await c.cancel(b.json().inquiryId, b.headers.etag as string, 'agent withdrew');
  t.equal(cancelled.statusCode, 200);
  t.equal(cancelled.json().state, 'cancelled');
  t.equal(cancelled.json().closedReason, 'agent withdrew');
  await s.event('M001', 'addressChanged', JST('2026-01-15T10:30:00'), { address: '東京都新宿区西新宿2-8-1' });
  const after = (await c.get(a.json().inquiryId)).json();
  t.equal(after.state, 'cancelled');
  t.equal(after.closedReason, 'addressChanged');
  const last = (await c.events(a.json().inquiryId)).json().items.at(-1);
  t.equal(last.action, 'cancel');
  t.match(last.details, { reason: 'addressChanged' });
  t.equal((await c.get(b.json().inquiryId)).json().closedReason, 'agent withdrew', 'a closed case stays as it was');

  const off = await testApp(t, { INQUIRY_CANCEL_ON_RESIDENT_CHANGE: 'false' });
  const s2 = lifecycle(off);
  const c2 = cases(off);
  await s2.setClock(JST('2026-01-15T10:00:00'));
  await s2.register('M002', HANAKO);
  const kept = await c2.open({ residentCode: 'M002', openedAt: JST('2026-01-15T10:00:00') });
  await s2.event('M002', 'addressChanged', JST('2026-01-15T10:30:00'), { address: '東京都新宿区西新宿2-8-1' });
  t.equal((await c2.get(kept.json().inquiryId)).json().state, 'awaitingMailing', 'policy off: the case stays open');
});
