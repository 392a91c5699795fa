import pg from 'pg';
import t from 'tap';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { cases, HANAKO, JST, lockWaiters } from './inquiries-support.js';

/*
 * The lock order of every inquiry use case: the resident first, then the cases in `seq` order. A
 * resident event holds the resident and locks its cases by `seq`; were the expirations batch to lock
 * cases in another order without the residents, the two could each hold a case the other wants.
 * This test builds exactly that situation and holds it until PostgreSQL's one deadlock check per wait
 * (after deadlock_timeout, 1 s) has passed for both, so a wrong order deadlocks every time.
 */
t.test('expirations and a resident event over residents with several overdue cases: same lock order, no deadlock, no 500', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('L001', HANAKO);
  await s.register('L002', HANAKO);
  const open = async (residentCode: string) => {
    const o = await c.open({ residentCode, openedAt: JST('2026-01-15T10:00:00') });
    if (o.statusCode !== 201) throw new Error(o.body);
    return { id: o.json().inquiryId as string, etag: o.headers.etag as string };
  };
  const gap = (lo: string, hi: string) => parseInt(hi.slice(4, 12), 16) - parseInt(lo.slice(4, 12), 16);

  // L001: two cases whose ids sort against their opening (seq) order: y opened first, x after, x < y.
  const ofL001: { id: string; etag: string }[] = [];
  let pair: [{ id: string; etag: string }, { id: string; etag: string }] | undefined;
  while (ofL001.length < 4 || !pair) {
    if (ofL001.length > 40) throw new Error('no inverted pair of case ids');
    ofL001.push(await open('L001'));
    for (let a = 0; a < ofL001.length; a++) {
      for (let b = a + 1; b < ofL001.length; b++) {
        const [y, x] = [ofL001[a]!, ofL001[b]!];
        if (x.id < y.id && (!pair || gap(x.id, y.id) > gap(pair[1].id, pair[0].id))) pair = [y, x];
      }
    }
  }
  const [y, x] = pair;
  // L002: an overdue case z whose id sorts between them.
  let z: { id: string; etag: string } | undefined;
  for (let i = 0; i < 500 && !z; i++) {
    const o = await open('L002');
    if (x.id < o.id && o.id < y.id) z = o;
  }
  if (!z) throw new Error('no case id between the pair');
  for (const k of [x, y, z]) t.equal((await c.mail(k.id, k.etag, '2026-01-15')).statusCode, 200);

  const blocker = new pg.Client({ connectionString: h.databaseUrl });
  await blocker.connect();
  const byId = (await blocker.query('SELECT inquiry_id FROM inquiries WHERE inquiry_id = ANY($1) ORDER BY inquiry_id', [[x.id, y.id, z.id]])).rows.map((r) => r.inquiry_id);
  t.same(byId, [x.id, z.id, y.id], 'set-up: x < z < y in the database too');
  const bySeq = (await blocker.query('SELECT inquiry_id FROM inquiries WHERE inquiry_id = ANY($1) ORDER BY seq', [[x.id, y.id]])).rows.map((r) => r.inquiry_id);
  t.same(bySeq, [y.id, x.id], 'set-up: y before x in seq order');

  await s.setClock(JST('2026-02-17T10:00:00'));
  await blocker.query('BEGIN');
  await blocker.query('SELECT 1 FROM inquiries WHERE inquiry_id = $1 FOR UPDATE', [z.id]);
  const expirations = c.expirations(JST('2026-02-17T10:00:00'));
  t.equal(await lockWaiters(blocker, 1), 1, 'the expirations wait for z');
  const event = h.request({
    method: 'POST', url: '/v1/resident-events',
    payload: { eventId: 'ev-L001-move', residentCode: 'L001', type: 'addressChanged', effectiveAt: JST('2026-02-17T10:00:00'), data: { address: '東京都新宿区西新宿2-8-1' } },
  });
  t.equal(await lockWaiters(blocker, 2), 2, 'the resident event waits too');
  await new Promise((r) => setTimeout(r, 1500));
  await blocker.query('COMMIT');
  await blocker.end();
  const [expired, moved] = await Promise.all([expirations, event]);

  t.equal(expired.statusCode, 200, expired.body);
  t.same(expired.json().inquiryIds.sort(), [x.id, y.id, z.id].sort(), 'the three overdue cases expired');
  t.equal(moved.statusCode, 201, moved.body);
  for (const k of ofL001) {
    const state = (await c.get(k.id)).json().state;
    t.equal(state, k === x || k === y ? 'expired' : 'cancelled', `${k.id}: expired when overdue, else cancelled by the move`);
  }
  t.notMatch(h.logs(), /40P01/, 'no deadlock, not even one retried away');
});
