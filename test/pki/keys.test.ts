import t from 'tap';
import { createPrivateKey } from 'node:crypto';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  generateResidentKeyPair,
  generateRsaKeyPair,
  publicKeyFromSpki,
  spkiDer,
} from '../../src/pki/index.js';
import { openssl, put, tempDir } from './helpers.js';

t.test('CA keys are RSA-2048 and round-trip through encrypted PKCS#8', async (t) => {
  const { privateKey } = await generateRsaKeyPair();
  t.equal(privateKey.asymmetricKeyDetails?.modulusLength, 2048);
  const pem = encryptPrivateKey(privateKey, 'correct horse', 'pem');
  t.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  const der = encryptPrivateKey(privateKey, 'correct horse', 'der');
  for (const stored of [pem, der]) {
    const back = decryptPrivateKey(stored, 'correct horse');
    t.same(spkiDer(back), spkiDer(privateKey), 'same key after decrypting');
  }
});

t.test('an encrypted CA key does not open without the passphrase', async (t) => {
  const { privateKey } = await generateRsaKeyPair();
  const pem = encryptPrivateKey(privateKey, 's3cret', 'pem');
  const der = encryptPrivateKey(privateKey, 's3cret', 'der');
  t.throws(() => decryptPrivateKey(pem, 'wrong'), { code: 'keyDecryptFailed' });
  t.throws(() => decryptPrivateKey(der, 'wrong'), { code: 'keyDecryptFailed' });
  t.throws(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), 'node cannot read it as a plain key');
  t.throws(() => encryptPrivateKey(privateKey, '', 'pem'), { code: 'invalidArgument' });

  const dir = await tempDir(t);
  const path = await put(dir, 'ca.key', pem);
  const noPass = await openssl(['pkey', '-in', path, '-noout', '-passin', 'pass:']);
  t.not(noPass.code, 0, 'openssl refuses it with an empty passphrase');
  const withPass = await openssl(['pkey', '-in', path, '-noout', '-passin', 'pass:s3cret']);
  t.equal(withPass.code, 0, 'and reads it with the passphrase');
  const info = await openssl(['asn1parse', '-in', path]);
  t.match(info.stdout, /PBES2/);
  t.match(info.stdout, /aes-256-cbc/);
});

t.test('a plain key where an encrypted one belongs is refused', async (t) => {
  const { privateKey } = await generateRsaKeyPair();
  const plainPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const plainDer = privateKey.export({ type: 'pkcs8', format: 'der' });
  t.throws(() => decryptPrivateKey(plainPem, 'x'), { code: 'keyDecryptFailed', name: 'PkiError' });
  t.throws(() => decryptPrivateKey(plainDer, 'x'), { code: 'keyDecryptFailed', name: 'PkiError' });
});

t.test('a resident key pair is returned once as PKCS#8 PEM with its SPKI', async (t) => {
  const pair = await generateResidentKeyPair();
  t.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  const priv = createPrivateKey(pair.privateKeyPem);
  t.same(spkiDer(priv), pair.spki);
  t.equal(publicKeyFromSpki(pair.spki).asymmetricKeyDetails?.modulusLength, 2048);
});

