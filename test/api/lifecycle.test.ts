import t, { type Test } from 'tap';
import { sql } from 'kysely';
import { CA_IDS, type CaId } from '../../src/pki/index.js';
import { regenerateCrl, regenerateStaleCrls } from '../../src/services/certificate-status.js';
import { testApp, type TestApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { openssl, opensslCsr, workdir } from '../support/openssl.js';

const JST = (s: string) => `${s}+09:00`;
const problem = (type: string) => `urn:jpki-ward:problem:${type}`;

/** openssl judging what the service publishes: CA certificates, the latest CRLs, the OCSP responders. */
function judge(t: Test, h: TestApp) {
  const w = workdir();
  t.teardown(() => w.remove());
  let n = 0;
  let port = 0;
  const caFile = async (ca: CaId) =>
    w.file(`${ca}-ca.pem`, (await h.request({ method: 'GET', url: `/pki/${ca}/ca.crt`, headers: { accept: 'application/x-pem-file' }, auth: null })).body);
  const crlFile = async (ca: CaId) => {
    const der = w.file(`${ca}-${++n}.crl.der`, (await h.request({ method: 'GET', url: `/pki/${ca}/crl`, auth: null })).rawPayload);
    await openssl(['crl', '-inform', 'DER', '-in', der, '-out', `${der}.pem`]);
    return `${der}.pem`;
  };
  const crlText = async (ca: CaId) => (await openssl(['crl', '-in', await crlFile(ca), '-noout', '-text'])).out;
  return {
    w,
    caFile,
    crlFile,
    crlText,
    /** Entries of each CA's CRL, published afresh from the database as it is now (not the stored status changes). */
    crlEntries: async () => {
      const entries: Record<string, number> = {};
      for (const ca of CA_IDS) {
        await regenerateCrl(h.app.ctx, ca);
        entries[ca] = ((await crlText(ca)).match(/Serial Number:/g) ?? []).length;
      }
      return entries;
    },
    verify: async (ca: CaId, pem: string) =>
      openssl(['verify', '-crl_check', '-CAfile', await caFile(ca), '-CRLfile', await crlFile(ca), w.file(`cert-${++n}.pem`, pem)]),
    ocsp: async (ca: CaId, pem: string) => {
      if (!port) {
        await h.app.listen({ port: 0, host: '127.0.0.1' });
        port = (h.app.server.address() as { port: number }).port;
      }
      const issuer = await caFile(ca);
      // The service clock is moved; openssl checks thisUpdate/nextUpdate against the real time.
      return (await openssl(['ocsp', '-issuer', issuer, '-cert', w.file(`cert-${++n}.pem`, pem), '-url', `http://127.0.0.1:${port}/pki/${ca}/ocsp`,
        '-CAfile', issuer, '-no_nonce', '-validity_period', '100000000'])).out;
    },
  };
}

/** Rows that any write would add to, and the entries of freshly published CRLs. */
async function counts(h: TestApp, pki: ReturnType<typeof judge>) {
  const rows = async (table: string) => Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(h.app.ctx.db)).rows[0]!.n);
  return {
    certificates: await rows('certificates'),
    statusChanges: await rows('certificate_status_changes'),
    audit: await rows('audit_log'),
    residentEvents: await rows('resident_events'),
    cards: await rows('cards'),
    crlEntries: await pki.crlEntries(),
  };
}

t.test('register, card, both certificates; an address change revokes only the signature certificate', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const pki = judge(t, h);
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

  const sigCert = pki.w.file('sig.pem', sig.certificate.pem);
  t.equal((await openssl(['verify', '-CAfile', await pki.caFile('signature'), sigCert])).code, 0, 'openssl verifies the signature certificate');
  t.match((await openssl(['x509', '-in', sigCert, '-noout', '-text'])).out, /1\.2\.392\.200149\.8\.5\.1\.1\.20/);

  await s.setClock(JST('2026-01-15T11:00:00'));
  const moved = await s.event('R001', 'addressChanged', JST('2026-01-15T10:30:00'), { address: '東京都新宿区西新宿2-8-1' });
  t.same(moved.revoked.map((r: any) => [r.serial, r.reason, r.invalidityDate]), [[sig.certificate.serial, 'affiliationChanged', '2026-01-15T01:30:00.000Z']], 'invalidityDate = effectiveAt');
  t.equal((await s.status(sig.certificate.serial)).status, 'revoked');
  t.equal((await s.status(ua.certificate.serial)).status, 'good', 'user authentication unchanged');
  t.equal((await s.status(sig.certificate.serial, JST('2026-01-15T10:29:59'))).status, 'good', '?at= before the effective time');
  t.equal((await s.status(sig.certificate.serial, JST('2026-01-15T10:30:00'))).status, 'revoked', '?at= from the effective time, though recorded later');
  t.equal((await s.status(sig.certificate.serial, JST('2026-01-15T09:59:59'))).status, 'notYetValid');

  // The resident's list: filtered by the status at `at` (default now).
  const list = async (query: string) => {
    const res = await h.request({ method: 'GET', url: `/v1/residents/R001/certificates?${query}` });
    t.equal(res.statusCode, 200, `list ?${query}`);
    return res.json().items.map((c: any) => [c.serial, c.status, c.revocation?.reason ?? null]);
  };
  const [U, S] = [ua.certificate.serial, sig.certificate.serial];
  t.same(await list('status=revoked'), [[S, 'revoked', 'affiliationChanged']], 'now: the signature certificate is revoked');
  t.same(await list('status=good'), [[U, 'good', null]], 'now: only the user-authentication certificate is good');
  t.same((await list('')).map((c: any[]) => c[0]).sort(), [U, S].sort(), 'no filter: both');
  const before = encodeURIComponent(JST('2026-01-15T10:29:59'));
  const after = encodeURIComponent(JST('2026-01-15T10:30:00'));
  t.same((await list(`at=${before}&status=good`)).map((c: any[]) => c[0]).sort(), [U, S].sort(), 'a second before the effective time both were good');
  t.same(await list(`at=${before}&status=revoked`), [], 'and none revoked');
  t.same(await list(`at=${after}&status=revoked`), [[S, 'revoked', 'affiliationChanged']], 'from the effective time the signature certificate is revoked');
  t.same((await list(`at=${encodeURIComponent(JST('2026-01-15T09:59:59'))}&status=notYetValid`)).length, 2, 'before issuance: notYetValid');
  t.equal((await h.request({ method: 'GET', url: '/v1/residents/R001/certificates?status=lost' })).statusCode, 400, 'an unknown status is refused');
  t.equal((await h.request({ method: 'GET', url: '/v1/residents/R999/certificates' })).statusCode, 404);

  await regenerateStaleCrls(h.app.ctx);
  const verdict = await pki.verify('signature', sig.certificate.pem);
  t.not(verdict.code, 0);
  t.match(verdict.out, /certificate revoked/);
  t.match(await pki.crlText('signature'), /Affiliation Changed[\s\S]*Invalidity Date/);
  t.equal((await pki.verify('userAuthentication', ua.certificate.pem)).code, 0, 'user authentication passes its CRL check');

  const sigAnswer = await pki.ocsp('signature', sig.certificate.pem);
  t.match(sigAnswer, /Response verify OK/);
  t.match(sigAnswer, /: revoked[\s\S]*Reason: affiliationChanged/);
  const uaAnswer = await pki.ocsp('userAuthentication', ua.certificate.pem);
  t.match(uaAnswer, /Response verify OK/);
  t.match(uaAnswer, /: good/);
});

t.test('renewal window: refused the day before it opens, 6th birthday on the day it opens (capped by the card), new issuance after expiry', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('R002', { name: '新宿 花子', address: '東京都新宿区四谷1-1', dateOfBirth: '1990-05-20', sex: 'female' });
  const { card } = await s.card('R002', '2026-01-15', JST('2026-01-15T09:30:00'));
  const ua = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));
  // A foreign resident whose stay ends 2033-03-31: the card ends then, before the 6th birthday after a renewal (2035-05-20).
  await s.register('R004', { name: 'SMITH JANE', address: '東京都新宿区四谷3-3', dateOfBirth: '1990-05-20', sex: 'female', stayUntil: '2033-03-31' });
  const shortCard = (await s.card('R004', '2026-01-15', JST('2026-01-15T09:30:00'))).card;
  t.equal(shortCard.expiresOn, '2033-03-31', 'the card ends with the period of stay');
  await s.issue(shortCard.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  await s.issue(shortCard.cardId, 'signature', JST('2026-01-15T10:00:00'));

  await s.setClock(JST('2030-02-20T10:00:00'));
  const early = await s.issue(card.cardId, 'signature', JST('2030-02-20T10:00:00'), {}, 422);
  t.equal(early.type, problem('renewalWindowNotOpen'));
  t.equal(early.renewalOpensOn, '2030-02-21');

  await s.setClock(JST('2030-02-21T10:00:00'));
  const uaRenewed = await s.issue(card.cardId, 'userAuthentication', JST('2030-02-21T10:00:00'));
  t.equal(uaRenewed.procedure, 'renewal');
  t.equal(uaRenewed.certificate.expiresOn, '2035-05-20', '6th birthday after the renewal (the card ends the same day)');
  const renewed = await s.issue(card.cardId, 'signature', JST('2030-02-21T10:00:00'));
  t.equal(renewed.procedure, 'renewal');
  t.equal(renewed.certificate.expiresOn, '2035-05-20', 'signature: capped by the renewed user-authentication certificate');
  t.same(renewed.superseded, [sig.certificate.serial]);
  const old = await s.status(sig.certificate.serial);
  t.equal(old.status, 'revoked');
  t.equal(old.revocation.reason, 'superseded');
  t.equal((await s.status(ua.certificate.serial)).revocation.reason, 'superseded');

  const capped = await s.issue(shortCard.cardId, 'userAuthentication', JST('2030-02-21T10:00:00'));
  t.equal(capped.procedure, 'renewal');
  t.equal(capped.certificate.expiresOn, '2033-03-31', 'the 6th birthday (2035-05-20) is capped by the card');
  t.equal((await s.issue(shortCard.cardId, 'signature', JST('2030-02-21T10:00:00'))).certificate.expiresOn, '2033-03-31');

  const h2 = await testApp(t);
  const s2 = lifecycle(h2);
  await s2.setClock(JST('2026-01-15T10:00:00'));
  await s2.register('R003', { name: '新宿 三郎', address: '東京都新宿区四谷2-2', dateOfBirth: '1990-05-20', sex: 'male' });
  const card2 = (await s2.card('R003', '2026-01-15', JST('2026-01-15T09:30:00'))).card;
  const ua2 = await s2.issue(card2.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig2 = await s2.issue(card2.cardId, 'signature', JST('2026-01-15T10:00:00'));
  await s2.setClock(JST('2030-05-22T10:00:00'));
  t.equal((await s2.status(ua2.certificate.serial)).status, 'expired');
  t.equal((await s2.status(sig2.certificate.serial)).status, 'expired');
  const fresh = await s2.issue(card2.cardId, 'userAuthentication', JST('2030-05-22T10:00:00'));
  t.equal(fresh.procedure, 'newAfterExpiry');
  t.equal(fresh.fee.total, 0);
  t.equal(fresh.certificate.expiresOn, '2035-05-20', '5th birthday after the new issuance, as for any new issuance');
  const freshSig = await s2.issue(card2.cardId, 'signature', JST('2030-05-22T10:00:00'));
  t.equal(freshSig.procedure, 'newAfterExpiry', 'the signature certificate too');
  t.equal(freshSig.fee.procedure, 'certificateNewAfterExpiry');
  t.equal(freshSig.fee.total, 0);
  t.same(freshSig.superseded, [], 'nothing to supersede: the old one has expired');
});

t.test('refusals: each type is refused and changes nothing (certificates, audit, events, cards, CRL entries)', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const pki = judge(t, h);
  await s.setClock(JST('2026-11-30T10:00:00'));
  await s.register('K001', { name: '新宿 次郎', address: '東京都新宿区大久保1-1', dateOfBirth: '2011-12-01', sex: 'male' });
  const { card } = await s.card('K001', '2026-11-30', JST('2026-11-30T09:00:00'));
  t.equal(card.expiresOn, '2030-12-01', 'under 18 at application: 5th birthday after issuance');
  // Others whose state a refusal needs: a lost card, a deceased resident, a resident who moved abroad.
  const holder = async (code: string) => {
    await s.register(code, { name: '新宿 四郎', address: '東京都新宿区大久保2-2', dateOfBirth: '1975-06-06', sex: 'male' });
    const c = (await s.card(code, '2026-11-30', JST('2026-11-30T09:00:00'))).card;
    await s.issue(c.cardId, 'userAuthentication', JST('2026-11-30T10:00:00'));
    return c;
  };
  const lost = await holder('L002');
  t.equal((await h.request({ method: 'POST', url: `/v1/cards/${lost.cardId}/loss-reports`, payload: { reportedAt: JST('2026-11-30T10:05:00') } })).statusCode, 201);
  const deceased = await holder('D001');
  await s.event('D001', 'died', JST('2026-11-30T10:10:00'));
  t.equal((await h.request({ method: 'GET', url: '/v1/residents/D001' })).json().status, 'deceased', 'status after died');
  const abroad = await holder('M001');
  await s.event('M001', 'movedOutAbroad', JST('2026-11-30T10:10:00'), { continuedUse: false });
  t.equal((await h.request({ method: 'GET', url: '/v1/residents/M001' })).json().status, 'movedOutAbroad');

  const issuance = (cardId: string, kind: string, receivedAt: string, extra: Record<string, unknown> = {}) => () =>
    h.request({ method: 'POST', url: `/v1/cards/${cardId}/certificates`, payload: { kind, officeId: 'main', receivedAt, applicant: { type: 'self' }, generateKey: true, ...extra } });
  const event = (payload: Record<string, unknown>) => () => h.request({ method: 'POST', url: '/v1/resident-events', payload });
  const seen = new Set<string>();
  const refused = async (send: () => ReturnType<TestApp['request']>, status: number, type: string, label: string) => {
    const before = await counts(h, pki);
    const res = await send();
    t.equal(res.statusCode, status, `${label}: ${status}`);
    t.equal(res.json().type, problem(type), `${label}: ${type}`);
    t.same(await counts(h, pki), before, `${label}: nothing changed`);
    seen.add(type);
  };

  await refused(issuance(card.cardId, 'signature', JST('2026-11-30T10:00:00')), 422, 'under15', '14 on 2026-11-30');
  await refused(issuance(card.cardId, 'userAuthentication', JST('2026-11-30T10:00:00')), 422, 'legalRepresentativeRequired', 'an under-15 applying alone');
  await refused(issuance(lost.cardId, 'userAuthentication', JST('2026-11-30T10:00:00')), 422, 'cardNotActive', 'issuance onto a lost card');
  await refused(() => h.request({ method: 'POST', url: `/v1/cards/${lost.cardId}/loss-reports`, payload: { reportedAt: JST('2026-11-30T10:20:00') } }),
    422, 'cardNotActive', 'a lost card reported lost again');
  await refused(issuance(deceased.cardId, 'userAuthentication', JST('2026-11-30T10:00:00')), 422, 'residentNotActive', 'issuance for a deceased resident');
  await refused(issuance(abroad.cardId, 'userAuthentication', JST('2026-11-30T10:00:00')), 422, 'residentNotActive', 'issuance after a move abroad without continued use');
  await refused(issuance(card.cardId, 'userAuthentication', JST('2026-11-28T10:00:00'), { applicant: { type: 'legalRepresentative' } }),
    422, 'timeOutOfRange', 'receivedAt two days before the clock');
  await refused(issuance(card.cardId, 'userAuthentication', JST('2026-12-01T12:00:00'), { applicant: { type: 'legalRepresentative' } }),
    422, 'timeOutOfRange', 'receivedAt more than a day after the clock');
  await refused(event({ eventId: 'reg-K001', residentCode: 'K001', type: 'registered', effectiveAt: '2000-01-01T00:00:00+09:00', data: { name: '別人', address: '東京都新宿区大久保1-1', dateOfBirth: '2011-12-01', sex: 'male' } }),
    422, 'eventIdReused', 'an eventId sent again with another body');
  await refused(event({ eventId: 'nobody-1', residentCode: 'R999', type: 'addressChanged', effectiveAt: JST('2026-11-30T09:00:00'), data: { address: '東京都新宿区百人町1-1' } }),
    404, 'notFound', 'an event for an unknown resident');
  await refused(event({ eventId: 'ahead-1', residentCode: 'K001', type: 'addressChanged', effectiveAt: JST('2026-12-01T12:00:00'), data: { address: '東京都新宿区百人町1-1' } }),
    422, 'timeInFuture', 'effectiveAt more than a day ahead');

  await s.issue(card.cardId, 'userAuthentication', JST('2026-11-30T10:00:00'), { applicant: { type: 'legalRepresentative' } });
  await s.setClock(JST('2026-12-01T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-12-01T10:00:00'));
  t.equal(sig.procedure, 'initial', '15 from the birthday');
  await refused(issuance(card.cardId, 'userAuthentication', JST('2026-12-01T10:00:00')), 422, 'renewalWindowNotOpen', 'a second user-authentication certificate years before expiry');

  await s.event('K001', 'guardianshipStarted', JST('2026-12-01T09:00:00'));
  t.equal((await s.status(sig.certificate.serial)).status, 'revoked');
  await refused(issuance(card.cardId, 'signature', JST('2026-12-01T10:00:00')), 422, 'adultWard', 'a signature certificate for an adult ward');

  await s.setClock(JST('2026-12-01T19:00:00'));
  await refused(issuance(card.cardId, 'userAuthentication', JST('2026-12-01T19:00:00'), { applicant: { type: 'legalRepresentative' } }),
    422, 'officeClosed', 'Tuesday counters close at 19:00 sharp');
  t.same([...seen].sort(), ['adultWard', 'cardNotActive', 'eventIdReused', 'legalRepresentativeRequired', 'notFound', 'officeClosed', 'renewalWindowNotOpen',
    'residentNotActive', 'timeInFuture', 'timeOutOfRange', 'under15'], 'every refusal type was tried');
});

t.test('loss, hold in API/CRL/OCSP, recovery revokes; a new device revokes the old smartphone certificates', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const pki = judge(t, h);
  await s.setClock(JST('2026-03-02T10:00:00'));
  await s.register('L001', { name: '落合 一郎', address: '東京都新宿区上落合1-1', dateOfBirth: '1980-03-03', sex: 'male' });
  const { card } = await s.card('L001', '2026-03-02', JST('2026-03-02T09:00:00'));
  const ua = await s.issue(card.cardId, 'userAuthentication', JST('2026-03-02T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-03-02T10:00:00'));

  const csr = (name: string) => opensslCsr(pki.w, name);
  const phone1 = await h.request({ method: 'POST', url: '/v1/residents/L001/smartphone-certificates', payload: { kind: 'signature', deviceId: 'phone-1', csr: await csr('p1') } });
  t.equal(phone1.statusCode, 201);
  t.equal(phone1.json().certificate.expiresOn, sig.certificate.expiresOn, 'follows the card certificate');
  const phone2 = await h.request({ method: 'POST', url: '/v1/residents/L001/smartphone-certificates', payload: { kind: 'signature', deviceId: 'phone-2', csr: await csr('p2') } });
  t.same(phone2.json().superseded, [phone1.json().certificate.serial], 'a new device revokes the old one');
  t.equal((await s.status(phone1.json().certificate.serial)).revocation.reason, 'cessationOfOperation');

  // Reported lost as of 08:00, before the certificates were issued at 10:00: a hold cannot take effect
  // before a certificate exists, so it starts at each certificate's notBefore.
  const lost = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/loss-reports`, payload: { reportedAt: JST('2026-03-02T08:00:00'), stolen: true } });
  t.equal(lost.statusCode, 201);
  t.same(lost.json().held.map((x: any) => x.serial).sort(), [ua.certificate.serial, sig.certificate.serial].sort());
  t.equal(lost.json().held.find((x: any) => x.serial === sig.certificate.serial).invalidityDate, sig.certificate.notBefore, 'the hold starts when the certificate began');
  t.equal((await s.status(sig.certificate.serial)).status, 'onHold');
  const justBefore = new Date(Date.parse(sig.certificate.notBefore) - 1).toISOString();
  t.equal((await s.status(sig.certificate.serial, JST('2026-03-02T09:00:00'))).status, 'notYetValid', '?at= between the reported loss and issuance: not yet valid, not on hold');
  t.equal((await s.status(sig.certificate.serial, justBefore)).status, 'notYetValid', '?at= a millisecond before notBefore');
  t.equal((await s.status(sig.certificate.serial, sig.certificate.notBefore)).status, 'onHold', '?at= notBefore: on hold');
  t.equal((await s.status(phone2.json().certificate.serial)).status, 'good', 'the smartphone is untouched');

  await regenerateStaleCrls(h.app.ctx);
  t.match(await pki.crlText('signature'), /Certificate Hold/);
  const held = await pki.ocsp('signature', sig.certificate.pem);
  t.match(held, /Response verify OK/);
  t.match(held, /revoked[\s\S]*certificateHold/, 'OCSP says held (revoked, certificateHold)');

  const found = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/recoveries`, payload: { foundAt: JST('2026-03-02T10:30:00') } });
  t.equal(found.statusCode, 201);
  t.same(found.json().revoked.map((x: any) => x.reason), ['keyCompromise', 'keyCompromise'], 'stolen: keyCompromise');
  t.equal(found.json().reissueFee.total, 0, 'theft is not the holder\'s fault: the reissue is free');
  t.equal(found.json().reissueFee.exemption, 'theft');
  const reissued = await s.issue(card.cardId, 'signature', JST('2026-03-02T10:00:00'));
  t.equal(reissued.procedure, 'reissue');
  t.equal(reissued.fee.total, 0, 'as quoted');
  t.equal(reissued.fee.exemption, 'theft');
});

t.test('cards: a new card replaces the old one; loss without theft, recovery, return; each replayed by Idempotency-Key does nothing again', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const pki = judge(t, h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('C001', { name: '西新宿 五郎', address: '東京都新宿区西新宿1-1', dateOfBirth: '1985-04-10', sex: 'male' });
  const first = (await s.card('C001', '2026-01-15', JST('2026-01-15T09:00:00'))).card;
  const ua1 = await s.issue(first.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig1 = await s.issue(first.cardId, 'signature', JST('2026-01-15T10:00:00'));

  /** Sends a request twice under one Idempotency-Key: the second answers the first again, marked, and changes nothing. */
  const twice = async (url: string, payload: Record<string, unknown>, key: string) => {
    const a = await h.request({ method: 'POST', url, payload, headers: { 'idempotency-key': key } });
    t.equal(a.statusCode, 201, `${key}: applied`);
    t.notOk(a.headers['idempotent-replayed'], `${key}: the first answer is not a replay`);
    const after = await counts(h, pki);
    const b = await h.request({ method: 'POST', url, payload, headers: { 'idempotency-key': key } });
    t.equal(b.statusCode, 201, `${key}: the first status again`);
    t.equal(b.headers['idempotent-replayed'], 'true', `${key}: marked as a replay`);
    t.same(b.json(), a.json(), `${key}: the first answer again`);
    t.same(await counts(h, pki), after, `${key}: nothing done again`);
    return a.json();
  };

  await s.setClock(JST('2026-01-16T10:00:00'));
  const before = await counts(h, pki);
  const second = await twice('/v1/residents/C001/cards', { officeId: 'main', receivedAt: JST('2026-01-16T09:00:00'), issuedOn: '2026-01-16' }, 'card-2');
  t.same(second.abolished, [first.cardId], 'the earlier card is abolished');
  t.same(second.revoked.map((r: any) => [r.serial, r.reason]).sort(), [[ua1.certificate.serial, 'cessationOfOperation'], [sig1.certificate.serial, 'cessationOfOperation']].sort(),
    'its certificates revoked cessationOfOperation');
  t.same(second.fee, {
    procedure: 'cardReissue', on: '2026-01-16', currency: 'JPY', total: 1000,
    lines: [{ item: 'card', amount: 800 }, { item: 'certificates', amount: 200 }], exemption: null, scheduleEffectiveFrom: '2016-01-01',
  }, 'a second card is a reissue: card 800 + certificates 200');
  const afterCard = await counts(h, pki);
  t.equal(afterCard.cards, before.cards + 1, 'one card more');
  t.equal(afterCard.certificates, before.certificates, 'no certificate issued');
  t.same(afterCard.crlEntries, { signature: before.crlEntries.signature! + 1, userAuthentication: before.crlEntries.userAuthentication! + 1 }, 'both old certificates in the CRLs');
  for (const c of [ua1, sig1]) t.equal((await s.status(c.certificate.serial)).revocation.reason, 'cessationOfOperation');
  const oldCard = await h.request({ method: 'POST', url: `/v1/cards/${first.cardId}/loss-reports`, payload: { reportedAt: JST('2026-01-16T10:00:00') } });
  t.equal(oldCard.json().type, problem('cardNotActive'), 'the abolished card cannot be reported lost');

  const card = second.card;
  const ua2 = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-16T10:00:00'));
  const sig2 = await s.issue(card.cardId, 'signature', JST('2026-01-16T10:00:00'));
  await s.setClock(JST('2026-01-16T11:00:00'));
  const lost = await twice(`/v1/cards/${card.cardId}/loss-reports`, { reportedAt: JST('2026-01-16T10:05:00') }, 'loss-1');
  t.equal(lost.card.status, 'lost');
  t.same(lost.held.map((x: any) => x.reason), ['certificateHold', 'certificateHold']);

  // Found (10:00) before the loss was reported (10:05): the revocation still follows the hold.
  const found = await twice(`/v1/cards/${card.cardId}/recoveries`, { foundAt: JST('2026-01-16T10:00:00') }, 'found-1');
  t.equal(found.card.status, 'active');
  t.same(found.revoked.map((x: any) => [x.serial, x.reason, x.invalidityDate]).sort(), [
    [ua2.certificate.serial, 'cessationOfOperation', '2026-01-16T01:05:00.000Z'], [sig2.certificate.serial, 'cessationOfOperation', '2026-01-16T01:05:00.000Z'],
  ].sort(), 'not stolen: cessationOfOperation, as of the hold, not before it');
  t.equal(found.reissueFee.total, 200, 'the reissue costs 200 yen');
  t.equal(found.reissueFee.exemption, null);

  const ua3 = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-16T11:00:00'));
  const sig3 = await s.issue(card.cardId, 'signature', JST('2026-01-16T11:00:00'));
  t.equal(sig3.procedure, 'reissue');
  t.equal(sig3.fee.total, 200, 'as quoted');
  await s.setClock(JST('2026-01-16T11:30:00'));
  const returned = await twice(`/v1/cards/${card.cardId}/returns`, { returnedAt: JST('2026-01-16T11:20:00') }, 'return-1');
  t.equal(returned.card.status, 'abolished', 'a returned card is abolished');
  t.same(returned.revoked.map((x: any) => [x.serial, x.reason, x.invalidityDate]).sort(), [
    [ua3.certificate.serial, 'cessationOfOperation', '2026-01-16T02:20:00.000Z'], [sig3.certificate.serial, 'cessationOfOperation', '2026-01-16T02:20:00.000Z'],
  ].sort(), 'its certificates revoked cessationOfOperation as of the return');
  for (const c of [ua3, sig3]) {
    const status = await s.status(c.certificate.serial);
    t.equal(status.status, 'revoked');
    t.equal(status.revocation.reason, 'cessationOfOperation');
  }
  const again = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/returns`, payload: { returnedAt: JST('2026-01-16T11:20:00') } });
  t.equal(again.statusCode, 409, 'returning it again without the key is a conflict');

  await regenerateStaleCrls(h.app.ctx);
  for (const [ca, c] of [['userAuthentication', ua3], ['signature', sig3]] as const) {
    const verdict = await pki.verify(ca, c.certificate.pem);
    t.not(verdict.code, 0, `${ca}: openssl refuses the returned card's certificate`);
    t.match(verdict.out, /certificate revoked/);
    t.match(await pki.crlText(ca), /Cessation Of Operation/);
    const answer = await pki.ocsp(ca, c.certificate.pem);
    t.match(answer, /Response verify OK/);
    t.match(answer, /: revoked[\s\S]*Reason: cessationOfOperation/, `${ca}: OCSP says revoked, cessationOfOperation`);
  }
});

t.test('replays: the same eventId or Idempotency-Key answers the first time again and does nothing', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const pki = judge(t, h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('P001', { name: '戸塚 三郎', address: '東京都新宿区高田馬場1-1', dateOfBirth: '1970-07-07', sex: 'male' });
  const { card } = await s.card('P001', '2026-01-15', JST('2026-01-15T09:00:00'));
  await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));

  const event = { eventId: 'move-1', residentCode: 'P001', type: 'addressChanged', effectiveAt: JST('2026-01-15T09:00:00'), data: { address: '東京都新宿区西早稲田1-1' } };
  const first = await h.request({ method: 'POST', url: '/v1/resident-events', payload: event });
  t.equal(first.statusCode, 201);
  t.equal(first.json().revoked.length, 1, 'the signature certificate revoked');
  const applied = await counts(h, pki);
  const again = await h.request({ method: 'POST', url: '/v1/resident-events', payload: event });
  t.equal(again.statusCode, 200);
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.same(again.json(), first.json());
  t.same(await counts(h, pki), applied, 'the replay stored no event, audit row, status change or CRL entry');
  const other = await h.request({ method: 'POST', url: '/v1/resident-events', payload: { ...event, data: { address: 'elsewhere' } } });
  t.equal(other.statusCode, 422);
  // Sent at once: the transactions race on the event id; the losers retry and answer the winner's 201 as 200.
  const racing = { ...event, eventId: 'move-2', data: { address: '東京都新宿区大久保1-1' } };
  const raced = await Promise.all(Array.from({ length: 6 }, () => h.request({ method: 'POST', url: '/v1/resident-events', payload: racing })));
  t.same(raced.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201], 'one applied, the others replayed');
  for (const r of raced) t.same(r.json(), raced.find((x) => x.statusCode === 201)!.json());
  const afterRace = await counts(h, pki);
  t.equal(afterRace.residentEvents, applied.residentEvents + 1, 'six sends, one event stored');
  t.equal(afterRace.audit, applied.audit + 1, 'and one audit row');
  const changes = await h.app.ctx.db.selectFrom('certificate_status_changes').select('id').where('serial', '=', sig.certificate.serial).execute();
  t.equal(changes.length, 2, 'issued, then revoked once (the second move found it revoked already)');

  const issuance = { kind: 'signature', officeId: 'main', receivedAt: JST('2026-01-15T10:00:00'), applicant: { type: 'self' }, generateKey: true };
  const a = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, headers: { 'idempotency-key': 'issue-1' }, payload: issuance });
  const issued = await counts(h, pki);
  const b = await h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/certificates`, headers: { 'idempotency-key': 'issue-1' }, payload: issuance });
  t.equal(a.statusCode, 201);
  t.equal(b.statusCode, 201);
  t.equal(b.headers['idempotent-replayed'], 'true');
  t.equal(b.json().certificate.serial, a.json().certificate.serial);
  t.notOk(b.json().privateKeyPem, 'the generated key is not kept');
  t.equal(b.json().privateKeyOmitted, true);
  t.same(await counts(h, pki), issued, 'no second certificate, audit row or status change');
  t.equal(issued.certificates, 3);

  const r1 = await h.request({ method: 'POST', url: `/v1/certificates/${a.json().certificate.serial}/revocation`, headers: { 'idempotency-key': 'rev-1' }, payload: { reason: 'holderRequest' } });
  const revoked = await counts(h, pki);
  const r2 = await h.request({ method: 'POST', url: `/v1/certificates/${a.json().certificate.serial}/revocation`, headers: { 'idempotency-key': 'rev-1' }, payload: { reason: 'holderRequest' } });
  t.equal(r1.statusCode, 201);
  t.equal(r2.statusCode, 201);
  t.same(r2.json(), r1.json());
  t.same(await counts(h, pki), revoked, 'the replayed revocation did nothing again');
  const twice = await h.request({ method: 'POST', url: `/v1/certificates/${a.json().certificate.serial}/revocation`, payload: { reason: 'holderRequest' } });
  t.equal(twice.statusCode, 409);
});

t.test("holder's revocation: the domain's reason, never effective before the certificate existed; an expired certificate is not revoked", async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const pki = judge(t, h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('P001', { name: '取消 次郎', address: '東京都新宿区北新宿1-1', dateOfBirth: '1970-07-07', sex: 'male' });
  const { card } = await s.card('P001', '2026-01-15', JST('2026-01-15T09:00:00'));
  const auth = await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
  const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));

  const early = await h.request({ method: 'POST', url: `/v1/certificates/${sig.certificate.serial}/revocation`, payload: { reason: 'keyCompromise', effectiveAt: JST('2026-01-14T12:00:00') } });
  t.equal(early.statusCode, 201);
  t.equal(early.json().revocation.reason, 'keyCompromise');
  t.equal(early.json().revocation.invalidityDate, sig.certificate.notBefore, 'a compromise dated before issuance takes effect at notBefore');
  const before = await h.request({ method: 'GET', url: `/v1/certificates/${sig.certificate.serial}?at=${encodeURIComponent(JST('2026-01-15T09:59:59'))}` });
  t.equal(before.json().status, 'notYetValid', 'never revoked before it existed');

  await s.setClock(JST('2031-07-08T10:00:00'));
  const unchanged = await counts(h, pki);
  const expired = await h.request({ method: 'POST', url: `/v1/certificates/${auth.certificate.serial}/revocation`, payload: { reason: 'holderRequest' } });
  t.equal(expired.statusCode, 409);
  t.equal(expired.json().type, problem('certificateExpired'));
  t.same(await counts(h, pki), unchanged, 'nothing stored');
});
