import type { Config } from '../config.js';
import { domainPolicy, type DomainPolicy } from '../domain/policy.js';

/** The domain rules' policy settings, from the checked configuration (README "Settings"). */
export function domainPolicyFrom(config: Pick<Config, 'policy'>): DomainPolicy {
  const p = config.policy;
  return domainPolicy({
    feb29BirthdayInCommonYear: p.feb29BirthdayInCommonYear,
    aliasChangeRevokesSignature: p.aliasChangeRevokesSignature,
    deadlineRollsToNextOpenDay: p.deadlineRollsToNextOpenDay,
    inquiryAnswerMonths: p.inquiryAnswerMonths,
    enforceOpeningHours: p.enforceOpeningHours,
  });
}
