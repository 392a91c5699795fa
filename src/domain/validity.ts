import { Temporal } from 'temporal-polyfill';
import { ageOn } from './age.js';
import { nthBirthdayAfter } from './birthdays.js';
import { earlierDate, tokyoInstant, type Instant, type PlainDate } from './dates.js';
import type { DomainPolicy } from './policy.js';
import type { CertificateProcedure } from './procedure.js';

/** The age of majority moved from 20 to 18 on this date (民法 amendment of 2018). */
export const MAJORITY_AT_18_FROM = Temporal.PlainDate.from('2022-04-01');

export interface CardExpiryFacts {
  readonly birthDate: PlainDate;
  readonly issuedOn: PlainDate;
  /** The card's length depends on the age on the day the application was received, not on issuance. */
  readonly applicationReceivedOn: PlainDate;
  /** Foreign residents: last day of the period of stay. */
  readonly stayUntil?: PlainDate | undefined;
}

export function cardExpiry(facts: CardExpiryFacts, policy: DomainPolicy): PlainDate {
  const majority =
    Temporal.PlainDate.compare(facts.applicationReceivedOn, MAJORITY_AT_18_FROM) >= 0 ? 18 : 20;
  const adult = ageOn(facts.birthDate, facts.applicationReceivedOn) >= majority;
  const expiry = nthBirthdayAfter(
    facts.birthDate,
    facts.issuedOn,
    adult ? 10 : 5,
    policy.feb29BirthdayInCommonYear,
  );
  return facts.stayUntil ? earlierDate(expiry, facts.stayUntil) : expiry;
}

export interface UserAuthenticationExpiryFacts {
  readonly birthDate: PlainDate;
  readonly issuedOn: PlainDate;
  /** Use `certificateProcedure` (procedure.ts): a `renewal` is by definition inside the window. */
  readonly procedure: CertificateProcedure;
  readonly cardExpiresOn: PlainDate;
}

export function userAuthenticationExpiry(
  facts: UserAuthenticationExpiryFacts,
  policy: DomainPolicy,
): PlainDate {
  // The 6th birthday for in-window renewals keeps early renewal from costing the holder time.
  const n = facts.procedure === 'renewal' ? 6 : 5;
  const expiry = nthBirthdayAfter(facts.birthDate, facts.issuedOn, n, policy.feb29BirthdayInCommonYear);
  return earlierDate(expiry, facts.cardExpiresOn);
}

export interface SignatureExpiryFacts extends UserAuthenticationExpiryFacts {
  /**
   * Expiry of the user-authentication certificate valid on the same card after
   * the procedure (the new one when both are renewed together).
   */
  readonly userAuthenticationExpiresOn: PlainDate;
}

export function signatureExpiry(facts: SignatureExpiryFacts, policy: DomainPolicy): PlainDate {
  return earlierDate(userAuthenticationExpiry(facts, policy), facts.userAuthenticationExpiresOn);
}

/** A certificate is good through the whole of its expiry date, Japan time. */
export function notAfterFor(expiresOn: PlainDate): Instant {
  return tokyoInstant(expiresOn, '23:59:59');
}
