import t from 'tap';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { cases, HANAKO, JST } from './inquiries-support.js';

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
  const guardian = { kind: 'legalRepresentative', name: '後見 人', identityDocument: 'passport', authorityDocument: '後見登記事項証明書' };
  const visitable = await c.open({ residentCode: 'F001', agent: guardian, path: 'withLetter', openedAt: JST('2026-01-15T10:00:00') });
  for (const at of ['2026-01-16T11:00:00', '2026-01-14T09:00:00']) {
    const off = await c.visit(visitable.json().inquiryId, visitable.headers.etag as string, JST(at));
    t.equal(off.statusCode, 422, `visitedAt ${at}: more than a day from the clock`);
    t.equal(off.json().type, 'urn:jpki-ward:problem:timeOutOfRange');
  }
  const inADay = await c.visit(visitable.json().inquiryId, visitable.headers.etag as string, JST('2026-01-16T10:00:00'));
  t.equal(inADay.statusCode, 200, `a day ahead is still in range: ${inADay.body}`);
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
  const b = await c.open({ residentCode: 'M001', openedAt: JST('2026-01-15T10:00:00'), path: 'withLetter', purpose: 'certificateRenewal' });
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

  // Moving abroad and death cancel too: open cases before and after the mailing, each with its reason.
  for (const [code, type, data] of [['M003', 'movedOutAbroad', { continuedUse: false }], ['M004', 'died', {}]] as const) {
    await s.register(code, HANAKO);
    const waiting = await c.open({ residentCode: code, openedAt: JST('2026-01-15T10:00:00') });
    const mailedCase = await c.open({ residentCode: code, openedAt: JST('2026-01-15T10:00:00') });
    t.equal((await c.mail(mailedCase.json().inquiryId, mailedCase.headers.etag as string, '2026-01-15')).statusCode, 200);
    await s.event(code, type, JST('2026-01-15T10:30:00'), data);
    for (const id of [waiting.json().inquiryId, mailedCase.json().inquiryId]) {
      const now = (await c.get(id)).json();
      t.match(now, { state: 'cancelled', closedReason: type, allowedActions: [] }, `${type} cancels ${now.mailedOn ? 'a mailed' : 'an unmailed'} case`);
      t.match((await c.events(id)).json().items.at(-1), { action: 'cancel', toState: 'cancelled', details: { reason: type } });
    }
  }

  const off = await testApp(t, { INQUIRY_CANCEL_ON_RESIDENT_CHANGE: 'false' });
  const s2 = lifecycle(off);
  const c2 = cases(off);
  await s2.setClock(JST('2026-01-15T10:00:00'));
  await s2.register('M002', HANAKO);
  const kept = await c2.open({ residentCode: 'M002', openedAt: JST('2026-01-15T10:00:00') });
  await s2.event('M002', 'addressChanged', JST('2026-01-15T10:30:00'), { address: '東京都新宿区西新宿2-8-1' });
  t.equal((await c2.get(kept.json().inquiryId)).json().state, 'awaitingMailing', 'policy off: the case stays open');
});

t.test('every transition names its actor, in the events and in the audit log: open, mail, each visit outcome, consume, cancel (also by a resident event), expire', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  const key = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'counter-2', scopes: ['inquiries:write', 'certificates:write', 'residents:write', 'status:read'] } });
  const { keyId, secret } = key.json();
  const c = cases(h, secret);
  for (const code of ['A001', 'A002', 'A003']) await s.register(code, HANAKO);
  const { card } = await s.card('A001', '2026-01-15', JST('2026-01-15T09:30:00'));
  const open = async (residentCode: string) => {
    const o = await c.open({ residentCode, openedAt: JST('2026-01-15T10:00:00') });
    t.equal(o.statusCode, 201, o.body);
    return { id: o.json().inquiryId as string, etag: o.headers.etag as string };
  };
  const mail = async (k: { id: string; etag: string }) => {
    const m = await c.mail(k.id, k.etag, '2026-01-15');
    t.equal(m.statusCode, 200, m.body);
    return { id: k.id, etag: m.headers.etag as string };
  };
  const visit = async (k: { id: string; etag: string }, at: string, checks: Record<string, boolean> = {}) => {
    await s.setClock(JST(at));
    const v = await c.visit(k.id, k.etag, JST(at), checks);
    return { id: k.id, etag: v.headers.etag as string, res: v };
  };

  // Opened on 2026-01-15: A001's case is used by the agent, another withdrawn; A002's is cancelled by the
  // resident's address change; A003's two expire, by a late visit and by the expirations batch.
  let used = await mail(await open('A001'));
  const withdrawn = await open('A001');
  const moved = await open('A002');
  const late = await mail(await open('A003'));
  const swept = await mail(await open('A003'));

  used = await visit(used, '2026-01-15T11:00:00', { letterComplete: false });
  used = await visit(used, '2026-01-16T10:00:00', { pinVerified: false });
  const completed = await visit(used, '2026-01-19T10:00:00');
  t.equal(completed.res.json().state, 'completed', completed.res.body);
  const issued = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, auth: secret, payload: { kind: 'userAuthentication', officeId: 'main', receivedAt: JST('2026-01-19T10:05:00'), applicant: { type: 'agent', inquiryId: used.id }, generateKey: true } });
  t.equal(issued.statusCode, 201, issued.body);
  t.equal((await c.cancel(withdrawn.id, withdrawn.etag, 'agent withdrew')).statusCode, 200);
  const event = await h.request({ method: 'POST', url: '/v1/resident-events', auth: secret, payload: { eventId: 'ev-A002-move', residentCode: 'A002', type: 'addressChanged', effectiveAt: JST('2026-01-19T10:00:00'), data: { address: '東京都新宿区西新宿2-8-1' } } });
  t.equal(event.statusCode, 201, event.body);
  const lateVisit = await visit(late, '2026-02-17T10:00:00');
  t.equal(lateVisit.res.statusCode, 409);
  t.equal((await c.expirations(JST('2026-02-17T10:00:00'))).json().expired, 1);

  const expected: Record<string, string[]> = {
    [used.id]: ['open', 'mail', 'visit:letterIncomplete', 'visit:pinMismatch', 'visit:completed', 'consume'],
    [withdrawn.id]: ['open', 'cancel'],
    [moved.id]: ['open', 'cancel'],
    [late.id]: ['open', 'mail', 'visit:expired'],
    [swept.id]: ['open', 'mail', 'expire'],
  };
  for (const [id, transitions] of Object.entries(expected)) {
    const events = (await c.events(id)).json().items;
    t.same(events.map((e: any) => (e.outcome ? `${e.action}:${e.outcome}` : e.action)), transitions, `${id}: every transition is in its history`);
    t.ok(events.every((e: any) => e.actor.keyId === keyId && typeof e.actor.requestId === 'string'), `${id}: each event names the key and the request`);
    const audit = (await h.request({ method: 'GET', url: `/v1/audit-events?resource=inquiries/${id}` })).json().items;
    t.same(audit.map((a: any) => a.action), events.map((e: any) => `inquiry.${e.action}`), `${id}: one audit row per transition`);
    t.ok(audit.every((a: any) => a.keyId === keyId), `${id}: each audit row names the key`);
    t.same(audit.map((a: any) => a.requestId), events.map((e: any) => e.actor.requestId), `${id}: the same requests`);
  }
  const byEvent = (await c.events(moved.id)).json().items.at(-1);
  t.match(byEvent.details, { reason: 'addressChanged', residentEventId: 'ev-A002-move' }, 'the cancellation names the resident event that caused it');
  t.equal(byEvent.actor.requestId, event.headers['x-request-id'], 'and the request that sent it');
});
