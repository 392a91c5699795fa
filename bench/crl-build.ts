/**
 * A full CRL of 1,000,000 revoked entries (100,000 with --quick), each with a reason code and,
 * for key compromises, an invalidity date: built by our encoder (src/pki/crl.ts) and by
 * `openssl ca -gencrl` from an index.txt holding the same entries, same key, same machine.
 * Our output is checked with `openssl crl -noout` and its signature with `openssl crl -CAfile`.
 * index.txt carries the compromise time of keyCompromise entries, but openssl ca 3.x does not write
 * it into the CRL as invalidityDate; ours does (26 bytes an entry), so our CRL is the larger one.
 * Our time is the median of three builds in one process (the first pays for JIT warm-up, as the
 * service's first CRL after start does); openssl's is one `openssl ca` process, as an operator runs it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildCaCertificate, buildCrl, caIdentity, generateRsaKeyPair, generateSerial, PackedCrlEntries, toPem, type RevocationReason } from '../src/pki/index.js';
import { quick, writeResult } from './lib/result.js';

const N = Number(process.env.CRL_ENTRIES) || (quick ? 100_000 : 1_000_000);
const REASONS: RevocationReason[] = ['affiliationChanged', 'superseded', 'keyCompromise', 'cessationOfOperation', 'certificateHold'];
const dir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-crl-'));
const openssl = (args: string[]) => execFileSync('/usr/bin/openssl', args, { cwd: dir, maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

try {
  const { privateKey } = await generateRsaKeyPair(2048);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const caCert = await buildCaCertificate({ ca: 'signature', privateKey, notBefore: new Date(now.getTime() - 86_400_000), notAfter: new Date(now.getTime() + 3650 * 86_400_000) });
  const issuer = caIdentity('signature', caCert.der);
  writeFileSync(path.join(dir, 'ca.pem'), toPem(caCert.der));
  writeFileSync(path.join(dir, 'ca.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);

  // The entries, held as the service holds them for a CRL (PackedCrlEntries), and the same entries
  // as openssl's index.txt lines.
  const entries = new PackedCrlEntries();
  const tenth = new PackedCrlEntries();
  const lines: string[] = new Array(N);
  const utc = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const gen = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  const expiry = utc(new Date(now.getTime() + 5 * 365 * 86_400_000));
  for (let i = 0; i < N; i++) {
    const serial = generateSerial();
    const reason = REASONS[i % REASONS.length]!;
    const revokedAt = new Date(now.getTime() - (i % 86_400) * 1000 - 3_600_000);
    const invalidity = reason === 'keyCompromise' ? new Date(revokedAt.getTime() - 86_400_000) : null;
    entries.push(serial, revokedAt, reason, invalidity);
    if (i < N / 10) tenth.push(serial, revokedAt, reason, invalidity);
    const extra = reason === 'keyCompromise' ? `,${reason},${gen(invalidity!)}` : reason === 'certificateHold' ? `,${reason},holdInstructionReject` : `,${reason}`;
    lines[i] = `R\t${expiry}\t${utc(revokedAt)}${extra}\t${serial.toUpperCase()}\tunknown\t/CN=${i}`;
  }
  writeFileSync(path.join(dir, 'index.txt'), lines.join('\n') + '\n');
  writeFileSync(path.join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  writeFileSync(path.join(dir, 'crlnumber'), '01\n');
  writeFileSync(path.join(dir, 'ca.cnf'), `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = index.txt
crlnumber = crlnumber
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_crl_hours = 24
crl_extensions = crl_ext
unique_subject = no
[ crl_ext ]
authorityKeyIdentifier = keyid:always
`);

  // Ours: median of 3 (the first includes JIT warm-up).
  const build = (list: PackedCrlEntries) => buildCrl({ issuer, caPrivateKey: privateKey, crlNumber: 1n, thisUpdate: now, nextUpdate: new Date(now.getTime() + 86_400_000), entries: list }).der;
  const medianOf = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
  const oursMs: number[] = [];
  let der: Buffer = Buffer.alloc(0);
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    der = build(entries);
    oursMs.push(Math.round(performance.now() - t0));
  }
  // Growth (issue #9: CRL time grows linearly): the same at a tenth of the entries, median of 3.
  const tenthMs: number[] = [];
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    build(tenth);
    tenthMs.push(Math.round(performance.now() - t0));
  }
  writeFileSync(path.join(dir, 'ours.der'), der);
  openssl(['crl', '-inform', 'DER', '-in', 'ours.der', '-noout']);
  const sig = execFileSync('/usr/bin/openssl', ['crl', '-inform', 'DER', '-in', 'ours.der', '-noout', '-CAfile', 'ca.pem'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (/verify failure/i.test(sig)) throw new Error('openssl does not accept our CRL signature');

  // openssl ca -gencrl (single run: it is the slow one).
  const t1 = performance.now();
  openssl(['ca', '-gencrl', '-config', 'ca.cnf', '-out', 'openssl.pem', '-batch']);
  const opensslMs = Math.round(performance.now() - t1);
  openssl(['crl', '-in', 'openssl.pem', '-outform', 'DER', '-out', 'openssl.der']);
  const { statSync } = await import('node:fs');
  const median = medianOf(oursMs);
  const tenthMedian = medianOf(tenthMs);
  writeResult({
    name: 'crl-build',
    dataset: `${N.toLocaleString('en')} revoked entries, 5 reasons in turn, invalidityDate on keyCompromise, RSA-2048 / SHA-256`,
    baseline: { label: 'openssl ca -gencrl from index.txt, same entries and key', ms: opensslMs, bytes: statSync(path.join(dir, 'openssl.der')).size },
    ours: {
      ms: median, runsMs: oursMs, bytes: der.length, opensslCrlCheck: 'openssl crl -noout and -CAfile: OK',
      // Time per entry at N ÷ time per entry at N/10: 1 is linear.
      growth: { entries: [N / 10, N], ms: [tenthMedian, median], perEntryRatio: Math.round((median / N / (tenthMedian / (N / 10))) * 100) / 100 },
    },
    ratio: Math.round((opensslMs / median) * 10) / 10,
    ratioMeaning: 'openssl time ÷ our time (higher is better for us)',
    quick,
  });
} finally {
  if (!process.env.KEEP_BENCH_DIR) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
