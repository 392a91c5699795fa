import t from 'tap';
import { testApp } from '../support/app.js';

/** Every paginated list with the query it needs; the test fails when a new one is not listed here. */
const LISTS: Record<string, string> = {
  '/v1/api-keys': '',
  '/v1/audit-events': '',
  '/v1/calendar/closures': '',
  '/v1/fees/schedules': '',
  '/v1/inquiries': '',
  '/v1/offices': '',
  '/v1/renewals/due': 'windowOpensFrom=2030-01-01&windowOpensTo=2030-12-31&',
  '/v1/residents/{residentCode}/events': '',
};

const forged = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Cursors a client could make up or edit: not JSON, wrong shapes, impossible dates, injection text, extra fields. */
const FORGED = [
  'not base64 at all!',
  forged('not json'),
  forged(null),
  forged([]),
  forged({ p: 'garbage' }),
  forged({ id: 'abc' }),
  forged({ id: '1; DROP TABLE audit_events' }),
  forged({ seq: '99999999999999999999999' }),
  forged({ keyId: "key_x' OR '1'='1" }),
  forged({ position: -1 }),
  forged({ position: '1' }),
  forged({ effectiveFrom: '2026-02-30' }),
  forged({ date: '2026-02-30', officeId: '' }),
  forged({ expiresOn: '2030-13-01', serial: '00' }),
  forged({ expiresOn: '2030-01-01', serial: 'zz' }),
  forged({ receivedAt: '2026-01-01T25:00:00Z', eventId: 'x' }),
  forged({ receivedAt: '2026-01-01T00:00:00Z', eventId: '' }),
  forged({ id: '1', extra: true }),
];

t.test('a made-up or edited cursor is a 400 invalidCursor on every paginated list, never a 500', async (t) => {
  const h = await testApp(t);
  const spec = (await h.request({ method: 'GET', url: '/openapi.json', auth: null })).json();
  const paginated = Object.entries(spec.paths as Record<string, Record<string, any>>)
    .filter(([, ops]) => ops.get?.parameters?.some((p: any) => p.in === 'query' && p.name === 'cursor'))
    .map(([path]) => path)
    .sort();
  t.same(paginated, Object.keys(LISTS).sort(), 'every paginated list is covered');

  for (const [path, query] of Object.entries(LISTS)) {
    const url = path.replace('{residentCode}', 'R404');
    for (const cursor of FORGED) {
      const res = await h.request({ method: 'GET', url: `${url}?${query}cursor=${encodeURIComponent(cursor)}` });
      if (res.statusCode !== 400 || res.json().type !== 'urn:jpki-ward:problem:invalidCursor') {
        t.fail(`${url} with cursor ${Buffer.from(cursor, 'base64url').toString()}: ${res.statusCode} ${res.body}`);
      }
    }
    t.pass(`${path}: ${FORGED.length} forged cursors refused`);
  }
});
