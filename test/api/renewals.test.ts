import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import { renewalWindow } from '../../src/domain/renewal-window.js';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';

const JST = (s: string) => `${s}+09:00`;
const NDJSON = 'application/x-ndjson';

t.test('renewals due: the expiry-notice list, as JSON pages and as NDJSON', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  // Issued 2026-01-15, so each certificate expires on the 5th birthday after that day.
  const births: Record<string, string> = { R1: '1990-05-20', R2: '1985-05-31', R3: '1970-03-01', R4: '2000-07-07' };
  const serials: Record<string, string[]> = {};
  for (const [code, dateOfBirth] of Object.entries(births)) {
    await s.register(code, { name: '新宿 花子', address: '東京都新宿区歌舞伎町1-4-1', dateOfBirth, sex: 'female' });
    const { card } = await s.card(code, '2026-01-15', JST('2026-01-15T09:30:00'));
    const ua = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
    const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));
    serials[code] = [ua.certificate.serial, sig.certificate.serial];
  }
  await s.setClock(JST('2026-01-15T11:00:00'));
  const moved = await s.event('R1', 'addressChanged', JST('2026-01-15T10:30:00'), { address: '東京都新宿区西新宿2-8-1' });
  t.equal(moved.revoked.length, 1, "R1's signature certificate is revoked and so needs no notice");

  // R1 expires 2030-05-20 (window 2030-02-21), R2 2030-05-31 (2030-03-01: 2030-02-31 does not exist),
  // R4 2030-07-07 (2030-04-08); R3 2030-03-01 opens 2029-12-02, outside the range.
  const from = '2030-02-21';
  const to = '2030-04-08';
  const expected = [serials.R1![0], ...serials.R2!, ...serials.R4!].sort();

  const pages: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await h.request({ method: 'GET', url: `/v1/renewals/due?windowOpensFrom=${from}&windowOpensTo=${to}&limit=2${cursor ? `&cursor=${cursor}` : ''}` });
    t.equal(res.statusCode, 200, 'a page');
    const body = res.json();
    pages.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  t.same(pages.map((c) => c.serial).sort(), expected, 'every good certificate whose window opens in the range, both ends included');
  for (const c of pages) {
    t.equal(c.windowOpensOn, renewalWindow(Temporal.PlainDate.from(c.expiresOn)).opensOn.toString(), `window of ${c.serial} by the domain rule`);
  }
  t.same(pages.find((c) => c.serial === serials.R2![0])?.windowOpensOn, '2030-03-01');
  t.equal(new Set(pages.map((c) => c.serial)).size, pages.length, 'no certificate twice across pages');

  const streamed = await h.request({ method: 'GET', url: `/v1/renewals/due?windowOpensFrom=${from}&windowOpensTo=${to}`, headers: { accept: NDJSON } });
  t.equal(streamed.statusCode, 200, 'a stream');
  t.match(streamed.headers['content-type'], /^application\/x-ndjson/);
  const lines = streamed.body.trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines, pages, 'NDJSON lists the same certificates in the same order');

  const none = await h.request({ method: 'GET', url: '/v1/renewals/due?windowOpensFrom=2031-01-01&windowOpensTo=2031-01-31', headers: { accept: NDJSON } });
  t.equal(none.statusCode, 200);
  t.equal(none.body, '', 'an empty range streams no lines');

  const backwards = await h.request({ method: 'GET', url: `/v1/renewals/due?windowOpensFrom=${to}&windowOpensTo=${from}` });
  t.equal(backwards.statusCode, 400);
  t.equal(backwards.json().type, 'urn:jpki-ward:problem:invalidRange');
});
