import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import { renewalWindow } from '../../src/domain/renewal-window.js';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { opensslCsr, workdir } from '../support/openssl.js';

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

t.test('renewal eligibility: each certificate held on a day, and a new issuance of each kind', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  const person = { name: '新宿 花子', address: '東京都新宿区歌舞伎町1-4-1', sex: 'female' };
  await s.register('E1', { ...person, dateOfBirth: '1990-05-20' });
  const { card } = await s.card('E1', '2026-01-15', JST('2026-01-15T09:30:00'));
  const ua = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));
  const w = workdir();
  t.teardown(() => w.remove());
  const phone = await h.request({ method: 'POST', url: '/v1/residents/E1/smartphone-certificates', payload: { kind: 'signature', deviceId: 'phone-1', csr: await opensslCsr(w, 'p') } });
  t.equal(phone.statusCode, 201);
  // A child (a user-authentication certificate through the legal representative), a lost card, a resident without a card, a deceased one.
  await s.register('E2', { ...person, dateOfBirth: '2015-04-01' });
  const childCard = (await s.card('E2', '2026-01-15', JST('2026-01-15T09:30:00'))).card;
  await s.issue(childCard.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'), { applicant: { type: 'legalRepresentative' } });
  await s.register('E3', { ...person, dateOfBirth: '1980-01-01' });
  const lostCard = (await s.card('E3', '2026-01-15', JST('2026-01-15T09:30:00'))).card;
  const held = await s.issue(lostCard.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  t.equal((await h.request({ method: 'POST', url: `/v1/cards/${lostCard.cardId}/loss-reports`, payload: { reportedAt: JST('2026-01-15T10:05:00') } })).statusCode, 201);
  await s.register('E4', { ...person, dateOfBirth: '1980-01-01' });
  await s.register('E5', { ...person, dateOfBirth: '1950-01-01' });
  await s.card('E5', '2026-01-15', JST('2026-01-15T09:30:00'));
  await s.event('E5', 'died', JST('2026-01-15T09:45:00'));

  const ask = async (code: string, on?: string) => {
    const res = await h.request({ method: 'GET', url: `/v1/residents/${code}/renewal-eligibility${on ? `?on=${on}` : ''}` });
    t.equal(res.statusCode, 200, `${code} on ${on ?? 'today'}`);
    return res.json();
  };
  const bySerial = (body: any) => Object.fromEntries(body.certificates.map((c: any) => [c.serial, c]));
  const renewalFee = { procedure: 'certificateRenewal', currency: 'JPY', total: 0, lines: [{ item: 'certificates', amount: 0 }], exemption: null, scheduleEffectiveFrom: '2016-01-01' };
  const bothKinds = (signature: object, userAuthentication: object) => [{ kind: 'signature', ...signature }, { kind: 'userAuthentication', ...userAuthentication }];
  const eligible = { eligible: true };

  const today = await ask('E1');
  t.equal(today.on, '2026-01-15', '`on` defaults to today by the service clock');

  // The day before the window opens: nothing can be renewed yet.
  const before = await ask('E1', '2030-02-20');
  t.equal(before.on, '2030-02-20');
  t.equal(before.certificates.length, 3);
  const b = bySerial(before);
  for (const c of [ua, sig]) {
    t.same(b[c.certificate.serial], {
      serial: c.certificate.serial, kind: c === ua ? 'userAuthentication' : 'signature', carrier: 'card', expiresOn: '2030-05-20', windowOpensOn: '2030-02-21',
      eligible: false, reason: 'renewalWindowNotOpen', expiresOnIfRenewed: '2035-05-20', fee: null,
    }, `${c === ua ? 'user authentication' : 'signature'}: window not open yet, what a renewal would give`);
  }
  t.same(b[phone.json().certificate.serial], {
    serial: phone.json().certificate.serial, kind: 'signature', carrier: 'smartphone', expiresOn: '2030-05-20', windowOpensOn: '2030-02-21',
    eligible: false, reason: 'followsCardCertificate', expiresOnIfRenewed: null, fee: null,
  }, 'the smartphone certificate is renewed through the card certificate, whatever the day (the most decisive reason)');
  t.same(before.newIssuance, bothKinds(eligible, eligible), 'an adult with an active card could be issued either kind');

  // The day the window opens: renewable, free, to the 6th birthday after that day.
  const opens = bySerial(await ask('E1', '2030-02-21'));
  for (const c of [ua, sig]) {
    const entry = opens[c.certificate.serial];
    t.equal(entry.eligible, true);
    t.notOk('reason' in entry, 'no reason when eligible');
    t.equal(entry.expiresOnIfRenewed, '2035-05-20');
    t.same(entry.fee, { ...renewalFee, on: '2030-02-21' });
  }
  t.equal(opens[phone.json().certificate.serial].reason, 'followsCardCertificate');
  t.same(Object.keys(bySerial(await ask('E1', '2030-05-21'))), [], 'after expiry nothing is held to renew');

  const child = await ask('E2', '2026-01-15');
  t.equal(child.certificates[0].expiresOn, '2030-04-01', "a child's card and certificate: 5th birthday after issuance");
  t.same(child.newIssuance, bothKinds({ eligible: false, reason: 'under15' }, { eligible: false, reason: 'legalRepresentativeRequired' }), 'under 15');
  t.same(bySerial(await ask('E3'))[held.certificate.serial], {
    serial: held.certificate.serial, kind: 'userAuthentication', carrier: 'card', expiresOn: '2031-01-01', windowOpensOn: '2030-10-02',
    eligible: false, reason: 'onHold', expiresOnIfRenewed: '2032-01-01', fee: null,
  }, 'on a lost card: on hold (reissued once found, not renewed)');
  t.same((await ask('E3')).newIssuance, bothKinds({ eligible: false, reason: 'cardNotActive' }, { eligible: false, reason: 'cardNotActive' }), 'no usable card');
  t.same((await ask('E4')).newIssuance, bothKinds({ eligible: false, reason: 'cardNotActive' }, { eligible: false, reason: 'cardNotActive' }), 'no card at all');
  const dead = await ask('E5');
  t.same(dead.certificates, []);
  t.same(dead.newIssuance, bothKinds({ eligible: false, reason: 'residentNotActive' }, { eligible: false, reason: 'residentNotActive' }),
    'deceased (and without a card): residentNotActive wins');
  t.equal((await h.request({ method: 'GET', url: '/v1/residents/E9/renewal-eligibility' })).statusCode, 404);
});
