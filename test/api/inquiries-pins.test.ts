import t from 'tap';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { cases, JST } from './inquiries-support.js';

t.test('PIN reset and change at the counter: recorded without a PIN, fee 0; an agent needs a completed case, used once', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('P001', { name: '新宿 太郎', address: '東京都新宿区歌舞伎町1-4-1', dateOfBirth: '1990-05-20', sex: 'male' });
  const { card } = await s.card('P001', '2026-01-15', JST('2026-01-15T09:30:00'));
  const pin = (kind: 'pin-resets' | 'pin-changes', body: Record<string, unknown>) =>
    h.request({ method: 'POST', url: `/v1/cards/${card.cardId}/${kind}`, payload: { pinKind: 'signature', officeId: 'main', receivedAt: JST('2026-01-15T10:00:00'), applicant: { type: 'self' }, ...body } });
  const count = async () => (await h.app.ctx.db.selectFrom('pin_procedures').select('procedure_id').execute()).length;

  const noId = await pin('pin-resets', {});
  t.equal(noId.statusCode, 422);
  t.equal(noId.json().type, 'urn:jpki-ward:problem:identityDocumentRequired');
  const withPin = await pin('pin-resets', { identityDocument: 'driversLicence', pin: 'ABC123' });
  t.equal(withPin.statusCode, 400, 'a PIN is never accepted');
  t.match(withPin.json().errors, [{ path: 'body/pin', message: 'unknown field' }]);
  t.notMatch(withPin.body, /ABC123/);
  t.equal(await count(), 0);

  const reset = await pin('pin-resets', { identityDocument: 'driversLicence' });
  t.equal(reset.statusCode, 201, reset.body);
  t.match(reset.json(), { procedure: 'pinReset', pinKind: 'signature', cardId: card.cardId, residentCode: 'P001', identityDocument: 'driversLicence', fee: { procedure: 'pinReset', total: 0 } });
  const change = await pin('pin-changes', { pinKind: 'userAuthentication' });
  t.equal(change.statusCode, 201, 'a change needs the current PIN (entered on the card), not an identity document');
  t.equal(change.json().fee.total, 0);

  const agent = await pin('pin-resets', { applicant: { type: 'agent' } });
  t.equal(agent.json().type, 'urn:jpki-ward:problem:agentNeedsCompletedInquiry');

  // By an agent, a PIN procedure goes by the letter the ward mails: never done in one visit.
  const opened = await c.open({ residentCode: 'P001', purpose: 'pinReset', path: 'withoutLetter', openedAt: JST('2026-01-15T10:00:00') });
  const id = opened.json().inquiryId;
  const early = await pin('pin-resets', { applicant: { type: 'agent', inquiryId: id } });
  t.equal(early.statusCode, 409);
  t.equal(early.json().type, 'urn:jpki-ward:problem:inquiryNotCompleted');
  const mailed = await c.mail(id, opened.headers.etag as string, '2026-01-15');
  t.equal(mailed.statusCode, 200, mailed.body);
  const visited = await c.visit(id, mailed.headers.etag as string, JST('2026-01-15T10:20:00'));
  t.equal(visited.json().state, 'completed');
  const wrongPurpose = await pin('pin-changes', { applicant: { type: 'agent', inquiryId: id } });
  t.equal(wrongPurpose.statusCode, 422);
  t.equal(wrongPurpose.json().type, 'urn:jpki-ward:problem:inquiryPurposeMismatch');
  const byAgent = await pin('pin-resets', { applicant: { type: 'agent', inquiryId: id } });
  t.equal(byAgent.statusCode, 201, byAgent.body);
  t.equal(byAgent.json().applicant.inquiryId, id);
  t.equal((await c.get(id)).json().consumedBy, `pinProcedures/${byAgent.json().procedureId}`);
  const twice = await pin('pin-resets', { applicant: { type: 'agent', inquiryId: id } });
  t.equal(twice.statusCode, 409);
  t.equal(twice.json().type, 'urn:jpki-ward:problem:inquiryAlreadyUsed');
  t.equal(await count(), 3);

  const columns = Object.keys((await h.app.ctx.db.selectFrom('pin_procedures').selectAll().executeTakeFirstOrThrow()));
  t.notOk(columns.some((col) => /^pin$|pin_value|pin_hash/.test(col)), 'no column could hold a PIN');
  const audit = (await h.request({ method: 'GET', url: `/v1/audit-events?resource=cards/${card.cardId}` })).json().items.map((a: any) => a.action);
  t.same(audit.filter((a: string) => a.startsWith('card.pin')), ['card.pinReset', 'card.pinChange', 'card.pinReset']);

  await s.setClock(JST('2026-01-15T17:30:00'));
  const late = await pin('pin-changes', { receivedAt: JST('2026-01-15T17:30:00') });
  t.equal(late.json().type, 'urn:jpki-ward:problem:officeClosed', 'Thursday counters close at 17:00');
});

t.test('withLetter only where the letter exists: refused for an agent\'s PIN reset or change, kept for certificates', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const c = cases(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('P002', { name: '新宿 次郎', address: '東京都新宿区歌舞伎町1-4-1', dateOfBirth: '1990-05-20', sex: 'male' });
  for (const purpose of ['pinReset', 'pinChange']) {
    const refused = await c.open({ residentCode: 'P002', purpose, path: 'withLetter', openedAt: JST('2026-01-15T10:00:00') });
    t.equal(refused.statusCode, 422, `${purpose}: ${refused.body}`);
    t.equal(refused.json().type, 'urn:jpki-ward:problem:withLetterNotForPurpose');
    t.match(refused.json(), { purpose, path: 'withLetter', allowedPaths: ['withoutLetter'] });
    t.match(refused.json().detail, /expiry notice/);
    t.match(refused.json().detail, /withoutLetter/);
  }
  t.equal((await h.app.ctx.db.selectFrom('inquiries').select('inquiry_id').execute()).length, 0, 'nothing opened');
  for (const purpose of ['certificateRenewal', 'certificateIssuance']) {
    const kept = await c.open({ residentCode: 'P002', purpose, path: 'withLetter', openedAt: JST('2026-01-15T10:00:00') });
    t.equal(kept.statusCode, 201, `${purpose}: ${kept.body}`);
    t.equal(kept.json().state, 'awaitingVisit');
  }
  const mailedPin = await c.open({ residentCode: 'P002', purpose: 'pinChange', path: 'withoutLetter', openedAt: JST('2026-01-15T10:00:00') });
  t.equal(mailedPin.statusCode, 201, 'the mailed letter is the way for a PIN procedure');
});
