import t from 'tap';
import { eligibility, type EligibilityFacts } from '../../src/domain/eligibility.js';
import { d } from './support.js';

const adult: EligibilityFacts = {
  kind: 'signature',
  carrier: 'card',
  birthDate: d('1990-05-20'),
  appliedOn: d('2026-01-15'),
  adultWard: false,
  applicant: 'holder',
  residence: 'domestic',
  cardHasGoodSignatureCertificate: false,
};
const child: EligibilityFacts = { ...adult, birthDate: d('2011-12-01') };

t.test('DOMAIN.md: no signature certificate under 15 or for an adult ward', async (t) => {
  t.same(eligibility(adult), { eligible: true, issues: 'signature', reasons: [] });
  t.same(eligibility({ ...child, appliedOn: d('2026-11-30') }), { eligible: false, reasons: ['under15'] });
  t.same(eligibility({ ...child, appliedOn: d('2026-12-01') }), { eligible: true, issues: 'signature', reasons: [] });
  t.same(eligibility({ ...adult, adultWard: true }), { eligible: false, reasons: ['adultWard'] });
  t.same(eligibility({ ...child, adultWard: true, appliedOn: d('2026-01-01') }), {
    eligible: false,
    reasons: ['under15', 'adultWard'],
  });
});

t.test('DOMAIN.md: user authentication for under-15s, applied for by a legal representative', async (t) => {
  const under15 = { ...child, kind: 'userAuthentication', appliedOn: d('2026-11-30') } as const;
  t.same(eligibility({ ...under15, applicant: 'legalRepresentative' }), {
    eligible: true,
    issues: 'userAuthentication',
    reasons: [],
  });
  t.same(eligibility({ ...under15, applicant: 'holder' }), { eligible: false, reasons: ['legalRepresentativeRequired'] });
  t.same(eligibility({ ...under15, applicant: 'voluntaryAgent' }), {
    eligible: false,
    reasons: ['legalRepresentativeRequired'],
  });
  t.same(eligibility({ ...under15, appliedOn: d('2026-12-01'), applicant: 'holder' }).eligible, true, '15 from the birthday');
  t.same(eligibility({ ...adult, kind: 'userAuthentication', adultWard: true }).eligible, true, 'adult wards may log in');
});

t.test('issue 4: moved abroad with continued use → only the overseas signature certificate', async (t) => {
  const abroad = { ...adult, residence: 'abroadWithContinuedUse' } as const;
  t.same(eligibility(abroad), { eligible: true, issues: 'overseasSignature', reasons: [] });
  t.same(eligibility({ ...abroad, kind: 'userAuthentication' }), { eligible: false, reasons: ['overseasSignatureOnly'] });
  t.same(eligibility({ ...abroad, adultWard: true }), { eligible: false, reasons: ['adultWard'] });
});

t.test('DOMAIN.md: smartphone certificates need a card with a good signature certificate', async (t) => {
  const phone = { ...adult, carrier: 'smartphone' } as const;
  t.same(eligibility(phone), { eligible: false, reasons: ['cardSignatureCertificateRequired'] });
  t.same(eligibility({ ...phone, cardHasGoodSignatureCertificate: true }).eligible, true);
  t.same(eligibility({ ...phone, kind: 'userAuthentication', cardHasGoodSignatureCertificate: true }).eligible, true);
});
