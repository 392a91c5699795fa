import t from 'tap';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';

const JST = (s: string) => `${s}+09:00`;
const derOf = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

t.test('50 concurrent issuances and address changes for the same residents: no good signature certificate carries an old address', async (t) => {
  // 50 requests at once on a shared 2-core machine: lock waits and pool waits may take seconds; not the subject here.
  const h = await testApp(t, { DB_STATEMENT_TIMEOUT_MS: '60000', DB_POOL_MAX: '20' });
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  const residents: { code: string; cardId: string }[] = [];
  // Addresses of equal length that are never substrings of one another: a DER search is exact.
  const address = (code: string, k: number) => `東京都新宿区競争町${code}-${k}番`;
  for (let i = 0; i < 10; i++) {
    const code = `RACE${String(i).padStart(2, '0')}`;
    await s.register(code, { name: `競争 ${i}`, address: address(code, 0), dateOfBirth: '1985-06-01', sex: 'male' });
    const { card } = await s.card(code, '2026-01-15', JST('2026-01-15T09:30:00'));
    residents.push({ code, cardId: card.cardId });
  }

  const at = JST('2026-01-15T09:45:00');
  const ops: (() => Promise<{ kind: string; status: number; body: any }>)[] = [];
  const issue = (cardId: string) => async () => {
    const r = await h.request({ method: 'POST', url: `/v1/cards/${cardId}/certificates`, payload: { kind: 'signature', officeId: 'main', receivedAt: JST('2026-01-15T10:00:00'), applicant: { type: 'self' }, generateKey: true } });
    return { kind: 'issue', status: r.statusCode, body: r.json() };
  };
  const move = (code: string, k: number) => async () => {
    const r = await h.request({ method: 'POST', url: '/v1/resident-events', payload: { eventId: `race-${code}-${k}`, residentCode: code, type: 'addressChanged', effectiveAt: at, data: { address: address(code, k) } } });
    return { kind: 'move', status: r.statusCode, body: r.json() };
  };
  for (const r of residents) ops.push(issue(r.cardId), move(r.code, 1), issue(r.cardId), move(r.code, 2));
  // The tenth change of each resident comes in one batch, racing the rest.
  const batch = async () => {
    const body = residents.map((r) => JSON.stringify({ eventId: `race-${r.code}-3`, residentCode: r.code, type: 'addressChanged', effectiveAt: at, data: { address: address(r.code, 3) } })).join('\n');
    const res = await h.request({ method: 'POST', url: '/v1/resident-events/batch', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
    return { kind: 'batch', status: res.statusCode, body: res.body.trim().split('\n').map((l) => JSON.parse(l)) };
  };
  // Shuffled, all started at once.
  const order = ops.map((op, i) => ({ op, key: (i * 7919) % ops.length }));
  order.sort((a, b) => a.key - b.key);
  const results = await Promise.all([...order.slice(0, 20).map((o) => o.op()), batch(), ...order.slice(20).map((o) => o.op())]);
  t.equal(results.length, 41, '40 single operations and a batch of 10 changes: 50 in all');

  const moves = results.filter((r) => r.kind === 'move');
  t.same(moves.filter((m) => m.status !== 201).map((m) => m.body), [], 'every single address change applied');
  const batchResult = results.find((r) => r.kind === 'batch')!;
  t.equal(batchResult.status, 200);
  t.ok(batchResult.body.every((l: any) => l.status === 201), 'every batched change applied');
  const issued = results.filter((r) => r.kind === 'issue' && r.status === 201);
  const refused = results.filter((r) => r.kind === 'issue' && r.status !== 201);
  t.ok(issued.length >= residents.length, `at least one issuance per resident succeeded (${issued.length})`);
  t.same(refused.filter((r) => r.status !== 422 || r.body.type !== 'urn:jpki-ward:problem:renewalWindowNotOpen').map((r) => r.body), [], 'an issuance refused only because a good certificate is already on the card');

  let good = 0;
  let revoked = 0;
  for (const r of issued) {
    const cert = r.body.certificate;
    const status = (await s.status(cert.serial)).status;
    const der = derOf(cert.pem);
    const owner = residents.find((x) => [0, 1, 2, 3].some((k) => der.includes(Buffer.from(address(x.code, k)))))!;
    t.ok(owner, 'the certificate carries one of its holder’s addresses');
    const current = (await h.request({ method: 'GET', url: `/v1/residents/${owner.code}` })).json().address;
    if (status === 'good') {
      good++;
      if (!der.includes(Buffer.from(current))) t.fail(`good certificate ${cert.serial} carries an old address (current ${current})`);
    } else {
      revoked++;
      t.equal(status, 'revoked');
    }
  }
  t.ok(good + revoked === issued.length, `${good} good with the current address, ${revoked} revoked by a later change`);
  const report = (await h.request({ method: 'GET', url: '/v1/pki/consistency?regenerate=true' })).json();
  t.equal(report.consistent, true, 'CRL and OCSP agree with the database');
  const metrics = (await h.request({ method: 'GET', url: '/metrics', auth: null })).body;
  t.match(metrics, /resident_events_total\{type="addressChanged",outcome="applied",source="single"\} 20\b/, 'single events are counted too');
  t.match(metrics, /resident_events_total\{type="addressChanged",outcome="applied",source="batch"\} 10\b/);
});
