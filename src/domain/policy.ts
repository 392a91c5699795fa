/**
 * Settings DOMAIN.md marks as **policy**: uncertain or local rules that a
 * ward configures. Every rule that depends on one takes the policy object as
 * an argument instead of reading configuration itself.
 */
export type Feb29BirthdayInCommonYear = '02-28' | '03-01';

export interface DomainPolicy {
  /** Which day counts as the expiry "birthday" of a 29 February birth in a common year. */
  readonly feb29BirthdayInCommonYear: Feb29BirthdayInCommonYear;
  /** Whether a change of alias (通称) revokes the signature certificate. */
  readonly aliasChangeRevokesSignature: boolean;
  /** Whether a deadline on a closed day moves to the next day all counters open. */
  readonly deadlineRollsToNextOpenDay: boolean;
  /** Length of the inquiry letter's answer period, in months. */
  readonly inquiryAnswerMonths: number;
  /** Whether counter procedures are refused outside opening hours. */
  readonly enforceOpeningHours: boolean;
}

export const DEFAULT_DOMAIN_POLICY: DomainPolicy = Object.freeze({
  feb29BirthdayInCommonYear: '02-28',
  aliasChangeRevokesSignature: true,
  deadlineRollsToNextOpenDay: true,
  inquiryAnswerMonths: 1,
  enforceOpeningHours: true,
});

export function domainPolicy(overrides: Partial<DomainPolicy> = {}): DomainPolicy {
  const policy = { ...DEFAULT_DOMAIN_POLICY, ...overrides };
  if (!Number.isInteger(policy.inquiryAnswerMonths) || policy.inquiryAnswerMonths < 1) {
    throw new RangeError('inquiryAnswerMonths must be a positive integer');
  }
  if (policy.feb29BirthdayInCommonYear !== '02-28' && policy.feb29BirthdayInCommonYear !== '03-01') {
    throw new RangeError("feb29BirthdayInCommonYear must be '02-28' or '03-01'");
  }
  return Object.freeze(policy);
}
