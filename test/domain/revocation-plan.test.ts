import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import { DEFAULT_DOMAIN_POLICY, domainPolicy } from '../../src/domain/policy.js';
import {
  revocationPlan,
  type HeldCertificate,
  type ResidentEvent,
} from '../../src/domain/revocation-plan.js';

const effectiveAt = Temporal.Instant.from('2026-03-31T15:00:00Z');

/** A resident with both kinds on the card and on a smartphone, plus dead history. */
const held: HeldCertificate[] = [
  { serial: 'sig-card', kind: 'signature', carrier: 'card', status: 'good' },
  { serial: 'ua-card', kind: 'userAuthentication', carrier: 'card', status: 'good' },
  { serial: 'sig-phone', kind: 'signature', carrier: 'smartphone', status: 'good' },
  { serial: 'ua-phone', kind: 'userAuthentication', carrier: 'smartphone', status: 'good' },
  { serial: 'old-sig', kind: 'signature', carrier: 'card', status: 'revoked' },
  { serial: 'old-ua', kind: 'userAuthentication', carrier: 'card', status: 'expired' },
];
const heldAfterLoss = held.map((c) => (c.carrier === 'card' && c.status === 'good' ? { ...c, status: 'hold' as const } : c));

type Expected = Record<string, string>;
interface Row {
  readonly line: string;
  readonly event: ResidentEvent;
  readonly certificates?: HeldCertificate[];
  readonly aliasChangeRevokesSignature?: boolean;
  /** serial → `revoke:<reason>` or `hold:<reason>`; serials not listed are untouched. */
  readonly expected: Expected;
}

const signatureAffiliationChanged: Expected = {
  'sig-card': 'revoke:affiliationChanged',
  'sig-phone': 'revoke:affiliationChanged',
};
const cardCessation: Expected = { 'sig-card': 'revoke:cessationOfOperation', 'ua-card': 'revoke:cessationOfOperation' };
const allCessation: Expected = {
  ...cardCessation,
  'sig-phone': 'revoke:cessationOfOperation',
  'ua-phone': 'revoke:cessationOfOperation',
};

// One entry per line of DOMAIN.md's revocation table (several events share a line).
const rows: Row[] = [
  { line: 'change of name', event: { type: 'nameChanged', effectiveAt }, expected: signatureAffiliationChanged },
  { line: 'change of address', event: { type: 'addressChanged', effectiveAt }, expected: signatureAffiliationChanged },
  { line: 'change of date of birth', event: { type: 'dateOfBirthChanged', effectiveAt }, expected: signatureAffiliationChanged },
  { line: 'change of sex', event: { type: 'sexChanged', effectiveAt }, expected: signatureAffiliationChanged },
  { line: 'change of alias (policy default)', event: { type: 'aliasChanged', effectiveAt }, expected: signatureAffiliationChanged },
  {
    line: 'change of alias (policy off)',
    event: { type: 'aliasChanged', effectiveAt },
    aliasChangeRevokesSignature: false,
    expected: {},
  },
  {
    line: 'renewal: the old ones superseded',
    event: { type: 'renewal', effectiveAt, serials: ['sig-card', 'ua-card'] },
    expected: { 'sig-card': 'revoke:superseded', 'ua-card': 'revoke:superseded' },
  },
  {
    line: 'card reported lost: hold',
    event: { type: 'cardLost', effectiveAt },
    expected: { 'sig-card': 'hold:certificateHold', 'ua-card': 'hold:certificateHold' },
  },
  {
    line: 'card reported lost again: already held, nothing more',
    event: { type: 'cardLost', effectiveAt },
    certificates: heldAfterLoss,
    expected: {},
  },
  {
    line: 'card found after loss: hold never released, revoked cessationOfOperation',
    event: { type: 'cardFound', effectiveAt, stolen: false },
    certificates: heldAfterLoss,
    expected: cardCessation,
  },
  {
    line: 'card found after theft: revoked keyCompromise',
    event: { type: 'cardFound', effectiveAt, stolen: true },
    certificates: heldAfterLoss,
    expected: { 'sig-card': 'revoke:keyCompromise', 'ua-card': 'revoke:keyCompromise' },
  },
  {
    line: 'stolen card reissued without being found: held ones revoked keyCompromise',
    event: { type: 'cardReissued', effectiveAt, stolen: true },
    certificates: heldAfterLoss,
    expected: { 'sig-card': 'revoke:keyCompromise', 'ua-card': 'revoke:keyCompromise' },
  },
  { line: 'card abolished', event: { type: 'cardAbolished', effectiveAt }, expected: cardCessation },
  { line: 'card reissued', event: { type: 'cardReissued', effectiveAt, stolen: false }, expected: cardCessation },
  { line: 'card returned', event: { type: 'cardReturned', effectiveAt }, expected: cardCessation },
  { line: 'death', event: { type: 'death', effectiveAt }, expected: allCessation },
  {
    line: 'moving abroad with continued use: signature affiliationChanged, user authentication unchanged',
    event: { type: 'movedAbroadWithContinuedUse', effectiveAt },
    expected: signatureAffiliationChanged,
  },
  { line: 'moving abroad without continued use', event: { type: 'movedAbroad', effectiveAt }, expected: allCessation },
  { line: 'foreign national leaving', event: { type: 'foreignNationalLeft', effectiveAt }, expected: allCessation },
  {
    line: "holder's request",
    event: { type: 'holderRequest', effectiveAt, serials: ['sig-phone', 'ua-phone'] },
    expected: { 'sig-phone': 'revoke:cessationOfOperation', 'ua-phone': 'revoke:cessationOfOperation' },
  },
  {
    line: 'key compromise',
    event: { type: 'keyCompromise', effectiveAt, serials: ['sig-card', 'ua-card', 'not-held'] },
    expected: { 'sig-card': 'revoke:keyCompromise', 'ua-card': 'revoke:keyCompromise' },
  },
  {
    line: 'issue 4: guardianship (adult ward) ends the signature certificate',
    event: { type: 'guardianshipStarted', effectiveAt },
    expected: { 'sig-card': 'revoke:cessationOfOperation', 'sig-phone': 'revoke:cessationOfOperation' },
  },
];

for (const row of rows) {
  t.test(row.line, async (t) => {
    const policy = domainPolicy({ aliasChangeRevokesSignature: row.aliasChangeRevokesSignature ?? true });
    const plan = revocationPlan(row.event, row.certificates ?? held, policy);
    const actual = Object.fromEntries(plan.map((a) => [a.serial, `${a.action}:${a.reason}`]));
    t.same(actual, row.expected);
    t.ok(plan.every((a) => a.invalidityDate.equals(effectiveAt)), 'invalidityDate is the effective time');
  });
}

t.test('revoked and expired certificates are never acted on', async (t) => {
  for (const row of rows) {
    const plan = revocationPlan(row.event, held, DEFAULT_DOMAIN_POLICY);
    t.notOk(plan.some((a) => a.serial === 'old-sig' || a.serial === 'old-ua'), row.line);
  }
});

t.test('nothing takes effect before a certificate existed: the invalidityDate is then its notBefore', async (t) => {
  const issuedLater = Temporal.Instant.from('2026-03-31T16:00:00Z');
  const certificates: HeldCertificate[] = [
    { serial: 'issued-after', kind: 'signature', carrier: 'card', status: 'good', notBefore: issuedLater },
    { serial: 'issued-before', kind: 'userAuthentication', carrier: 'card', status: 'good', notBefore: Temporal.Instant.from('2026-03-01T00:00:00Z') },
  ];
  for (const event of [{ type: 'cardLost', effectiveAt }, { type: 'death', effectiveAt }] as const) {
    const plan = Object.fromEntries(revocationPlan(event, certificates, DEFAULT_DOMAIN_POLICY).map((a) => [a.serial, a.invalidityDate.toString()]));
    t.same(plan, { 'issued-after': issuedLater.toString(), 'issued-before': effectiveAt.toString() }, event.type);
  }
});

t.test('a held certificate is not revoked before its hold began: found at a time before the loss was reported', async (t) => {
  const heldSince = Temporal.Instant.from('2026-04-02T01:00:00Z');
  const certificates: HeldCertificate[] = [
    { serial: 'held', kind: 'signature', carrier: 'card', status: 'hold', notBefore: Temporal.Instant.from('2026-03-01T00:00:00Z'), heldSince },
  ];
  const foundEarlier = Temporal.Instant.from('2026-04-01T23:00:00Z');
  for (const stolen of [false, true]) {
    const [action] = revocationPlan({ type: 'cardFound', effectiveAt: foundEarlier, stolen }, certificates, DEFAULT_DOMAIN_POLICY);
    t.equal(action?.invalidityDate.toString(), heldSince.toString(), `stolen: ${stolen}`);
  }
  const [later] = revocationPlan({ type: 'cardFound', effectiveAt: Temporal.Instant.from('2026-04-03T00:00:00Z'), stolen: false }, certificates, DEFAULT_DOMAIN_POLICY);
  t.equal(later?.invalidityDate.toString(), '2026-04-03T00:00:00Z', 'found after the report: the time it was found');
});
