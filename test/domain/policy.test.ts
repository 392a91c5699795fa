import t from 'tap';
import { DEFAULT_DOMAIN_POLICY, domainPolicy } from '../../src/domain/policy.js';

t.test('defaults are the ones DOMAIN.md and issue 4 state', async (t) => {
  t.same(DEFAULT_DOMAIN_POLICY, {
    feb29BirthdayInCommonYear: '02-28',
    aliasChangeRevokesSignature: true,
    deadlineRollsToNextOpenDay: true,
    inquiryAnswerMonths: 1,
    enforceOpeningHours: true,
  });
  t.ok(Object.isFrozen(DEFAULT_DOMAIN_POLICY));
});

t.test('overrides are checked', async (t) => {
  t.equal(domainPolicy({ inquiryAnswerMonths: 2 }).inquiryAnswerMonths, 2);
  t.equal(domainPolicy().feb29BirthdayInCommonYear, '02-28');
  t.throws(() => domainPolicy({ inquiryAnswerMonths: 0 }), RangeError);
  t.throws(() => domainPolicy({ inquiryAnswerMonths: 1.5 }), RangeError);
  t.throws(() => domainPolicy({ feb29BirthdayInCommonYear: '02-29' as '02-28' }), RangeError);
});
