import t from 'tap';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { cases, HANAKO, JST } from './inquiries-support.js';

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

  // Not completed that day: the case takes no further visit on 2026-02-16, however good.
  const sameDay = await c.visit(id, blank.headers.etag as string, JST('2026-02-16T14:00:00'));
  t.equal(sameDay.statusCode, 409, sameDay.body);
  t.equal(sameDay.json().type, 'urn:jpki-ward:problem:inquiryComeAgainLater');
  t.match(sameDay.json(), { state: 'mailed', comeAgainFrom: '2026-02-17', dueOn: '2026-03-02', lastFailedVisit: { outcome: 'letterIncomplete' } });
  t.same(sameDay.json().allowedActions, ['visit', 'expire', 'cancel']);
  const unchanged = await c.get(id);
  t.equal(unchanged.headers.etag, blank.headers.etag, 'nothing changed');
  t.equal(unchanged.json().visitCount, 1);

  await s.setClock(JST('2026-02-17T10:00:00'));
  const wrongPin = await c.visit(id, blank.headers.etag as string, JST('2026-02-17T10:00:00'), { pinVerified: false });
  t.equal(wrongPin.statusCode, 200, wrongPin.body);
  t.equal(wrongPin.json().lastVisitOutcome, 'pinMismatch');
  t.equal(wrongPin.json().state, 'mailed');
  const afterWrongPin = await c.visit(id, wrongPin.headers.etag as string, JST('2026-02-17T16:30:00'));
  t.equal(afterWrongPin.json().type, 'urn:jpki-ward:problem:inquiryComeAgainLater', 'a wrong PIN: not completed that day either');
  t.match(afterWrongPin.json(), { comeAgainFrom: '2026-02-18', lastFailedVisit: { outcome: 'pinMismatch' } });

  await s.setClock(JST('2026-02-18T10:00:00'));
  const closed = await c.visit(id, wrongPin.headers.etag as string, JST('2026-02-18T08:00:00'));
  t.equal(closed.statusCode, 422, 'before opening time');
  t.equal(closed.json().type, 'urn:jpki-ward:problem:officeClosed');

  const good = await c.visit(id, wrongPin.headers.etag as string, JST('2026-02-18T10:00:00'));
  t.equal(good.statusCode, 200, good.body);
  t.equal(good.json().state, 'completed');
  t.equal(good.json().visitCount, 3);

  const issue = (kind: string) => h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, payload: { kind, officeId: 'main', receivedAt: JST('2026-02-18T10:10:00'), applicant: { type: 'agent', inquiryId: id }, generateKey: true } });
  const issued = await issue('userAuthentication');
  t.equal(issued.statusCode, 201, issued.body);
  t.equal(issued.json().procedure, 'initial');
  t.equal((await c.get(id)).json().state, 'consumed');
  const again = await issue('signature');
  t.equal(again.statusCode, 409, 'a case authorises one procedure');
  t.equal(again.json().type, 'urn:jpki-ward:problem:inquiryAlreadyUsed');
  t.same(again.json().allowedActions, [], 'a consumed case allows nothing more');

  const none = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, payload: { kind: 'signature', officeId: 'main', receivedAt: JST('2026-02-18T10:10:00'), applicant: { type: 'agent' }, generateKey: true } });
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

