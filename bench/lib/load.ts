/**
 * The load generator, run as its own process (`node --import=tsx bench/lib/load.ts '<json>'`) so
 * that it does not share an event loop with the server under test. autocannon with fixed
 * connections and duration. Either each request asks for a random serial of the dataset (GET
 * url + serial; residents 1..residents, both kinds), or, with `requestsFile`, the requests of that
 * JSON file ([{ method, path, body }]) are sent in order (once each, unless the time outlasts the
 * list). Prints one JSON line: { reqPerSec, p50Ms, p99Ms, requests, errors, non2xx }.
 */
import { readFileSync } from 'node:fs';
// @ts-expect-error -- autocannon publishes no type declarations; the little used here is typed below.
import autocannonUntyped from 'autocannon';
import { datasetSerial } from './dataset.js';

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  residents: number;
  headers?: Record<string, string>;
  requestsFile?: string;
}

interface AcRequest { method?: string; path?: string; body?: string; headers?: Record<string, string>; setupRequest?: (req: AcRequest) => AcRequest }
interface AcResult { requests: { average: number; total: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number; timeouts: number }
const autocannon = autocannonUntyped as (opts: Record<string, unknown>, done: (err: Error | null, result: AcResult) => void) => void;

const opts = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
// A pool of random serials made before the clock starts (md5 per request would load the client).
const POOL = 50_000;
const serials: string[] = [];
for (let k = 0; k < (opts.requestsFile ? 0 : POOL); k++) {
  const i = 1 + Math.floor(Math.random() * opts.residents);
  serials.push(datasetSerial(i, Math.random() < 0.5 ? 'signature' : 'userAuthentication'));
}
let next = 0;
const base = new URL(opts.url);
const list = opts.requestsFile ? (JSON.parse(readFileSync(opts.requestsFile, 'utf8')) as { method: string; path: string; body: unknown }[]) : undefined;
const fromList = (req: AcRequest): AcRequest => {
  // Past the end the list starts again (for issuance, those answers are refusals and count as non-2xx).
  const r = list![next++ % list!.length]!;
  return { ...req, method: r.method, path: r.path, body: JSON.stringify(r.body) };
};
const result = await new Promise<AcResult>((resolve, reject) => {
  autocannon(
    {
      url: base.origin,
      connections: opts.connections,
      duration: opts.durationS,
      headers: opts.headers ?? {},
      requests: [list ? { setupRequest: fromList } : { method: 'GET', setupRequest: (req: AcRequest) => ({ ...req, path: `${base.pathname}${serials[next++ % POOL]}` }) }],
    },
    (err, res) => (err ? reject(err) : resolve(res)),
  );
});
console.log(JSON.stringify({
  reqPerSec: Math.round(result.requests.average),
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  requests: result.requests.total,
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
}));
