import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import t from 'tap';
import { myNumberCheckDigit } from '../../src/domain/my-number.js';
import { regenerateStaleCrls } from '../../src/services/certificate-status.js';
import { testApp, type TestApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';

const JST = (s: string) => `${s}+09:00`;
const NDJSON = { 'content-type': 'application/x-ndjson' };

async function counts(h: TestApp) {
  const c = new pg.Client({ connectionString: h.databaseUrl });
  await c.connect();
  try {
    const one = async (q: string) => Number((await c.query(q)).rows[0].n);
    return {
      revoked: await one(`SELECT count(*) AS n FROM certificates WHERE status = 'revoked'`),
      statusChanges: await one(`SELECT count(*) AS n FROM certificate_status_changes`),
      crls: await one(`SELECT coalesce(max(crl_number), 0) AS n FROM crls`),
      audit: await one(`SELECT count(*) AS n FROM audit_log`),
      events: await one(`SELECT count(*) AS n FROM resident_events`),
      residents: await one(`SELECT count(*) AS n FROM residents`),
    };
  } finally {
    await c.end();
  }
}

// 10,000 lines (twice) take ~1 min on a quiet 2-core machine, many more when it is shared: beyond .taprc's 600 s.
t.setTimeout(1_800_000);

const parse = (body: string) => body.trim().split('\n').map((l) => JSON.parse(l));

t.test('10,000 lines with bad lines mixed in: each bad line gets its problem, the others apply; a replay answers 200 and changes nothing', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  // Residents holding signature certificates, so that address changes revoke and sign.
  const holders: { code: string; serial: string }[] = [];
  for (let i = 0; i < 10; i++) {
    const code = `H${i}`;
    await s.register(code, { name: `保有 ${i}`, address: `東京都新宿区西新宿${i}`, dateOfBirth: '1980-04-01', sex: 'female' });
    const { card } = await s.card(code, '2026-01-15', JST('2026-01-15T09:30:00'));
    const sig = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));
    holders.push({ code, serial: sig.certificate.serial });
  }
  await regenerateStaleCrls(h.app.ctx);

  const myNumber = '12345678901' + myNumberCheckDigit('12345678901');
  const lines: string[] = [];
  const bad = new Map<number, { status: number; type: string }>();
  const at = JST('2026-01-14T09:00:00');
  for (let i = 0; i < 3000; i++) {
    lines.push(JSON.stringify({ eventId: `b-reg-${i}`, residentCode: `B${i}`, type: 'registered', effectiveAt: at, data: { name: `一括 ${i}`, address: `東京都新宿区${i}`, dateOfBirth: '1990-01-01', sex: 'male' } }));
  }
  for (const [i, h] of holders.entries()) {
    lines.push(JSON.stringify({ eventId: `h-move-${i}`, residentCode: h.code, type: 'addressChanged', effectiveAt: at, data: { address: `東京都新宿区四谷${i}` } }));
  }
  while (lines.length < 10_000) {
    const i = lines.length;
    lines.push(JSON.stringify({ eventId: `b-move-${i}`, residentCode: `B${i % 3000}`, type: 'addressChanged', effectiveAt: at, data: { address: `東京都新宿区新${i}` } }));
  }
  const spoil = (index: number, text: string, status: number, type: string) => {
    lines[index] = text;
    bad.set(index + 1, { status, type });
  };
  spoil(4000, '{"eventId": "broken", ', 400, 'invalidJson');
  spoil(5000, JSON.stringify({ eventId: 'extra-field', residentCode: 'B1', type: 'addressChanged', effectiveAt: at, data: { address: 'x' }, color: 'red' }), 400, 'validationFailed');
  spoil(6000, JSON.stringify({ eventId: 'no-such', residentCode: 'NOBODY', type: 'addressChanged', effectiveAt: at, data: { address: 'x' } }), 404, 'notFound');
  spoil(7000, JSON.stringify({ eventId: 'my-number', residentCode: 'B2', type: 'addressChanged', effectiveAt: at, data: { address: `東京都 ${myNumber}` } }), 422, 'myNumberNotAccepted');
  spoil(8000, JSON.stringify({ eventId: 'b-reg-5', residentCode: 'B5', type: 'addressChanged', effectiveAt: at, data: { address: 'x' } }), 422, 'eventIdReused');
  spoil(9000, JSON.stringify({ eventId: 'wrong-type', residentCode: 'B3', type: 'teleported', effectiveAt: at }), 400, 'validationFailed');
  const payload = `${lines.join('\n')}\n`;

  const before = await counts(h);
  const first = await h.request({ method: 'POST', url: '/v1/resident-events/batch', headers: NDJSON, payload });
  t.equal(first.statusCode, 200);
  t.match(first.headers['content-type'], /application\/x-ndjson/);
  const answers = parse(first.body);
  t.equal(answers.length, 10_000, 'one answer per line');
  t.same(answers.map((a) => a.line), lines.map((_, i) => i + 1), 'in order, numbered from 1');
  for (const [line, want] of bad) {
    const a = answers[line - 1];
    t.equal(a.status, want.status, `line ${line} status`);
    t.equal(a.problem?.type, `urn:jpki-ward:problem:${want.type}`, `line ${line} problem`);
  }
  t.same(answers[5000].problem.errors, [{ path: 'line/color', message: 'unknown field' }], 'validation errors name the field');
  t.equal(answers[8000].eventId, 'b-reg-5');
  const good = answers.filter((a) => !bad.has(a.line));
  t.ok(good.every((a) => a.status === 201 && a.result.eventId === a.eventId), 'every other line applied (201)');
  const revokedSerials = good.flatMap((a) => a.result.revoked.map((r: any) => r.serial)).sort();
  t.same(revokedSerials, holders.map((x) => x.serial).sort(), 'the holders’ signature certificates were revoked');

  await regenerateStaleCrls(h.app.ctx);
  const after = await counts(h);
  t.equal(after.events - before.events, 10_000 - bad.size, 'one stored event per good line');
  t.equal(after.residents - before.residents, 3000);
  t.equal(after.revoked - before.revoked, holders.length);
  t.equal(after.audit - before.audit, 10_000 - bad.size, 'one audit row per applied line');

  const replay = await h.request({ method: 'POST', url: '/v1/resident-events/batch', headers: NDJSON, payload });
  t.equal(replay.statusCode, 200);
  const again = parse(replay.body);
  t.equal(again.length, 10_000);
  for (const [i, a] of again.entries()) {
    if (bad.has(a.line)) {
      if (a.status !== answers[i].status) t.fail(`bad line ${a.line} answered ${a.status} on replay`);
    } else if (a.status !== 200 || !isDeepStrictEqual(a.result, answers[i].result)) {
      t.fail(`line ${a.line}: replay must answer 200 with the first answer`);
      break;
    }
  }
  await regenerateStaleCrls(h.app.ctx);
  t.same(await counts(h), after, 'the replay changed nothing: revocations, status changes, CRLs, audit, events');

  const report = await h.request({ method: 'GET', url: '/v1/pki/consistency' });
  t.equal(report.statusCode, 200);
  t.equal(report.json().consistent, true, JSON.stringify(report.json().cas.map((c: any) => [c.ca, c.differences, c.crl.slice(0, 3), c.ocsp.slice(0, 3)])));
  const sigCa = report.json().cas.find((c: any) => c.ca === 'signature');
  t.equal(sigCa.revokedOrOnHold, holders.length);
  t.equal(sigCa.crlEntries, holders.length);
  const chain = (await h.request({ method: 'GET', url: '/v1/audit-events/verification' })).json();
  t.match(chain, { ok: true, firstBroken: null }, 'the audit rows appended chunk by chunk form one verified chain');
  t.ok(chain.checked >= after.audit, `every row checked (${chain.checked})`);

  const metrics = (await h.request({ method: 'GET', url: '/metrics', auth: null })).body;
  t.match(metrics, /resident_events_total\{type="registered",outcome="applied",source="batch"\} 3000/);
  t.match(metrics, /resident_events_total\{type="addressChanged",outcome="replayed",source="batch"\} \d+/);
  t.match(metrics, /resident_events_total\{type="unknown",outcome="refused",source="batch"\} \d+/);
  t.match(h.logs(), /resident event batch done/);
});

t.test('more lines than BATCH_MAX_LINES: 413 before anything is applied; the body limit does not apply', async (t) => {
  const h = await testApp(t, { BATCH_MAX_LINES: '5', BODY_LIMIT_BYTES: '1024' });
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  const reg = (i: number) => JSON.stringify({ eventId: `m-${i}`, residentCode: `M${i}`, type: 'registered', effectiveAt: JST('2026-01-14T09:00:00'), data: { name: `名前 ${i}`, address: `東京都新宿区${'一'.repeat(100)}${i}`, dateOfBirth: '1990-01-01', sex: 'male' } });
  const six = [0, 1, 2, 3, 4, 5].map(reg).join('\n');
  const refused = await h.request({ method: 'POST', url: '/v1/resident-events/batch', headers: NDJSON, payload: six });
  t.equal(refused.statusCode, 413);
  t.equal(refused.json().type, 'urn:jpki-ward:problem:batchTooLarge');
  t.equal((await h.request({ method: 'GET', url: '/v1/residents/M0' })).statusCode, 404, 'nothing applied');

  const five = `\n${[0, 1, 2, 3, 4].map(reg).join('\n\n')}\n\n`;
  t.ok(Buffer.byteLength(five) > 1024, 'larger than BODY_LIMIT_BYTES');
  const ok = await h.request({ method: 'POST', url: '/v1/resident-events/batch', headers: NDJSON, payload: five });
  t.equal(ok.statusCode, 200);
  t.same(parse(ok.body).map((a) => [a.line, a.status]), [[2, 201], [4, 201], [6, 201], [8, 201], [10, 201]], 'blank lines skipped, physical line numbers');

  const json = await h.request({ method: 'POST', url: '/v1/resident-events/batch', payload: { eventId: 'x' } });
  t.equal(json.statusCode, 415);
  const noScope = await h.request({ method: 'POST', url: '/v1/resident-events/batch', headers: NDJSON, payload: five, auth: null });
  t.equal(noScope.statusCode, 401);
});

t.test('one chunk holding a resident’s whole story decides each line as single events would, in order', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock(JST('2026-01-15T10:00:00'));
  const holder = async (code: string) => {
    await s.register(code, { name: '物語 一郎', address: '東京都新宿区西新宿1', dateOfBirth: '1980-04-01', sex: 'male' });
    const { card } = await s.card(code, '2026-01-15', JST('2026-01-15T09:30:00'));
    await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'));
    await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'));
    return card.cardId as string;
  };
  const at = JST('2026-01-15T09:00:00');
  const story = (code: string) => [
    { eventId: `${code}-move`, residentCode: code, type: 'addressChanged', effectiveAt: at, data: { address: '東京都新宿区四谷1' } },
    { eventId: `${code}-move`, residentCode: code, type: 'addressChanged', effectiveAt: at, data: { address: '東京都新宿区四谷1' } },
    { eventId: `${code}-move`, residentCode: code, type: 'addressChanged', effectiveAt: at, data: { address: '東京都新宿区四谷2' } },
    { eventId: `${code}-name`, residentCode: code, type: 'nameChanged', effectiveAt: at, data: { name: '物語 次郎' } },
    { eventId: `${code}-ahead`, residentCode: code, type: 'nameChanged', effectiveAt: JST('2026-01-18T09:00:00'), data: { name: '未来 太郎' } },
    { eventId: `${code}-died`, residentCode: code, type: 'died', effectiveAt: at },
    { eventId: `${code}-late`, residentCode: code, type: 'addressChanged', effectiveAt: at, data: { address: '東京都新宿区高田馬場1' } },
    { eventId: `${code}-new`, residentCode: `${code}N`, type: 'registered', effectiveAt: at, data: { name: '新規 花子', address: '東京都新宿区1', dateOfBirth: '2000-02-29', sex: 'female' } },
    { eventId: `${code}-new-move`, residentCode: `${code}N`, type: 'addressChanged', effectiveAt: at, data: { address: '東京都新宿区2' } },
    { eventId: `${code}-new-again`, residentCode: `${code}N`, type: 'registered', effectiveAt: at, data: { name: '新規 花子', address: '東京都新宿区1', dateOfBirth: '2000-02-29', sex: 'female' } },
  ];
  const batchCard = await holder('SB');
  const singleCard = await holder('SS');

  const batch = parse((await h.request({ method: 'POST', url: '/v1/resident-events/batch', headers: NDJSON, payload: `${story('SB').map((e) => JSON.stringify(e)).join('\n')}\n` })).body);
  const singles = [];
  for (const e of story('SS')) singles.push(await h.request({ method: 'POST', url: '/v1/resident-events', payload: e }));

  const shape = (status: number, body: any, code: string) => ({
    status,
    problem: body.type ?? null,
    revoked: (body.revoked ?? []).map((r: any) => `${r.kind}:${r.status}:${r.reason}`).sort(),
    first: body.eventId ? body.eventId.replace(code, '') : null,
  });
  t.same(batch.map((a: any) => shape(a.status, a.result ?? a.problem, 'SB')), singles.map((r) => shape(r.statusCode, r.json(), 'SS')), 'the same statuses, problems and revocations line by line');
  t.same(batch.map((a: any) => a.status), [201, 200, 422, 201, 422, 201, 409, 201, 201, 409]);
  t.same(batch[1].result, batch[0].result, 'a repeated line answers with the first answer');

  const facts = async (code: string) => {
    const r = (await h.request({ method: 'GET', url: `/v1/residents/${code}` })).json();
    return { name: r.name, address: r.address, status: r.status };
  };
  t.same(await facts('SB'), await facts('SS'), 'same facts in the end');
  t.same(await facts('SB'), { name: '物語 次郎', address: '東京都新宿区四谷1', status: 'deceased' });
  t.same(await facts('SBN'), await facts('SSN'));
  const certs = async (code: string) => ((await h.request({ method: 'GET', url: `/v1/residents/${code}/certificates` })).json().items as any[])
    .map((c) => `${c.kind}:${c.status}:${c.revocation?.reason}`).sort();
  t.same(await certs('SB'), await certs('SS'), 'same certificate statuses and reasons');
  const card = async (id: string) => (await h.app.ctx.db.selectFrom('cards').select('status').where('card_id', '=', id).executeTakeFirstOrThrow()).status;
  t.equal(await card(batchCard), await card(singleCard), 'the card lapsed alike');
  const report = await h.request({ method: 'GET', url: '/v1/pki/consistency?regenerate=true' });
  t.equal(report.json().consistent, true);
});
