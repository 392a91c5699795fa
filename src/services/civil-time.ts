import { Temporal } from 'temporal-polyfill';
import { formatTokyoInstant, parseDate, tokyoDateOf, type Instant, type PlainDate } from '../domain/dates.js';

/** Bridges between JS Dates / API strings and the domain's Temporal values (Asia/Tokyo). */
export const instantOf = (d: Date): Instant => Temporal.Instant.fromEpochMilliseconds(d.getTime());
export const tokyoDateAt = (d: Date): PlainDate => tokyoDateOf(instantOf(d));
/** A date given as a PlainDate or as strict `YYYY-MM-DD` (DomainError invalidDate otherwise). */
export const civilDate = (d: PlainDate | string): PlainDate => (typeof d === 'string' ? parseDate(d) : d);
export const rfc3339 = (i: Instant): string => formatTokyoInstant(i);
