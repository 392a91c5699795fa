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

export interface ExpiryRange {
  /** The earliest expiry date whose window opens on or after `from`. */
  readonly earliest: PlainDate;
  /** The latest expiry date whose window opens on or before `to`. */
  readonly latest: PlainDate;
}

/**
 * The expiry dates whose renewal window opens within [from, to] (both included), for the
 * expiry-notice batch: exactly the dates in [earliest, latest]. The opening day never moves back
 * as the expiry moves forward, so each end is found by stepping from three months after it (the
 * window opens 3 months less 1 to 4 days before expiry) to the last day where the rule still holds.
 * Undefined when no window opens in the range (it may be empty even when from ≤ to: no window
 * opens on 1 February, for instance, as no 31 April exists).
 */
export function expiriesWithWindowOpeningBetween(from: PlainDate, to: PlainDate): ExpiryRange | undefined {
  const opensBefore = (expiresOn: PlainDate, day: PlainDate) => Temporal.PlainDate.compare(renewalWindow(expiresOn).opensOn, day) < 0;
  const opensAfter = (expiresOn: PlainDate, day: PlainDate) => Temporal.PlainDate.compare(renewalWindow(expiresOn).opensOn, day) > 0;
  let earliest = from.add({ months: 3 });
  while (opensBefore(earliest, from)) earliest = earliest.add({ days: 1 });
  while (!opensBefore(earliest.subtract({ days: 1 }), from)) earliest = earliest.subtract({ days: 1 });
  let latest = to.add({ months: 3 });
  while (opensAfter(latest, to)) latest = latest.subtract({ days: 1 });
  while (!opensAfter(latest.add({ days: 1 }), to)) latest = latest.add({ days: 1 });
  return Temporal.PlainDate.compare(earliest, latest) <= 0 ? { earliest, latest } : undefined;
}
