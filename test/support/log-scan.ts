/**
 * The scan scripts/test.ts makes of the whole run's log (TEST_LOG_DIR, test/support/run-log.ts) once
 * tap has finished: no PIN, name or address used in the tests, no API key secret or private key, not
 * the admin keys nor the CA passphrase may appear in any line. The values come from the test sources
 * (every `name:`, `address:`, `alias:`, `pin:` literal under test/, the keys and passphrases they
 * configure, less what the service's own sources hold, such as office names) and from what the test
 * apps recorded at run time. A finding names the file, the line
 * and the kind of secret, never the secret.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DEV_CA_KEY_PASSPHRASE } from '../../src/config.js';
import { SENT_DIR, type SecretKind } from './run-log.js';

export interface Secret {
  kind: SecretKind;
  value: string;
}

export interface Finding {
  file: string;
  line: number;
  kind: SecretKind;
}

const PERSONAL = /\b(name|alias|address|registeredAddress)\s*:\s*(?:'([^'\\\n]+)'|"([^"\\\n]+)"|`([^`\\]+)`)/g;
const PERSONAL_CONST = /\bconst\s+[A-Z_]*(NAME|ADDRESS)[A-Z_]*\s*=\s*'([^'\\\n]+)'/g;
const PINS = /\b(?:pin|currentPin|newPin)\s*:\s*'([0-9A-Za-z]{4,16})'|\bconst\s+[A-Z_]*PIN[A-Z_]*\s*=\s*'([0-9A-Za-z]{4,16})'/g;
const ADMIN_KEYS = /\b(?:ADMIN_API_KEY\s*:|ADMIN_KEY\s*=)\s*'([^'\n]{24,})'/g;
const PASSPHRASES = /\bCA_KEY_PASSPHRASE\s*:\s*'([^'\n]{12,})'/g;
const API_KEYS = /'(jpw_[A-Za-z0-9_-]{20,})'/g;

function hasNonAscii(s: string): boolean {
  return /[^\x20-\x7e]/.test(s);
}

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : files(p, suffix);
    return e.name.endsWith(suffix) ? [p] : [];
  });
}

/**
 * Personal values from a test source: whole literals, and the fixed parts of templates as written
 * (`保有 ${i}` gives '保有 ': with its space, it is what a leaked name would show), of 3 characters or
 * more with at least 2 non-ASCII ones.
 */
function personal(kind: 'name' | 'address', literal: string, template: boolean): Secret[] {
  const parts = template ? literal.split(/\$\{[^}]*\}/) : [literal.trim()];
  return parts.filter((p) => p.length >= 3 && (p.match(/[^\x20-\x7e]/g)?.length ?? 0) >= 2).map((value) => ({ kind, value }));
}

/** The service's own text (reference data such as office names and addresses): not test data, may be logged. */
function inServiceSources(roots: string[]): (value: string) => boolean {
  const text = roots.flatMap((r) => files(r, '.ts')).map((f) => readFileSync(f, 'utf8')).join('\n');
  return (value) => text.includes(value);
}

/**
 * Every secret the test sources name (the admin key of test/support/app.ts among them), and the fixed
 * ones: the development CA passphrase and the PEM private-key marker.
 */
export function secretsInSources(testRoot: string, serviceRoots: string[] = []): Secret[] {
  const out: Secret[] = [
    { kind: 'CA passphrase', value: DEV_CA_KEY_PASSPHRASE },
    { kind: 'private key', value: 'PRIVATE KEY' },
  ];
  for (const file of files(testRoot, '.ts')) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(PERSONAL)) {
      const kind = m[1] === 'address' || m[1] === 'registeredAddress' ? 'address' : 'name';
      out.push(...personal(kind, (m[2] ?? m[3] ?? m[4])!, m[4] !== undefined));
    }
    for (const m of text.matchAll(PERSONAL_CONST)) out.push(...personal(m[1] === 'ADDRESS' ? 'address' : 'name', m[2]!, false));
    for (const m of text.matchAll(PINS)) out.push({ kind: 'PIN', value: (m[1] ?? m[2])! });
    for (const m of text.matchAll(ADMIN_KEYS)) out.push({ kind: 'admin key', value: m[1]! });
    for (const m of text.matchAll(PASSPHRASES)) out.push({ kind: 'CA passphrase', value: m[1]! });
    for (const m of text.matchAll(API_KEYS)) out.push({ kind: 'API key secret', value: m[1]! });
  }
  const ours = inServiceSources(serviceRoots);
  return out.filter((s) => (s.kind !== 'name' && s.kind !== 'address') || !ours(s.value));
}

/** What the test processes recorded (run-log.ts recordSecrets). */
export function secretsRecorded(logDir: string): Secret[] {
  const dir = path.join(logDir, SENT_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) =>
    readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean).map((l) => {
      const [kind, value] = JSON.parse(l) as [SecretKind, string];
      return { kind, value };
    }),
  );
}

const ALNUM = /[0-9A-Za-z]/;

/** A PIN inside a longer run of letters and digits (a serial, a request id, a number) is not that PIN. */
function standsAlone(line: string, at: number, length: number): boolean {
  return !ALNUM.test(line[at - 1] ?? '') && !ALNUM.test(line[at + length] ?? '');
}

/**
 * Finds every secret in every log file under logDir (the record of sent values excepted). Short
 * ASCII values (4- and 5-character PINs) are looked for as JSON strings ("1234"), where a log would
 * hold them, not as any run of digits; longer PINs as whole words; the rest as they are.
 */
export async function scanLogs(logDir: string, secrets: Secret[]): Promise<{ findings: Finding[]; files: number; bytes: number; values: number }> {
  // Index by the first two UTF-16 units: one Map lookup per position of a line.
  const byPrefix = new Map<number, { needle: string; kind: SecretKind; whole: boolean }[]>();
  const seen = new Set<string>();
  for (const s of secrets) {
    const needle = s.value.length < 6 && !hasNonAscii(s.value) ? `"${s.value}"` : s.value;
    if (needle.length < 3 || seen.has(needle)) continue;
    seen.add(needle);
    const key = (needle.charCodeAt(0) << 16) | needle.charCodeAt(1);
    let list = byPrefix.get(key);
    if (!list) byPrefix.set(key, (list = []));
    list.push({ needle, kind: s.kind, whole: s.kind === 'PIN' });
  }
  const findings: Finding[] = [];
  const reported = new Set<string>();
  let bytes = 0;
  const logFiles = readdirSync(logDir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(logDir, e.name));
  for (const file of logFiles) {
    bytes += statSync(file).size;
    let n = 0;
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      n++;
      for (let i = 0; i + 1 < line.length; i++) {
        const candidates = byPrefix.get((line.charCodeAt(i) << 16) | line.charCodeAt(i + 1));
        if (!candidates) continue;
        for (const c of candidates) {
          if (!line.startsWith(c.needle, i) || (c.whole && !standsAlone(line, i, c.needle.length))) continue;
          const k = `${file}\0${c.kind}`;
          if (!reported.has(k)) {
            reported.add(k);
            findings.push({ file, line: n, kind: c.kind });
          }
        }
      }
    }
  }
  return { findings, files: logFiles.length, bytes, values: seen.size };
}

/** The lines a finding is reported in: file, line and kind, never the value. */
export function describeFindings(findings: Finding[]): string[] {
  return findings.map((f) => `log scan: ${f.kind} found in ${f.file} (first at line ${f.line})`);
}
