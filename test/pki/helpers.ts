// Shared fixtures for the PKI tests: a temp dir, openssl as the independent
// judge, and CAs made once per test file.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KeyObject } from 'node:crypto';
import {
  buildCaCertificate,
  buildResponderCertificate,
  caIdentity,
  generateRsaKeyPair,
  ocspResponder,
  toPem,
  type CaId,
  type CaIdentity,
  type OcspResponder,
} from '../../src/pki/index.js';

const execFileAsync = promisify(execFile);

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs openssl; never throws on a non-zero exit (tests assert on it). */
export async function openssl(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<OpensslResult> {
  try {
    const { stdout, stderr } = await execFileAsync('openssl', args, { cwd: opts.cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jpki-pki-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function put(dir: string, name: string, data: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

export const DAY = 86_400_000;
/** Tests run against the real clock because openssl checks validity against it. */
export const now = (): Date => new Date(Math.floor(Date.now() / 1000) * 1000);

export interface TestCa {
  id: CaIdentity;
  key: KeyObject;
  pem: string;
  responder: OcspResponder;
}

export async function makeCa(ca: CaId): Promise<TestCa> {
  const [{ privateKey }, responderKeys] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  const start = new Date(now().getTime() - DAY);
  const cert = await buildCaCertificate({ ca, privateKey, notBefore: start, notAfter: new Date(start.getTime() + 3650 * DAY) });
  const id = caIdentity(ca, cert.der);
  const resp = await buildResponderCertificate({ issuer: id, caPrivateKey: privateKey, responderPublicKey: responderKeys.publicKey, notBefore: start });
  return { id, key: privateKey, pem: toPem(cert.der), responder: ocspResponder(resp.der, responderKeys.privateKey) };
}

/** `openssl req` makes a key and CSR, as a client would. */
export async function opensslCsr(dir: string, name: string, keySpec: string[] = ['-newkey', 'rsa:2048']): Promise<{ csrPath: string; keyPath: string }> {
  const csrPath = join(dir, `${name}.csr`);
  const keyPath = join(dir, `${name}.key`);
  const r = await openssl(['req', '-new', ...keySpec, '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', '/CN=ignored by the CA']);
  if (r.code !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { csrPath, keyPath };
}

export const BASE_URL = 'https://jpki-ward.test.example';
