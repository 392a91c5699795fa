import pg from 'pg';
import t from 'tap';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { cases, HANAKO, JST, lockWaiters } from './inquiries-support.js';

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
  t.same(late.json().allowedActions, [], 'like every 409 on a case: what the state allows now (nothing: a new case is needed)');
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

t.test('a visit on the rolled due day (2026-02-16 for a letter mailed 2026-01-15) is still accepted', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('D003', HANAKO);
  const opened = await c.open({ residentCode: 'D003', openedAt: JST('2026-01-15T10:00:00') });
  const id = opened.json().inquiryId;
  const mailed = await c.mail(id, opened.headers.etag as string, '2026-01-15');
  t.equal(mailed.json().periodEndsOn, '2026-02-15');
  t.equal(mailed.json().dueOn, '2026-02-16');
  await s.setClock(JST('2026-02-16T16:59:00'));
  const onDueDay = await c.visit(id, mailed.headers.etag as string, JST('2026-02-16T16:59:00'));
  t.equal(onDueDay.statusCode, 200, onDueDay.body);
  t.equal(onDueDay.json().state, 'completed', 'the rolled due day is a whole day for the answer');
  const swept = await c.expirations(JST('2026-02-16T16:59:00'));
  t.equal(swept.json().expired, 0, 'and the expirations batch leaves it alone that day');
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

  // Both requests are made to wait on the resident's row (the first lock every visit takes), held from
  // another connection, so they certainly overlap; then the lock is released and they race.
  const blocker = new pg.Client({ connectionString: h.databaseUrl });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query("SELECT 1 FROM residents WHERE resident_code = 'E001' FOR UPDATE");
  const racing = Promise.all([
    c.visit(id, mailed.headers.etag as string, JST('2026-01-15T11:00:00')),
    c.visit(id, mailed.headers.etag as string, JST('2026-01-15T11:00:01'), { pinVerified: false }),
  ]);
  t.equal(await lockWaiters(blocker, 2), 2, 'both visits are waiting at the same time');
  await blocker.query('COMMIT');
  await blocker.end();
  const both = await racing;
  t.same(both.map((r) => r.statusCode).sort(), [200, 412], 'one visit wins, the other is told the case changed');
  const after = (await c.get(id)).json();
  t.equal(after.visitCount, 1);
  t.equal(after.version, 3);
  const events = (await c.events(id)).json().items;
  t.equal(events.length, before.events + 1);
  t.equal(events.filter((e: any) => e.action === 'visit').length, 1, 'exactly one visit recorded');
});
