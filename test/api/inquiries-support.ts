import type pg from 'pg';
import type { TestApp } from '../support/app.js';

export const JST = (s: string) => `${s}+09:00`;

/** The resident most inquiry tests register. */
export const HANAKO = { name: '新宿 花子', address: '東京都新宿区四谷1-1', dateOfBirth: '1990-05-20', sex: 'female' };

export const GOOD_VISIT = { letterComplete: true, bothSidesFilled: true, applicationFormComplete: true, agentIdentityVerified: true, pinVerified: true };
export const VOLUNTARY = { kind: 'voluntary', name: '代理 一郎', identityDocument: 'driversLicence' };

/** Inquiry-case steps over HTTP: each returns the response (status not checked) with its JSON. */
export function cases(h: TestApp, auth?: string) {
  const req = (method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    h.request({ method, url, ...(payload === undefined ? {} : { payload: payload as object }), headers, ...(auth ? { auth } : {}) });
  const withIfMatch = (etag: string | undefined): Record<string, string> => (etag === undefined ? {} : { 'if-match': etag });
  return {
    open: (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      req('POST', '/v1/inquiries', { purpose: 'certificateIssuance', path: 'withoutLetter', agent: VOLUNTARY, officeId: 'main', ...body }, headers),
    get: (id: string) => req('GET', `/v1/inquiries/${id}`),
    events: (id: string) => req('GET', `/v1/inquiries/${id}/events`),
    mail: (id: string, etag: string | undefined, mailedOn: string, headers: Record<string, string> = {}) =>
      req('POST', `/v1/inquiries/${id}/mailings`, { mailedOn }, { ...withIfMatch(etag), ...headers }),
    visit: (id: string, etag: string | undefined, visitedAt: string, checks: Record<string, boolean> = {}, headers: Record<string, string> = {}) =>
      req('POST', `/v1/inquiries/${id}/visits`, { officeId: 'main', visitedAt, ...GOOD_VISIT, ...checks }, { ...withIfMatch(etag), ...headers }),
    cancel: (id: string, etag: string | undefined, reason: string) => req('POST', `/v1/inquiries/${id}/cancellation`, { reason }, withIfMatch(etag)),
    expirations: (asOf: string) => req('POST', '/v1/inquiries/expirations', { asOf }),
    list: (query: string) => req('GET', `/v1/inquiries?${query}`),
  };
}

/**
 * Waits (up to 4 s, within the default 5 s statement timeout) until `n` sessions of this database
 * wait for a lock; returns how many do. `client` may be inside a transaction: pg_stat_activity is
 * read afresh each time, not from the snapshot the transaction took at its first look.
 */
export async function lockWaiters(client: pg.Client, n: number): Promise<number> {
  let waiting = 0;
  for (let i = 0; i < 80 && waiting < n; i++) {
    await new Promise((r) => setTimeout(r, 50));
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
    waiting = Number(rows[0].n);
  }
  return waiting;
}
