import t from 'tap';
import { CacheBus } from '../../src/services/cache-invalidation.js';
import { OcspCache } from '../../src/services/ocsp-cache.js';

/** The cache's rules without a database: the bus stands in for the LISTEN connection. */
const responderCert = Buffer.from('RESPONDER-CERTIFICATE');
const answer = (text: string) => ({ der: Buffer.concat([Buffer.from(text), responderCert]), thisUpdate: new Date(0), nextUpdate: new Date(1000) });

function setup(maxEntries = 10) {
  const bus = new CacheBus();
  bus.connection = { broken: false };
  const dropped: string[] = [];
  const cache = new OcspCache(bus, maxEntries, () => ['signature', 'userAuthentication'], () => responderCert, (s) => dropped.push(s));
  bus.on('ocsp_responses_changed', (payload) => cache.invalidated(payload));
  return { bus, cache, dropped };
}

t.test('hits return the stored bytes whole; the shared responder certificate is kept once', async (t) => {
  const { bus, cache } = setup();
  t.equal(cache.get('signature', 'sha1', 'aa'), undefined, 'miss');
  cache.set('signature', 'sha1', 'aa', answer('good-aa'), bus.generation);
  t.same(cache.get('signature', 'sha1', 'aa')?.der, answer('good-aa').der);
  t.equal(cache.get('signature', 'sha256', 'aa'), undefined, 'the other CertID hash is another entry');
  t.equal(cache.get('userAuthentication', 'sha1', 'aa'), undefined, 'the other CA is another entry');
  cache.set('signature', 'sha1', 'bb', undefined, bus.generation);
  t.equal(cache.get('signature', 'sha1', 'bb'), null, 'a known absence');
});

t.test('a NOTIFY naming a serial drops it (and only it); an empty one drops everything', async (t) => {
  const { bus, cache, dropped } = setup();
  for (const s of ['aa', 'bb', 'cc']) cache.set('signature', 'sha1', s, answer(`good-${s}`), bus.generation);
  bus.invalidate('ocsp_responses_changed', 'aa,bb');
  t.equal(cache.get('signature', 'sha1', 'aa'), undefined);
  t.equal(cache.get('signature', 'sha1', 'bb'), undefined);
  t.ok(cache.get('signature', 'sha1', 'cc'), 'cc stays');
  t.same(dropped, ['aa', 'bb'], 'derived caches hear it');
  bus.invalidate('ocsp_responses_changed', '');
  t.equal(cache.size, 0);
});

t.test('a read that started before an invalidation does not store its (maybe stale) answer', async (t) => {
  const { bus, cache } = setup();
  const generation = bus.generation;
  bus.invalidate('ocsp_responses_changed', 'aa');
  cache.set('signature', 'sha1', 'aa', answer('good-aa'), generation);
  t.equal(cache.get('signature', 'sha1', 'aa'), undefined);
});

t.test("this process's own change: the serial bypasses the cache until its NOTIFY comes back", async (t) => {
  const { bus, cache } = setup();
  cache.set('signature', 'sha1', 'aa', answer('good-aa'), bus.generation);
  cache.changing(['aa']);
  t.equal(cache.get('signature', 'sha1', 'aa'), undefined, 'the cached good is gone at once');
  // A read before the commit sees the old row: it must not be stored.
  cache.set('signature', 'sha1', 'aa', answer('good-aa'), bus.generation);
  t.equal(cache.get('signature', 'sha1', 'aa'), undefined, 'not cached while pending');
  bus.invalidate('ocsp_responses_changed', 'aa'); // the commit's NOTIFY
  cache.set('signature', 'sha1', 'aa', answer('revoked-aa'), bus.generation);
  t.same(cache.get('signature', 'sha1', 'aa')?.der, answer('revoked-aa').der, 'cached again after the NOTIFY');
});

t.test('nothing is answered or stored while the bus is not live', async (t) => {
  const { bus, cache } = setup();
  cache.set('signature', 'sha1', 'aa', answer('good-aa'), bus.generation);
  bus.connection = { broken: true };
  t.equal(cache.get('signature', 'sha1', 'aa'), undefined, 'no answer from memory without the listener');
  cache.set('signature', 'sha1', 'bb', answer('good-bb'), bus.generation);
  bus.connection = { broken: false };
  t.equal(cache.get('signature', 'sha1', 'bb'), undefined, 'nothing was stored meanwhile');
});

t.test('bounded: the least recently used entries go first', async (t) => {
  const { bus, cache } = setup(4);
  for (const s of ['a1', 'a2', 'a3', 'a4']) cache.set('signature', 'sha1', s, answer(s), bus.generation);
  t.ok(cache.get('signature', 'sha1', 'a1'), 'a1 used again');
  cache.set('signature', 'sha1', 'a5', answer('a5'), bus.generation);
  t.equal(cache.size, 4);
  t.equal(cache.get('signature', 'sha1', 'a2'), undefined, 'a2, least recently used, went');
  t.ok(cache.get('signature', 'sha1', 'a1'), 'a1 stayed');
});

t.test('OCSP_CACHE_MAX_ENTRIES=0 turns it off', async (t) => {
  const { bus, cache } = setup(0);
  cache.set('signature', 'sha1', 'aa', answer('good-aa'), bus.generation);
  t.equal(cache.get('signature', 'sha1', 'aa'), undefined);
});
