import t from 'tap';
import { nthBirthdayAfter } from '../../src/domain/birthdays.js';
import { DomainError } from '../../src/domain/errors.js';
import { DEFAULT_DOMAIN_POLICY, domainPolicy } from '../../src/domain/policy.js';
import {
  cardExpiry,
  notAfterFor,
  signatureExpiry,
  userAuthenticationExpiry,
} from '../../src/domain/validity.js';
import { d } from './support.js';

const policy = DEFAULT_DOMAIN_POLICY;
const farCard = d('2200-01-01');

t.test('DOMAIN.md: born 1990-05-20, issued 2026-01-15 → 1st birthday after 2026-05-20, 5th 2030-05-20', async (t) => {
  const born = d('1990-05-20');
  t.equal(nthBirthdayAfter(born, d('2026-01-15'), 1, '02-28').toString(), '2026-05-20');
  t.equal(nthBirthdayAfter(born, d('2026-01-15'), 5, '02-28').toString(), '2030-05-20');
  const facts = { birthDate: born, issuedOn: d('2026-01-15'), procedure: 'initial', cardExpiresOn: farCard } as const;
  t.equal(userAuthenticationExpiry(facts, policy).toString(), '2030-05-20');
  t.equal(signatureExpiry({ ...facts, userAuthenticationExpiresOn: d('2030-05-20') }, policy).toString(), '2030-05-20');
});

t.test('DOMAIN.md: issued on the birthday, the 1st birthday after issuance is a year later', async (t) => {
  t.equal(nthBirthdayAfter(d('1990-05-20'), d('2026-05-20'), 1, '02-28').toString(), '2027-05-20');
  t.equal(nthBirthdayAfter(d('1990-05-20'), d('2026-05-19'), 1, '02-28').toString(), '2026-05-20');
  t.throws(() => nthBirthdayAfter(d('1990-05-20'), d('1990-05-19'), 1, '02-28'), DomainError);
});

t.test('DOMAIN.md policy: expiry birthday of a 29 February birth in a common year', async (t) => {
  const born = d('2000-02-29');
  t.equal(nthBirthdayAfter(born, d('2026-01-10'), 5, '02-28').toString(), '2030-02-28');
  t.equal(nthBirthdayAfter(born, d('2026-01-10'), 5, '03-01').toString(), '2030-03-01');
  t.equal(nthBirthdayAfter(born, d('2026-01-10'), 3, '02-28').toString(), '2028-02-29');
  // Issued on the policy birthday itself: that one does not count.
  t.equal(nthBirthdayAfter(born, d('2026-02-28'), 1, '02-28').toString(), '2027-02-28');
  t.equal(nthBirthdayAfter(born, d('2026-02-28'), 1, '03-01').toString(), '2026-03-01');
  const facts = { birthDate: born, issuedOn: d('2026-01-10'), procedure: 'initial', cardExpiresOn: farCard } as const;
  t.equal(userAuthenticationExpiry(facts, domainPolicy({ feb29BirthdayInCommonYear: '03-01' })).toString(), '2030-03-01');
});

t.test('DOMAIN.md: card lasts to the 10th birthday for 18+ on the application date, else the 5th', async (t) => {
  const born = d('2008-05-20');
  const card = (applied: string, issued: string, stayUntil?: string) =>
    cardExpiry(
      {
        birthDate: born,
        applicationReceivedOn: d(applied),
        issuedOn: d(issued),
        stayUntil: stayUntil ? d(stayUntil) : undefined,
      },
      policy,
    ).toString();
  t.equal(card('2026-05-20', '2026-07-01'), '2036-05-20', '18 on the application date');
  t.equal(card('2026-05-19', '2026-07-01'), '2031-05-20', '17 on the application date, 18 at issuance');
  t.equal(card('2026-05-20', '2026-07-01', '2029-03-31'), '2029-03-31', 'capped by the period of stay');
  t.equal(card('2026-05-20', '2026-07-01', '2040-03-31'), '2036-05-20', 'stay longer than the card');
});

t.test('DOMAIN.md: 20 or older for applications received before 2022-04-01', async (t) => {
  const card = (born: string, applied: string) =>
    cardExpiry(
      { birthDate: d(born), applicationReceivedOn: d(applied), issuedOn: d('2022-05-01') },
      policy,
    ).toString();
  t.equal(card('2002-06-10', '2022-03-31'), '2026-06-10', '19 before the switch: 5th birthday');
  t.equal(card('2002-06-10', '2022-04-01'), '2031-06-10', '19 from the switch: 10th birthday');
  t.equal(card('2002-01-10', '2022-03-31'), '2032-01-10', '20 before the switch: 10th birthday');
});

t.test('DOMAIN.md: user authentication 5th birthday, 6th when renewed in the window, capped by the card', async (t) => {
  const base = { birthDate: d('1990-05-20'), issuedOn: d('2030-03-01'), cardExpiresOn: farCard } as const;
  t.equal(userAuthenticationExpiry({ ...base, procedure: 'renewal' }, policy).toString(), '2035-05-20');
  t.equal(userAuthenticationExpiry({ ...base, procedure: 'initial' }, policy).toString(), '2034-05-20');
  t.equal(userAuthenticationExpiry({ ...base, procedure: 'reissue' }, policy).toString(), '2034-05-20');
  t.equal(
    userAuthenticationExpiry({ ...base, procedure: 'renewal', cardExpiresOn: d('2033-05-20') }, policy).toString(),
    '2033-05-20',
  );
});

t.test('DOMAIN.md: signature expiry is also capped by the user-authentication certificate on the card', async (t) => {
  const base = {
    birthDate: d('1990-05-20'),
    issuedOn: d('2030-03-01'),
    procedure: 'renewal',
    cardExpiresOn: farCard,
  } as const;
  t.equal(signatureExpiry({ ...base, userAuthenticationExpiresOn: d('2035-05-20') }, policy).toString(), '2035-05-20');
  t.equal(signatureExpiry({ ...base, userAuthenticationExpiresOn: d('2032-05-20') }, policy).toString(), '2032-05-20');
  t.equal(
    signatureExpiry({ ...base, cardExpiresOn: d('2031-05-20'), userAuthenticationExpiresOn: d('2035-05-20') }, policy).toString(),
    '2031-05-20',
  );
});

t.test('DOMAIN.md: notAfter is 23:59:59 Japan time (14:59:59 UTC) on the expiry date', async (t) => {
  t.equal(notAfterFor(d('2030-05-20')).toString(), '2030-05-20T14:59:59Z');
  t.equal(notAfterFor(d('2028-02-29')).toString(), '2028-02-29T14:59:59Z');
});
