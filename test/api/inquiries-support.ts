import type { TestApp } from '../support/app.js';

export const JST = (s: string) => `${s}+09:00`;

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
