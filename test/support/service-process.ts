import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { ADMIN_KEY } from './app.js';
import { teeToRunLog } from './run-log.js';

/** The service as `npm start` runs it, in a child process a fault test can SIGKILL. */
const root = new URL('../..', import.meta.url).pathname;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

export function jstToday(): string {
  return new Date(new Date().getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

/** Node's arguments to run src/ with tsx, as the test processes do (.taprc): with source text in the maps, for coverage. */
export const TSX_NODE_ARGS = ['--import=tsx', '--import=./test/support/source-maps.mjs'];

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
