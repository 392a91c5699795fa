// Shared by the PKI API tests: a resident row, certificates issued through the service contract
// from `openssl req` CSRs, and openssl as the judge.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { parseCsr, type BasicFacts } from '../../src/pki/index.js';
import { issueCertificate, type IssuedCertificateResult } from '../../src/services/certificate-status.js';
import { inTransaction } from '../../src/services/context.js';

const execFileAsync = promisify(execFile);

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function openssl(args: string[], cwd?: string): Promise<OpensslResult> {
  try {
    const { stdout, stderr } = await execFileAsync('/usr/bin/openssl', args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jpki-api-pki-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function put(dir: string, name: string, data: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

export const FACTS: BasicFacts = { name: '公的 太郎', sex: 'male', dateOfBirth: '1990-05-20', address: '東京都新宿区西新宿二丁目8番1号' };

export async function insertResident(app: FastifyInstance, residentCode = 'R-0001'): Promise<string> {
  const now = app.ctx.clock.now();
  await app.ctx.db
    .insertInto('residents')
    .values({ resident_code: residentCode, name: FACTS.name, address: FACTS.address, date_of_birth: '1990-05-20', sex: 'male', alias: null, stay_until: null, registered_at: now, updated_at: now })
    .execute();
  return residentCode;
}

/** `openssl req` key + CSR; returns the CSR PEM. */
export async function opensslCsr(dir: string, name: string, keySpec: string[] = ['-newkey', 'rsa:2048']): Promise<{ csrPath: string; keyPath: string }> {
  const csrPath = join(dir, `${name}.csr`);
  const keyPath = join(dir, `${name}.key`);
  const r = await openssl(['req', '-new', ...keySpec, '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', '/CN=ignored by the CA']);
  if (r.code !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { csrPath, keyPath };
}

const DAY = 86_400_000;

export async function issue(
  app: FastifyInstance,
  kind: 'signature' | 'userAuthentication',
  spki: Uint8Array,
  residentCode: string,
): Promise<IssuedCertificateResult> {
  const now = app.ctx.clock.now();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + 365 * DAY);
  return inTransaction(app.ctx, (trx) =>
    issueCertificate(trx, app.ctx, {
      ca: kind,
      spki,
      notBefore,
      notAfter,
      expiresOn: notAfter.toISOString().slice(0, 10),
      ...(kind === 'signature' ? { basicFacts: FACTS } : {}),
      kind,
      carrier: 'card',
      residentCode,
      cardId: null,
      deviceId: null,
      procedure: 'newIssuance',
      cause: 'test',
    }),
  );
}

export async function issueFromOpensslCsr(app: FastifyInstance, dir: string, name: string, kind: 'signature' | 'userAuthentication', residentCode: string) {
  const { readFile } = await import('node:fs/promises');
  const { csrPath, keyPath } = await opensslCsr(dir, name);
  const csr = parseCsr(await readFile(csrPath, 'utf8'));
  const issued = await issue(app, kind, csr.spki, residentCode);
  const certPath = await put(dir, `${name}.pem`, issued.pem);
  return { ...issued, certPath, keyPath };
}

/**
 * Where `logs` shows any of `keys` (a private key, PEM or KeyObject): a PEM header, a base64 line
 * of its body (PEM or JSON-escaped, wrapped or not), or a stretch of its DER in hex. Empty: none.
 */
export function keyMaterialIn(logs: string, keys: (string | KeyObject)[]): string[] {
  const found: string[] = [];
  if (/PRIVATE KEY/.test(logs)) found.push('a PEM private key header');
  for (const key of keys) {
    const pem = typeof key === 'string' ? key : (key.export({ format: 'pem', type: 'pkcs8' }) as string);
    const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    // 32 characters every 16: whole inside each 64-character PEM line, and in unwrapped base64 too.
    for (let i = 0; i + 32 <= body.length; i += 16) if (logs.includes(body.slice(i, i + 32))) found.push(`base64 at ${i}`);
    const der = Buffer.from(body, 'base64');
    for (let i = 0; i + 32 <= der.length; i += 32) if (logs.toLowerCase().includes(der.subarray(i, i + 32).toString('hex'))) found.push(`hex at ${i}`);
  }
  return found;
}
