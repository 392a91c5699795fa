import { Temporal } from 'temporal-polyfill';
import { dateExists, type PlainDate } from './dates.js';

export interface RenewalWindow {
  readonly opensOn: PlainDate;
  /** The expiry date itself: the certificate is still good, so renewal is still a renewal. */
  readonly closesOn: PlainDate;
}

/**
 * Opens the day after the date three months before expiry; when that date
 * does not exist (expiry 05-31 → 02-31), on the 1st of the following month.
 */
export function renewalWindow(expiresOn: PlainDate): RenewalWindow {
  const threeMonthsBefore = expiresOn.subtract({ months: 3 });
  const opensOn = dateExists(threeMonthsBefore.year, threeMonthsBefore.month, expiresOn.day)
    ? threeMonthsBefore.add({ days: 1 })
    : threeMonthsBefore.with({ day: 1 }).add({ months: 1 });
  return { opensOn, closesOn: expiresOn };
}

export function isInRenewalWindow(expiresOn: PlainDate, on: PlainDate): boolean {
  const { opensOn, closesOn } = renewalWindow(expiresOn);
  return (
    Temporal.PlainDate.compare(opensOn, on) <= 0 && Temporal.PlainDate.compare(on, closesOn) <= 0
  );
}
