import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { generateResidentKeyPair } from '../../src/pki/index.js';
import { cacheBus } from '../../src/services/cache-invalidation.js';
import { ocspCache } from '../../src/services/ocsp-cache.js';
import { testApp } from '../support/app.js';
import { insertResident, issueFromOpensslCsr, issue, openssl, put, tempDir } from './pki-support.js';

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
}

t.test('the OCSP cache fills from storage once this process answers OCSP, not before', async (t) => {
  const h = await testApp(t);
  const ctx = h.app.ctx;
  const dir = await tempDir(t);
  const resident = await insertResident(h.app);
  const { spki } = await generateResidentKeyPair();
  for (let i = 0; i < 5; i++) await issue(h.app, 'userAuthentication', spki, resident);
  const asked = await issueFromOpensslCsr(h.app, dir, 'a', 'signature', resident);
  await until('the invalidation bus is live', () => cacheBus(ctx).live);
  await sleep(200); // room for a fill, were one started by the connection
  t.equal(ocspCache(ctx).size, 0, 'no OCSP request yet: no answers loaded');

  const caPath = await put(dir, 'ca.pem', (await h.request({ method: 'GET', url: '/pki/signature/ca.crt', auth: null, headers: { accept: 'application/x-pem-file' } })).body);
  const reqPath = `${dir}/req.der`;
  t.equal((await openssl(['ocsp', '-issuer', caPath, '-cert', asked.certPath, '-reqout', reqPath, '-no_nonce'])).code, 0);
  const res = await h.request({ method: 'POST', url: '/pki/signature/ocsp', auth: null, headers: { 'content-type': 'application/ocsp-request' }, payload: await readFile(reqPath) });
  t.equal(res.statusCode, 200);
  await until('every stored answer is loaded', () => ocspCache(ctx).size >= 6);
  t.equal(ocspCache(ctx).size, 6, 'the first request loads every stored answer (both CAs)');
});
