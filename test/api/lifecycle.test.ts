import t from 'tap';
import { regenerateStaleCrls } from '../../src/services/certificate-status.js';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { openssl, workdir } from '../support/openssl.js';

const JST = (s: string) => `${s}+09:00`;

t.test('register, card, both certificates; an address change revokes only the signature certificate', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('R001', { name: '新宿 太郎', address: '東京都新宿区歌舞伎町1-4-1', dateOfBirth: '1990-05-20', sex: 'male' });
  const { card, fee: cardFee } = await s.card('R001', '2026-01-15', JST('2026-01-15T09:30:00'));
  t.equal(card.expiresOn, '2035-05-20', 'card: 10th birthday after issuance (adult)');
  t.equal(cardFee.total, 0, 'first card is free');

  const ua = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));
  t.equal(ua.certificate.expiresOn, '2030-05-20', 'user authentication: 5th birthday after issuance');
  t.equal(sig.certificate.expiresOn, '2030-05-20', 'signature: the same, capped by the user-authentication certificate');
  t.equal(sig.certificate.notAfter, '2030-05-20T14:59:59.000Z', 'good through 23:59:59 Japan time');
  t.equal(sig.procedure, 'initial');
  t.equal(sig.fee.total, 0);
  t.match(sig.privateKeyPem, /BEGIN PRIVATE KEY/);

  const w = workdir();
  t.teardown(() => w.remove());
  const caPem = (ca: string) => h.request({ method: 'GET', url: `/pki/${ca}/ca.crt`, headers: { accept: 'application/x-pem-file' }, auth: null }).then((r) => r.body);
  const sigCa = w.file('sig-ca.pem', await caPem('signature'));
  const uaCa = w.file('ua-ca.pem', await caPem('userAuthentication'));
  const sigCert = w.file('sig.pem', sig.certificate.pem);
  const uaCert = w.file('ua.pem', ua.certificate.pem);
  t.equal((await openssl(['verify', '-CAfile', sigCa, sigCert])).code, 0, 'openssl verifies the signature certificate');
  t.match((await openssl(['x509', '-in', sigCert, '-noout', '-text'])).out, /1\.2\.392\.200149\.8\.5\.1\.1\.20/);

  await s.setClock(JST('2026-01-15T11:00:00'));
  const moved = await s.event('R001', 'addressChanged', JST('2026-01-15T10:30:00'), { address: '東京都新宿区西新宿2-8-1' });
  t.same(moved.revoked.map((r: any) => [r.serial, r.reason, r.invalidityDate]), [[sig.certificate.serial, 'affiliationChanged', '2026-01-15T01:30:00.000Z']], 'invalidityDate = effectiveAt');
  t.equal((await s.status(sig.certificate.serial)).status, 'revoked');
  t.equal((await s.status(ua.certificate.serial)).status, 'good', 'user authentication unchanged');
  t.equal((await s.status(sig.certificate.serial, JST('2026-01-15T10:29:59'))).status, 'good', '?at= before the effective time');
  t.equal((await s.status(sig.certificate.serial, JST('2026-01-15T10:30:00'))).status, 'revoked', '?at= from the effective time, though recorded later');
  t.equal((await s.status(sig.certificate.serial, JST('2026-01-15T09:59:59'))).status, 'notYetValid');

  await regenerateStaleCrls(h.app.ctx);
  const crlPem = async (ca: string) => {
    const der = w.file(`${ca}.crl.der`, (await h.request({ method: 'GET', url: `/pki/${ca}/crl`, auth: null })).rawPayload);
    const pem = `${der}.pem`;
    await openssl(['crl', '-inform', 'DER', '-in', der, '-out', pem]);
    return pem;
  };
  const crl = await crlPem('signature');
  const uaCrl = await crlPem('userAuthentication');
  const verdict = await openssl(['verify', '-crl_check', '-CAfile', sigCa, '-CRLfile', crl, sigCert]);
  t.not(verdict.code, 0);
  t.match(verdict.out, /certificate revoked/);
  t.match((await openssl(['crl', '-in', crl, '-noout', '-text'])).out, /Affiliation Changed[\s\S]*Invalidity Date/);
  t.equal((await openssl(['verify', '-crl_check', '-CAfile', uaCa, '-CRLfile', uaCrl, uaCert])).code, 0, 'user authentication passes its CRL check');

  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.app.server.address() as { port: number }).port;
  const ocsp = async (ca: string, caFile: string, certFile: string) =>
    // The service clock is set to January 2026; openssl checks thisUpdate/nextUpdate against the real time.
    (await openssl(['ocsp', '-issuer', caFile, '-cert', certFile, '-url', `http://127.0.0.1:${port}/pki/${ca}/ocsp`, '-CAfile', caFile, '-no_nonce', '-validity_period', '100000000'])).out;
  const sigAnswer = await ocsp('signature', sigCa, sigCert);
  t.match(sigAnswer, /Response verify OK/);
  t.match(sigAnswer, /: revoked[\s\S]*Reason: affiliationChanged/);
  const uaAnswer = await ocsp('userAuthentication', uaCa, uaCert);
  t.match(uaAnswer, /Response verify OK/);
  t.match(uaAnswer, /: good/);
});

t.test('renewal window: refused the day before it opens, 6th birthday on the day it opens, new issuance after expiry', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('R002', { name: '新宿 花子', address: '東京都新宿区四谷1-1', dateOfBirth: '1990-05-20', sex: 'female' });
  const { card } = await s.card('R002', '2026-01-15', JST('2026-01-15T09:30:00'));
  const ua = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));

  await s.setClock(JST('2030-02-20T10:00:00'));
  const early = await s.issue(card.cardId, 'signature', JST('2030-02-20T10:00:00'), {}, 422);
  t.equal(early.type, 'urn:jpki-ward:problem:renewalWindowNotOpen');
  t.equal(early.renewalOpensOn, '2030-02-21');

  await s.setClock(JST('2030-02-21T10:00:00'));
  const uaRenewed = await s.issue(card.cardId, 'userAuthentication', JST('2030-02-21T10:00:00'));
  t.equal(uaRenewed.certificate.expiresOn, '2035-05-20', '6th birthday after the renewal, capped by the card (2035-05-20)');
  const renewed = await s.issue(card.cardId, 'signature', JST('2030-02-21T10:00:00'));
  t.equal(renewed.procedure, 'renewal');
  t.equal(renewed.certificate.expiresOn, '2035-05-20', 'signature: capped by the renewed user-authentication certificate');
  t.same(renewed.superseded, [sig.certificate.serial]);
  const old = await s.status(sig.certificate.serial);
  t.equal(old.status, 'revoked');
  t.equal(old.revocation.reason, 'superseded');

  t.equal((await s.status(ua.certificate.serial)).revocation.reason, 'superseded');

  const h2 = await testApp(t);
  const s2 = lifecycle(h2);
  await s2.setClock(JST('2026-01-15T10:00:00'));
  await s2.register('R003', { name: '新宿 三郎', address: '東京都新宿区四谷2-2', dateOfBirth: '1990-05-20', sex: 'male' });
  const card2 = (await s2.card('R003', '2026-01-15', JST('2026-01-15T09:30:00'))).card;
  const ua2 = await s2.issue(card2.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  await s2.setClock(JST('2030-05-22T10:00:00'));
  t.equal((await s2.status(ua2.certificate.serial)).status, 'expired');
  const fresh = await s2.issue(card2.cardId, 'userAuthentication', JST('2030-05-22T10:00:00'));
  t.equal(fresh.procedure, 'newAfterExpiry');
  t.equal(fresh.fee.total, 0);
});

t.test('refusals: under 15, adult ward, legal representative for under 15; each changes nothing', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-11-30T10:00:00'));
  await s.register('K001', { name: '新宿 次郎', address: '東京都新宿区大久保1-1', dateOfBirth: '2011-12-01', sex: 'male' });
  const { card } = await s.card('K001', '2026-11-30', JST('2026-11-30T09:00:00'));
  t.equal(card.expiresOn, '2030-12-01', 'under 18 at application: 5th birthday after issuance');

  const counts = async () => ({
    certificates: (await h.app.ctx.db.selectFrom('certificates').select('serial').execute()).length,
    audit: (await h.app.ctx.db.selectFrom('audit_log').select('id').execute()).length,
    changes: (await h.app.ctx.db.selectFrom('certificate_status_changes').select('id').execute()).length,
  });
  const before = await counts();
  t.equal((await s.issue(card.cardId, 'signature', JST('2026-11-30T10:00:00'), {}, 422)).type, 'urn:jpki-ward:problem:under15', '14 on 2026-11-30');
  t.equal((await s.issue(card.cardId, 'userAuthentication', JST('2026-11-30T10:00:00'), {}, 422)).type, 'urn:jpki-ward:problem:legalRepresentativeRequired');
  t.same(await counts(), before, 'refusals change nothing');
  await s.issue(card.cardId, 'userAuthentication', JST('2026-11-30T10:00:00'), { applicant: { type: 'legalRepresentative' } });

  await s.setClock(JST('2026-12-01T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-12-01T10:00:00'));
  t.equal(sig.procedure, 'initial', '15 from the birthday');

  await s.event('K001', 'guardianshipStarted', JST('2026-12-01T09:00:00'));
  t.equal((await s.status(sig.certificate.serial)).status, 'revoked');
  t.equal((await s.issue(card.cardId, 'signature', JST('2026-12-01T10:00:00'), {}, 422)).type, 'urn:jpki-ward:problem:adultWard');

  await s.setClock(JST('2026-12-01T19:00:00'));
  const closed = await s.issue(card.cardId, 'userAuthentication', JST('2026-12-01T19:00:00'), { applicant: { type: 'legalRepresentative' } }, 422);
  t.equal(closed.type, 'urn:jpki-ward:problem:officeClosed', 'Tuesday counters close at 19:00 sharp');
});

t.test('loss, hold in API/CRL/OCSP, recovery revokes; a new device revokes the old smartphone certificates', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-03-02T10:00:00'));
  await s.register('L001', { name: '落合 一郎', address: '東京都新宿区上落合1-1', dateOfBirth: '1980-03-03', sex: 'male' });
  const { card } = await s.card('L001', '2026-03-02', JST('2026-03-02T09:00:00'));
  const ua = await s.issue(card.cardId, 'userAuthentication', JST('2026-03-02T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-03-02T10:00:00'));

  const w = workdir();
  t.teardown(() => w.remove());
  const csr = (await import('../support/openssl.js')).opensslCsr;
  const phone1 = await h.request({ method: 'POST', url: '/v1/residents/L001/smartphone-certificates', payload: { kind: 'signature', deviceId: 'phone-1', csr: await csr(w, 'p1') } });
  t.equal(phone1.statusCode, 201);
  t.equal(phone1.json().certificate.expiresOn, sig.certificate.expiresOn, 'follows the card certificate');
  const phone2 = await h.request({ method: 'POST', url: '/v1/residents/L001/smartphone-certificates', payload: { kind: 'signature', deviceId: 'phone-2', csr: await csr(w, 'p2') } });
  t.same(phone2.json().superseded, [phone1.json().certificate.serial], 'a new device revokes the old one');
  t.equal((await s.status(phone1.json().certificate.serial)).revocation.reason, 'cessationOfOperation');

  const lost = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/loss-reports`, payload: { reportedAt: JST('2026-03-02T08:00:00'), stolen: true } });
  t.equal(lost.statusCode, 201);
  t.same(lost.json().held.map((x: any) => x.serial).sort(), [ua.certificate.serial, sig.certificate.serial].sort());
  t.equal((await s.status(sig.certificate.serial)).status, 'onHold');
  t.equal((await s.status(phone2.json().certificate.serial)).status, 'good', 'the smartphone is untouched');

  await regenerateStaleCrls(h.app.ctx);
  const crl = (await h.request({ method: 'GET', url: '/pki/signature/crl', auth: null })).rawPayload;
  t.match((await openssl(['crl', '-inform', 'DER', '-in', w.file('s.crl', crl), '-noout', '-text'])).out, /Certificate Hold/);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.app.server.address() as { port: number }).port;
  const caFile = w.file('ca.pem', (await h.request({ method: 'GET', url: '/pki/signature/ca.crt', headers: { accept: 'application/x-pem-file' }, auth: null })).body);
  const held = await openssl(['ocsp', '-issuer', caFile, '-cert', w.file('sig.pem', sig.certificate.pem), '-url', `http://127.0.0.1:${port}/pki/signature/ocsp`, '-CAfile', caFile, '-no_nonce', '-validity_period', '100000000']);
  t.match(held.out, /Response verify OK/);
  t.match(held.out, /revoked[\s\S]*certificateHold/, 'OCSP says held (revoked, certificateHold)');

  const found = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/recoveries`, payload: { foundAt: JST('2026-03-02T09:30:00') } });
  t.equal(found.statusCode, 201);
  t.same(found.json().revoked.map((x: any) => x.reason), ['keyCompromise', 'keyCompromise'], 'stolen: keyCompromise');
  t.equal(found.json().reissueFee.total, 200);
  const reissued = await s.issue(card.cardId, 'signature', JST('2026-03-02T10:00:00'));
  t.equal(reissued.procedure, 'reissue');
  t.equal(reissued.fee.total, 200);
});

t.test('replays: the same eventId or Idempotency-Key answers the first time again and does nothing', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('P001', { name: '戸塚 三郎', address: '東京都新宿区高田馬場1-1', dateOfBirth: '1970-07-07', sex: 'male' });
  const { card } = await s.card('P001', '2026-01-15', JST('2026-01-15T09:00:00'));
  await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));

  const event = { eventId: 'move-1', residentCode: 'P001', type: 'addressChanged', effectiveAt: JST('2026-01-15T09:00:00'), data: { address: '東京都新宿区西早稲田1-1' } };
  const first = await h.request({ method: 'POST', url: '/v1/resident-events', payload: event });
  const again = await h.request({ method: 'POST', url: '/v1/resident-events', payload: event });
  t.equal(first.statusCode, 201);
  t.equal(again.statusCode, 200);
  t.same(again.json(), first.json());
  const other = await h.request({ method: 'POST', url: '/v1/resident-events', payload: { ...event, data: { address: 'elsewhere' } } });
  t.equal(other.statusCode, 422);
  // Sent at once: the transactions race on the event id; the losers retry and answer the winner's 201 as 200.
  const racing = { ...event, eventId: 'move-2', data: { address: '東京都新宿区大久保1-1' } };
  const raced = await Promise.all(Array.from({ length: 6 }, () => h.request({ method: 'POST', url: '/v1/resident-events', payload: racing })));
  t.same(raced.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201], 'one applied, the others replayed');
  for (const r of raced) t.same(r.json(), raced.find((x) => x.statusCode === 201)!.json());
  const changes = await h.app.ctx.db.selectFrom('certificate_status_changes').select('id').where('serial', '=', sig.certificate.serial).execute();
  t.equal(changes.length, 2, 'issued, then revoked once (the second move found it revoked already)');

  const issuance = { kind: 'signature', officeId: 'main', receivedAt: JST('2026-01-15T10:00:00'), applicant: { type: 'self' }, generateKey: true };
  const a = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, headers: { 'idempotency-key': 'issue-1' }, payload: issuance });
  const b = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, headers: { 'idempotency-key': 'issue-1' }, payload: issuance });
  t.equal(a.statusCode, 201);
  t.equal(b.statusCode, 201);
  t.equal(b.json().certificate.serial, a.json().certificate.serial);
  t.notOk(b.json().privateKeyPem, 'the generated key is not kept');
  t.equal(b.json().privateKeyOmitted, true);
  const total = await h.app.ctx.db.selectFrom('certificates').select('serial').execute();
  t.equal(total.length, 3);

  const r1 = await h.request({ method: 'POST', url: `/v1/certificates/${a.json().certificate.serial}/revocation`, headers: { 'idempotency-key': 'rev-1' }, payload: { reason: 'holderRequest' } });
  const r2 = await h.request({ method: 'POST', url: `/v1/certificates/${a.json().certificate.serial}/revocation`, headers: { 'idempotency-key': 'rev-1' }, payload: { reason: 'holderRequest' } });
  t.equal(r1.statusCode, 201);
  t.same(r2.json(), r1.json());
  const twice = await h.request({ method: 'POST', url: `/v1/certificates/${a.json().certificate.serial}/revocation`, payload: { reason: 'holderRequest' } });
  t.equal(twice.statusCode, 409);
});
