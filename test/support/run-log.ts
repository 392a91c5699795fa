/**
 * The whole test run's log, for the scan scripts/test.ts makes when tap has finished
 * (test/support/log-scan.ts): every test app (test/support/app.ts) and every service child process
 * (test/support/service-process.ts and the tests that spawn their own) also writes its log lines to
 * a file of TEST_LOG_DIR, which scripts/test.ts makes for each run. Test apps also record the PINs,
 * names, addresses, API key secrets and private keys that cross them (SENT_DIR), so that values
 * made up at run time are looked for too. Without TEST_LOG_DIR (tap run by hand) nothing is kept.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';

/** Where test processes record the values they sent and received; not itself scanned. */
export const SENT_DIR = 'sent';

export type SecretKind = 'PIN' | 'name' | 'address' | 'API key secret' | 'private key' | 'admin key' | 'CA passphrase';

let files = 0;

/** A new file of this run's log directory, or undefined when the run keeps no logs. */
export function runLogFile(label: string): string | undefined {
  const dir = process.env.TEST_LOG_DIR;
  return dir ? path.join(dir, `${label}-${process.pid}-${++files}.log`) : undefined;
}

/** A log stream for buildApp: every line to this run's log directory, and into `capture` if given. */
export function runLogStream(label: string, capture?: string[]): Writable {
  const file = runLogFile(label);
  return new Writable({
    write(chunk, _enc, done) {
      const text = chunk.toString();
      capture?.push(text);
      if (file) appendFileSync(file, text);
      done();
    },
  });
}

/** Copies a child process's piped stdout and stderr into this run's log directory (or just drains them). */
export function teeToRunLog(child: ChildProcess, label: string): void {
  const file = runLogFile(label);
  const append = (b: Buffer) => {
    if (file) appendFileSync(file, b);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
}

function hasNonAscii(s: string): boolean {
  return /[^\x20-\x7e]/.test(s);
}

/**
 * The values in a request or response body that no log may hold: PINs, personal names and addresses
 * (written with non-ASCII characters, as residents' are: ASCII `name`s here label API keys and the
 * like), API key secrets, lines of private keys. NDJSON bodies are read line by line.
 */
export function secretsIn(body: unknown): [SecretKind, string][] {
  const out: [SecretKind, string][] = [];
  const walk = (value: unknown, key: string, depth: number) => {
    if (depth > 12) return;
    if (typeof value === 'string') {
      if (/^(pin|currentPin|newPin)$/.test(key) && /^[0-9A-Za-z]{4,16}$/.test(value)) out.push(['PIN', value]);
      else if (/^(name|alias)$/.test(key) && value.trim().length >= 3 && hasNonAscii(value)) out.push(['name', value.trim()]);
      else if (/^(address|registeredAddress)$/.test(key) && value.trim().length >= 3 && hasNonAscii(value)) out.push(['address', value.trim()]);
      else if (key === 'secret' && /^jpw_[A-Za-z0-9_-]{20,}$/.test(value)) out.push(['API key secret', value]);
      else if (key === 'privateKeyPem') {
        for (const line of value.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l)).slice(0, 2)) out.push(['private key', line]);
      }
      return;
    }
    if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
    for (const [k, v] of Object.entries(value)) walk(v, Array.isArray(value) ? key : k, depth + 1);
  };
  if (typeof body === 'string') {
    for (const line of body.split('\n')) {
      try {
        walk(JSON.parse(line), '', 0);
      } catch {
        // not JSON
      }
    }
  } else {
    walk(body, '', 0);
  }
  return out;
}

/** Records values for the end-of-run scan (a no-op without TEST_LOG_DIR). */
export function recordSecrets(values: [SecretKind, string][]): void {
  const dir = process.env.TEST_LOG_DIR;
  if (!dir || values.length === 0) return;
  appendFileSync(path.join(dir, SENT_DIR, `${process.pid}.jsonl`), values.map((v) => `${JSON.stringify(v)}\n`).join(''));
}
