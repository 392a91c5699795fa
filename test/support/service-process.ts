import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from './app.js';
import { opensslP256Csr, workdir } from './openssl.js';
import { runLogStream, teeToRunLog } from './run-log.js';

/** The service as `npm start` runs it, in a child process a fault test can SIGKILL. */
const root = new URL('../..', import.meta.url).pathname;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

export function jstToday(): string {
  return new Date(new Date().getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/** Node's arguments to run src/ with tsx, as the test processes do (.taprc): with source text in the maps, for coverage. */
export const TSX_NODE_ARGS = ['--import=tsx', '--import=./test/support/source-maps.mjs'];

/**
 * Residents `${prefix}0` … each holding a signature certificate on a card (P-256 keys made by openssl),
 * made through the service in-process on the database of `env` (same CAs) before a child is started on
 * it: what a batch of address changes then revokes. Registered as of 2020 with event ids `${prefix}-reg-i`
 * in lower case.
 */
export async function signatureHolders(env: Record<string, string>, count: number, prefix: string): Promise<{ code: string; serial: string }[]> {
  const today = jstToday();
  const nowIso = new Date().toISOString();
  // The set-up is not under test: no load shedding there, however busy the machine.
  const app = await buildApp(loadConfig({ ...env, NODE_ENV: 'test', LOG_LEVEL: 'warn', MAX_EVENT_LOOP_DELAY_MS: '0' }), { logStream: runLogStream('app') });
  const keys = workdir();
  const req = (url: string, payload: object) => app.inject({ method: 'POST', url, payload, headers: auth }).then((r) => {
    if (r.statusCode !== 201) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  });
  const holders: { code: string; serial: string }[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const code = `${prefix}${i}`;
      await req('/v1/resident-events', { eventId: `${prefix.toLowerCase()}-reg-${i}`, residentCode: code, type: 'registered', effectiveAt: '2020-01-01T00:00:00Z', data: { name: `保有 ${i}`, address: `東京都新宿区${i}`, dateOfBirth: '1980-01-01', sex: 'male' } });
      const { card } = await req(`/v1/residents/${code}/cards`, { officeId: 'main', receivedAt: nowIso, issuedOn: today });
      const sig = await req(`/v1/cards/${card.cardId}/certificates`, { kind: 'signature', officeId: 'main', receivedAt: nowIso, applicant: { type: 'self' }, csr: await opensslP256Csr(keys, `h${i}`) });
      holders.push({ code, serial: sig.certificate.serial });
    }
  } finally {
    keys.remove();
    await app.close();
  }
  return holders;
}

/** Starts src/server.ts and waits for /health/ready, polling every 100 ms up to `readyPolls` times. */
export async function startService(env: Record<string, string>, port: number, readyPolls: number): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [...TSX_NODE_ARGS, 'src/server.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  teeToRunLog(child, 'service');
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) break;
    } catch {
      // not yet
    }
    if (i > readyPolls || child.exitCode !== null) throw new Error(`service did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, log: () => out };
}

/** Streams the file as an NDJSON batch; calls onLine for each answer line; resolves when the answer ends or the socket dies. */
export function postBatch(port: number, file: string, onLine: (line: any) => void): Promise<'complete' | 'aborted'> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/resident-events/batch', headers: { ...auth, 'content-type': 'application/x-ndjson' } }, (res) => {
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        rest += chunk;
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          onLine(JSON.parse(rest.slice(0, nl)));
          rest = rest.slice(nl + 1);
        }
      });
      res.on('end', () => resolve('complete'));
      res.on('error', () => resolve('aborted'));
      res.on('aborted', () => resolve('aborted'));
    });
    req.on('error', () => resolve('aborted'));
    createReadStream(file).pipe(req);
  });
}
