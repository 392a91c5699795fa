import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** openssl, the independent judge; returns stdout+stderr, never throws on a non-zero exit. */
export async function openssl(args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('openssl', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

export interface Workdir {
  dir: string;
  file(name: string, content: string | Uint8Array): string;
  remove(): void;
}

export function workdir(): Workdir {
  const dir = mkdtempSync(path.join(tmpdir(), 'jpki-openssl-'));
  return {
    dir,
    file(name, content) {
      const p = path.join(dir, name);
      writeFileSync(p, content);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A PKCS#10 CSR made by openssl, as a card or phone would make its own key. */
export async function opensslCsr(w: Workdir, name = 'req', keySpec = 'rsa:2048'): Promise<string> {
  const key = path.join(w.dir, `${name}.key`);
  const csr = path.join(w.dir, `${name}.csr`);
  const res = await openssl(['req', '-new', '-newkey', keySpec, '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=applicant']);
  if (res.code !== 0) throw new Error(res.out);
  const { readFileSync } = await import('node:fs');
  return readFileSync(csr, 'utf8');
}

/** A P-256 key and its CSR (quicker to make than RSA; both certificate kinds accept it). */
export function opensslP256Csr(w: Workdir, name = 'req'): Promise<string> {
  const params = path.join(w.dir, 'p256.pem');
  if (!existsSync(params)) writeFileSync(params, '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n');
  return opensslCsr(w, name, `ec:${params}`);
}
