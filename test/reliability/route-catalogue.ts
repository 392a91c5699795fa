/**
 * Shared by the access-control matrix and the fuzzer: every registered route (from the auth plugin's
 * table, so routes added later are picked up), keys of every kind, the public-route allow-list, and
 * for every route a request that an allowed caller gets a 2xx for (VALID_REQUESTS, built on a fixture
 * of residents, cards, certificates, inquiry cases, API keys and closures made through the API).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { insertApiKey } from '../../src/db/repositories/api-keys.js';
import { hashSecret } from '../../src/services/api-keys.js';
import { SCOPES, type Scope } from '../../src/services/scopes.js';
import type { TestApp } from '../support/app.js';
import { openssl, opensslP256Csr, workdir, type Workdir } from '../support/openssl.js';

export interface RouteEntry {
  method: string;
  url: string;
  auth: string;
}

/** The only routes anyone may call without a key. A new public route must be added here deliberately. */
export const PUBLIC_ROUTES: RegExp[] = [
  /^\/health\/(live|ready)$/,
  /^\/metrics$/,
  /^\/openapi\.json$/,
  /^\/docs(\/.*)?$/,
  /^\/pki\//,
];

export function routes(app: FastifyInstance): RouteEntry[] {
  const seen = new Set<string>();
  return app.routeAuthTable.filter((r) => {
    const k = `${r.method} ${r.url}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A concrete path for a route pattern: every :param and * gets `fill`. */
export function concretePath(url: string, fill = 'x'): string {
  return url.replace(/:[A-Za-z0-9_]+/g, fill).replace(/\*/g, fill);
}

export type KeyKind = 'none' | 'revoked' | 'expired' | 'malformed' | Scope;

export interface Keys {
  secrets: Partial<Record<KeyKind, string>>;
}

/** One key per scope, plus a revoked and an expired admin key, written straight into api_keys. */
export async function makeKeys(app: FastifyInstance): Promise<Record<Exclude<KeyKind, 'none'>, string>> {
  const now = app.clock.now();
  const out: Partial<Record<Exclude<KeyKind, 'none'>, string>> = { malformed: 'not a key at all!' };
  const add = async (kind: Exclude<KeyKind, 'none' | 'malformed'>, scopes: Scope[], extra: { expiresAt?: Date; revokedAt?: Date } = {}) => {
    const secret = `jpw_${randomBytes(32).toString('base64url')}`;
    await insertApiKey(app.ctx.db, {
      keyId: `key_matrix_${kind.replace(/[^a-z]/g, '_')}`,
      name: `matrix ${kind}`,
      scopes,
      createdAt: new Date(now.getTime() - 86_400_000),
      expiresAt: extra.expiresAt ?? null,
      revokedAt: extra.revokedAt ?? null,
    }, hashSecret(secret));
    out[kind] = secret;
  };
  for (const scope of SCOPES) await add(scope, [scope]);
  await add('revoked', ['admin'], { revokedAt: new Date(now.getTime() - 1000) });
  await add('expired', ['admin'], { expiresAt: new Date(now.getTime() - 1000) });
  return out as Record<Exclude<KeyKind, 'none'>, string>;
}

/** The moment the fixture lives at: a Thursday morning, every counter open. */
export const FIXTURE_NOW = '2026-01-15T10:00:00+09:00';
const TODAY = '2026-01-15';
const VOLUNTARY_AGENT = { kind: 'voluntary', name: '代理 行列', identityDocument: 'driversLicence' };
const GOOD_VISIT = { letterComplete: true, bothSidesFilled: true, applicationFormComplete: true, agentIdentityVerified: true, pinVerified: true };

/** One request to a route, as an allowed caller sends it, and the 2xx it must get. */
export interface RouteCall {
  url: string;
  payload?: object | string | Buffer;
  headers?: Record<string, string>;
  expect: number;
  /** Undoes what the call changed that later calls depend on (the service clock). */
  after?: () => Promise<void>;
}

/**
 * What the valid requests are built from. Reads share one resident with a card, both certificates and
 * an inquiry case; a write that uses something up (a revocation, a card return, an inquiry
 * transition…) gets a fresh one for every call.
 */
export class Fixture {
  private n = 0;
  private readonly dir: Workdir = workdir();
  private shared?: Promise<{ residentCode: string; cardId: string; serial: string; pem: string; inquiryId: string; ocsp: Buffer }>;

  constructor(readonly h: TestApp) {}

  close(): void {
    this.dir.remove();
  }

  /** An admin request that must succeed; its JSON and ETag. */
  async admin(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}): Promise<{ body: any; etag: string }> {
    const r = await this.h.request({ method, url, headers, ...(payload ? { payload } : {}) });
    if (r.statusCode >= 300) throw new Error(`fixture: ${method} ${url}: ${r.statusCode} ${r.body}`);
    return { body: r.body ? r.json() : null, etag: String(r.headers.etag ?? '') };
  }

  next(): number {
    return ++this.n;
  }

  async setClock(): Promise<void> {
    await this.admin('PUT', '/v1/clock', { now: FIXTURE_NOW });
  }

  async resident(): Promise<string> {
    const code = `R-AM-${this.next()}`;
    await this.admin('POST', '/v1/resident-events', {
      eventId: `am-reg-${code}`, residentCode: code, type: 'registered', effectiveAt: '2000-01-01T00:00:00+09:00',
      data: { name: `行列 ${this.n}`, address: `東京都新宿区行列${this.n}`, dateOfBirth: '1980-04-01', sex: 'female' },
    });
    return code;
  }

  async card(residentCode?: string): Promise<{ residentCode: string; cardId: string }> {
    const code = residentCode ?? (await this.resident());
    const { body } = await this.admin('POST', `/v1/residents/${code}/cards`, { officeId: 'main', receivedAt: FIXTURE_NOW, issuedOn: TODAY });
    return { residentCode: code, cardId: body.card.cardId };
  }

  async certificate(kind: 'signature' | 'userAuthentication' = 'userAuthentication', cardId?: string): Promise<{ serial: string; pem: string }> {
    const card = cardId ?? (await this.card()).cardId;
    const { body } = await this.admin('POST', `/v1/cards/${card}/certificates`, { kind, officeId: 'main', receivedAt: FIXTURE_NOW, applicant: { type: 'self' }, csr: await this.csr() });
    return { serial: body.certificate.serial, pem: body.certificate.pem };
  }

  csr(): Promise<string> {
    return opensslP256Csr(this.dir, `k${this.next()}`);
  }

  async inquiry(path: 'withLetter' | 'withoutLetter', residentCode?: string): Promise<{ inquiryId: string; etag: string }> {
    const code = residentCode ?? (await this.card()).residentCode;
    const { body, etag } = await this.admin('POST', '/v1/inquiries', { residentCode: code, purpose: 'certificateIssuance', path, agent: VOLUNTARY_AGENT, officeId: 'main', openedAt: FIXTURE_NOW });
    return { inquiryId: body.inquiryId, etag };
  }

  async lostCard(): Promise<string> {
    const { cardId } = await this.card();
    await this.admin('POST', `/v1/cards/${cardId}/loss-reports`, { reportedAt: FIXTURE_NOW });
    return cardId;
  }

  /** A resident with a card and a good signature certificate: may get a smartphone certificate. */
  async signatureHolder(): Promise<string> {
    const { residentCode, cardId } = await this.card();
    await this.certificate('signature', cardId);
    return residentCode;
  }

  async apiKey(): Promise<string> {
    return (await this.admin('POST', '/v1/api-keys', { name: `matrix victim ${this.next()}`, scopes: ['status:read'] })).body.keyId;
  }

  /** A date after today with a closure of all offices. */
  async closure(): Promise<string> {
    const date = this.futureDate();
    await this.admin('PUT', `/v1/calendar/closures/${date}`, { note: 'matrix' });
    return date;
  }

  /** A distinct date in 2027 for every call (schedules and closures are per date). */
  futureDate(): string {
    return new Date(Date.UTC(2027, 0, 1) + this.next() * 86_400_000).toISOString().slice(0, 10);
  }

  async feeTable(): Promise<object> {
    return (await this.admin('GET', '/v1/fees/schedules')).body.items[0].fees;
  }

  /** The shared read fixture, made once. */
  reads() {
    this.shared ??= (async () => {
      const { residentCode, cardId } = await this.card();
      const { serial, pem } = await this.certificate('signature', cardId);
      await this.certificate('userAuthentication', cardId);
      const { inquiryId } = await this.inquiry('withoutLetter', residentCode);
      const caPem = (await this.h.request({ method: 'GET', url: '/pki/signature/ca.crt', auth: null, headers: { accept: 'application/x-pem-file' } })).body;
      const ca = this.dir.file('ca.pem', caPem);
      const cert = this.dir.file('cert.pem', pem);
      const out = `${this.dir.dir}/ocsp-req.der`;
      const r = await openssl(['ocsp', '-issuer', ca, '-cert', cert, '-no_nonce', '-reqout', out]);
      if (r.code !== 0) throw new Error(r.out);
      return { residentCode, cardId, serial, pem, inquiryId, ocsp: readFileSync(out) };
    })();
    return this.shared;
  }
}

const JSON_BODY = (payload: object, expect: number, headers: Record<string, string> = {}) => ({ payload, expect, headers });

/**
 * For every route (`METHOD url` as registered; a HEAD route uses its GET's entry), a request that an
 * allowed caller gets this 2xx for. Every route is exercised for real: none needed an exact non-2xx
 * status instead. A route missing here fails test/reliability/access-matrix.test.ts.
 */
export const VALID_REQUESTS: Record<string, (f: Fixture) => Promise<RouteCall>> = {
  // Public: health, metrics, the OpenAPI document, the PKI distribution points.
  'GET /health/live': async () => ({ url: '/health/live', expect: 200 }),
  'GET /health/ready': async () => ({ url: '/health/ready', expect: 200 }),
  'GET /metrics': async () => ({ url: '/metrics', expect: 200 }),
  'GET /openapi.json': async () => ({ url: '/openapi.json', expect: 200 }),
  'GET /pki/:ca/ca.crt': async () => ({ url: '/pki/signature/ca.crt', expect: 200 }),
  'GET /pki/:ca/crl': async () => ({ url: '/pki/userAuthentication/crl', expect: 200 }),
  'POST /pki/:ca/ocsp': async (f) => ({ url: '/pki/signature/ocsp', payload: (await f.reads()).ocsp, headers: { 'content-type': 'application/ocsp-request' }, expect: 200 }),
  'GET /pki/:ca/ocsp/*': async (f) => ({ url: `/pki/signature/ocsp/${encodeURIComponent((await f.reads()).ocsp.toString('base64'))}`, expect: 200 }),

  // admin
  'POST /v1/api-keys': async (f) => ({ url: '/v1/api-keys', ...JSON_BODY({ name: `matrix ${f.next()}`, scopes: ['status:read'] }, 201) }),
  'GET /v1/api-keys': async () => ({ url: '/v1/api-keys', expect: 200 }),
  'DELETE /v1/api-keys/:keyId': async (f) => ({ url: `/v1/api-keys/${await f.apiKey()}`, expect: 204 }),
  'GET /v1/audit-events': async () => ({ url: '/v1/audit-events?limit=5', expect: 200 }),
  'GET /v1/audit-events/verification': async () => ({ url: '/v1/audit-events/verification', expect: 200 }),
  'POST /v1/fees/schedules': async (f) => ({ url: '/v1/fees/schedules', ...JSON_BODY({ effectiveFrom: f.futureDate(), fees: await f.feeTable() }, 201) }),
  'PUT /v1/calendar/closures/:date': async (f) => ({ url: `/v1/calendar/closures/${f.futureDate()}`, ...JSON_BODY({ note: 'maintenance' }, 201) }),
  'DELETE /v1/calendar/closures/:date': async (f) => ({ url: `/v1/calendar/closures/${await f.closure()}`, expect: 204 }),
  'GET /v1/pki/consistency': async () => ({ url: '/v1/pki/consistency', expect: 200 }),
  'PUT /v1/clock': async () => ({ url: '/v1/clock', ...JSON_BODY({ now: FIXTURE_NOW }, 200) }),
  'DELETE /v1/clock': async (f) => ({ url: '/v1/clock', expect: 200, after: () => f.setClock() }),

  // status:read
  'POST /v1/certificates/verify': async (f) => ({ url: '/v1/certificates/verify', ...JSON_BODY({ pem: (await f.reads()).pem }, 200) }),
  'POST /v1/fees/quote': async () => ({ url: '/v1/fees/quote', ...JSON_BODY({ procedure: 'certificateIssuance', on: TODAY }, 200) }),
  'GET /v1/fees/schedules': async () => ({ url: '/v1/fees/schedules', expect: 200 }),
  'GET /v1/offices': async () => ({ url: '/v1/offices', expect: 200 }),
  'GET /v1/offices/:officeId/schedule': async () => ({ url: `/v1/offices/main/schedule?from=${TODAY}&to=2026-01-21`, expect: 200 }),
  'GET /v1/offices/:officeId/open': async () => ({ url: `/v1/offices/main/open?at=${encodeURIComponent(FIXTURE_NOW)}`, expect: 200 }),
  'GET /v1/calendar/closures': async () => ({ url: '/v1/calendar/closures', expect: 200 }),
  'POST /v1/pins/check': async () => ({ url: '/v1/pins/check', ...JSON_BODY({ pinKind: 'userAuthentication', pin: '4821' }, 200) }),
  'GET /v1/residents/:residentCode': async (f) => ({ url: `/v1/residents/${(await f.reads()).residentCode}`, expect: 200 }),
  'GET /v1/residents/:residentCode/events': async (f) => ({ url: `/v1/residents/${(await f.reads()).residentCode}/events`, expect: 200 }),
  'GET /v1/certificates/:serial': async (f) => ({ url: `/v1/certificates/${(await f.reads()).serial}`, expect: 200 }),
  'GET /v1/residents/:residentCode/certificates': async (f) => ({ url: `/v1/residents/${(await f.reads()).residentCode}/certificates`, expect: 200 }),
  'GET /v1/residents/:residentCode/renewal-eligibility': async (f) => ({ url: `/v1/residents/${(await f.reads()).residentCode}/renewal-eligibility?on=${TODAY}`, expect: 200 }),
  'GET /v1/renewals/due': async () => ({ url: '/v1/renewals/due?windowOpensFrom=2026-01-01&windowOpensTo=2031-12-31', expect: 200 }),
  'GET /v1/inquiries': async () => ({ url: '/v1/inquiries?state=awaitingMailing', expect: 200 }),
  'GET /v1/inquiries/:inquiryId': async (f) => ({ url: `/v1/inquiries/${(await f.reads()).inquiryId}`, expect: 200 }),
  'GET /v1/inquiries/:inquiryId/events': async (f) => ({ url: `/v1/inquiries/${(await f.reads()).inquiryId}/events`, expect: 200 }),
  'GET /v1/clock': async () => ({ url: '/v1/clock', expect: 200 }),

  // residents:write
  'POST /v1/resident-events': async (f) => {
    const code = await f.resident();
    return { url: '/v1/resident-events', ...JSON_BODY({ eventId: `am-move-${f.next()}`, residentCode: code, type: 'addressChanged', effectiveAt: FIXTURE_NOW, data: { address: `東京都新宿区転居${f.next()}` } }, 201) };
  },
  'POST /v1/resident-events/batch': async (f) => {
    const n = f.next();
    const line = { eventId: `am-batch-${n}`, residentCode: `R-AMB-${n}`, type: 'registered', effectiveAt: '2000-01-01T00:00:00+09:00', data: { name: `一括 ${n}`, address: `東京都新宿区一括${n}`, dateOfBirth: '1985-02-02', sex: 'male' } };
    return { url: '/v1/resident-events/batch', payload: `${JSON.stringify(line)}\n`, headers: { 'content-type': 'application/x-ndjson' }, expect: 200 };
  },

  // certificates:write
  'POST /v1/residents/:residentCode/cards': async (f) => ({ url: `/v1/residents/${await f.resident()}/cards`, ...JSON_BODY({ officeId: 'main', receivedAt: FIXTURE_NOW, issuedOn: TODAY }, 201) }),
  'POST /v1/cards/:cardId/loss-reports': async (f) => ({ url: `/v1/cards/${(await f.card()).cardId}/loss-reports`, ...JSON_BODY({ reportedAt: FIXTURE_NOW }, 201) }),
  'POST /v1/cards/:cardId/recoveries': async (f) => ({ url: `/v1/cards/${await f.lostCard()}/recoveries`, ...JSON_BODY({ foundAt: FIXTURE_NOW }, 201) }),
  'POST /v1/cards/:cardId/returns': async (f) => ({ url: `/v1/cards/${(await f.card()).cardId}/returns`, ...JSON_BODY({ returnedAt: FIXTURE_NOW }, 201) }),
  'POST /v1/cards/:cardId/certificates': async (f) => ({
    url: `/v1/cards/${(await f.card()).cardId}/certificates`,
    ...JSON_BODY({ kind: 'userAuthentication', officeId: 'main', receivedAt: FIXTURE_NOW, applicant: { type: 'self' }, csr: await f.csr() }, 201),
  }),
  'POST /v1/residents/:residentCode/smartphone-certificates': async (f) => ({
    url: `/v1/residents/${await f.signatureHolder()}/smartphone-certificates`,
    ...JSON_BODY({ kind: 'signature', deviceId: `device-${f.next()}`, csr: await f.csr() }, 201),
  }),
  'POST /v1/certificates/:serial/revocation': async (f) => ({ url: `/v1/certificates/${(await f.certificate()).serial}/revocation`, ...JSON_BODY({ reason: 'holderRequest' }, 201) }),
  'POST /v1/cards/:cardId/pin-resets': async (f) => ({
    url: `/v1/cards/${(await f.reads()).cardId}/pin-resets`,
    ...JSON_BODY({ pinKind: 'signature', officeId: 'main', receivedAt: FIXTURE_NOW, applicant: { type: 'self' }, identityDocument: 'driversLicence' }, 201),
  }),
  'POST /v1/cards/:cardId/pin-changes': async (f) => ({
    url: `/v1/cards/${(await f.reads()).cardId}/pin-changes`,
    ...JSON_BODY({ pinKind: 'userAuthentication', officeId: 'main', receivedAt: FIXTURE_NOW, applicant: { type: 'self' } }, 201),
  }),

  // inquiries:write
  'POST /v1/inquiries': async (f) => ({
    url: '/v1/inquiries',
    ...JSON_BODY({ residentCode: (await f.card()).residentCode, purpose: 'certificateIssuance', path: 'withoutLetter', agent: VOLUNTARY_AGENT, officeId: 'main', openedAt: FIXTURE_NOW }, 201, { 'idempotency-key': `am-open-${f.next()}` }),
  }),
  'POST /v1/inquiries/expirations': async () => ({ url: '/v1/inquiries/expirations', ...JSON_BODY({ asOf: FIXTURE_NOW }, 200) }),
  'POST /v1/inquiries/:inquiryId/mailings': async (f) => {
    const c = await f.inquiry('withoutLetter');
    return { url: `/v1/inquiries/${c.inquiryId}/mailings`, ...JSON_BODY({ mailedOn: TODAY }, 200, { 'if-match': c.etag }) };
  },
  'POST /v1/inquiries/:inquiryId/visits': async (f) => {
    const c = await f.inquiry('withLetter');
    return { url: `/v1/inquiries/${c.inquiryId}/visits`, ...JSON_BODY({ officeId: 'main', visitedAt: FIXTURE_NOW, ...GOOD_VISIT }, 200, { 'if-match': c.etag }) };
  },
  'POST /v1/inquiries/:inquiryId/cancellation': async (f) => {
    const c = await f.inquiry('withoutLetter');
    return { url: `/v1/inquiries/${c.inquiryId}/cancellation`, ...JSON_BODY({ reason: 'the resident came in person' }, 200, { 'if-match': c.etag }) };
  },
};
