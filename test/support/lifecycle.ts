import type { TestApp } from './app.js';

/** Small steps of the black-box scenarios: each returns the parsed answer and checks the status. */
export function lifecycle(h: TestApp) {
  let n = 0;
  const expect = async (res: Promise<{ statusCode: number; body: string; json(): any }>, status: number) => {
    const r = await res;
    if (r.statusCode !== status) throw new Error(`expected ${status}, got ${r.statusCode}: ${r.body}`);
    return r.json();
  };
  return {
    setClock: (now: string) => expect(h.request({ method: 'PUT', url: '/v1/clock', payload: { now } }), 200),
    event: (residentCode: string, type: string, effectiveAt: string, data?: Record<string, unknown>, status = 201) =>
      expect(h.request({ method: 'POST', url: '/v1/resident-events', payload: { eventId: `ev-${residentCode}-${++n}`, residentCode, type, effectiveAt, ...(data ? { data } : {}) } }), status),
    register: (residentCode: string, data: Record<string, unknown>) =>
      expect(h.request({ method: 'POST', url: '/v1/resident-events', payload: { eventId: `reg-${residentCode}`, residentCode, type: 'registered', effectiveAt: '2000-01-01T00:00:00+09:00', data } }), 201),
    card: (residentCode: string, issuedOn: string, receivedAt: string) =>
      expect(h.request({ method: 'POST', url: `/v1/residents/${residentCode}/cards`, payload: { officeId: 'main', receivedAt, issuedOn } }), 201),
    issue: (cardId: string, kind: string, receivedAt: string, extra: Record<string, unknown> = {}, status = 201) =>
      expect(h.request({ method: 'POST', url: `/v1/cards/${cardId}/certificates`, payload: { kind, officeId: 'main', receivedAt, applicant: { type: 'self' }, generateKey: true, ...extra } }), status),
    status: (serial: string, at?: string) => expect(h.request({ method: 'GET', url: `/v1/certificates/${serial}${at ? `?at=${encodeURIComponent(at)}` : ''}` }), 200),
  };
}
