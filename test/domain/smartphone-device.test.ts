import t from 'tap';
import type { CertificateKind, CertificateStatus } from '../../src/domain/certificates.js';
import { smartphoneIssuanceRevocations } from '../../src/domain/smartphone-device.js';

/** One row per case: a certificate held, the new issuance, what happens to the held one. */
const rows: [string, { kind: CertificateKind; deviceId: string | null; status: CertificateStatus }, { deviceId: string; kind: CertificateKind }, string | null][] = [
  ['other device, same kind: the old device stops', { kind: 'signature', deviceId: 'old', status: 'good' }, { deviceId: 'new', kind: 'signature' }, 'cessationOfOperation'],
  ['other device, other kind: revoked too (one device per person)', { kind: 'userAuthentication', deviceId: 'old', status: 'good' }, { deviceId: 'new', kind: 'signature' }, 'cessationOfOperation'],
  ['other device, on hold after a loss: revoked', { kind: 'signature', deviceId: 'old', status: 'hold' }, { deviceId: 'new', kind: 'signature' }, 'cessationOfOperation'],
  ['no device recorded counts as another device', { kind: 'signature', deviceId: null, status: 'good' }, { deviceId: 'new', kind: 'signature' }, 'cessationOfOperation'],
  ['same device, same kind: replaced', { kind: 'signature', deviceId: 'phone', status: 'good' }, { deviceId: 'phone', kind: 'signature' }, 'superseded'],
  ['same device, same kind, on hold: replaced', { kind: 'userAuthentication', deviceId: 'phone', status: 'hold' }, { deviceId: 'phone', kind: 'userAuthentication' }, 'superseded'],
  ['same device, other kind: stays', { kind: 'userAuthentication', deviceId: 'phone', status: 'good' }, { deviceId: 'phone', kind: 'signature' }, null],
  ['already revoked: left alone', { kind: 'signature', deviceId: 'old', status: 'revoked' }, { deviceId: 'new', kind: 'signature' }, null],
  ['expired: left alone', { kind: 'signature', deviceId: 'old', status: 'expired' }, { deviceId: 'new', kind: 'signature' }, null],
  ['expired on the same device: left alone', { kind: 'signature', deviceId: 'phone', status: 'expired' }, { deviceId: 'phone', kind: 'signature' }, null],
];

for (const [label, held, issued, expected] of rows) {
  t.test(label, async (t) => {
    const plan = smartphoneIssuanceRevocations([{ serial: 'aa', ...held }], issued);
    t.same(plan, expected === null ? [] : [{ serial: 'aa', reason: expected }]);
  });
}

t.test('a resident moving to a new phone with both kinds on the old one', async (t) => {
  const held = [
    { serial: '01', kind: 'signature' as const, deviceId: 'old', status: 'good' as const },
    { serial: '02', kind: 'userAuthentication' as const, deviceId: 'old', status: 'good' as const },
    { serial: '03', kind: 'signature' as const, deviceId: 'old', status: 'revoked' as const },
  ];
  t.same(smartphoneIssuanceRevocations(held, { deviceId: 'new', kind: 'signature' }), [
    { serial: '01', reason: 'cessationOfOperation' },
    { serial: '02', reason: 'cessationOfOperation' },
  ]);
  t.same(smartphoneIssuanceRevocations([], { deviceId: 'new', kind: 'signature' }), [], 'a first device revokes nothing');
});
