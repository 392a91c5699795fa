import { Temporal } from 'temporal-polyfill';
import type { PlainDate } from './dates.js';
import { DomainError } from './errors.js';
import type { CertificateProcedure } from './procedure.js';

/*
 * Fees change by ordinance, so amounts are data: a list of dated schedules,
 * each in force from its date until the next one starts. Code only picks the
 * schedule and applies exemptions.
 */

export type FeeProcedure =
  | 'cardIssuance'
  | 'cardReissue'
  | 'certificateIssuance'
  | 'certificateRenewal'
  | 'certificateNewAfterExpiry'
  | 'certificateReissue'
  | 'pinReset'
  | 'pinChange';

export const FEE_PROCEDURES: readonly FeeProcedure[] = [
  'cardIssuance',
  'cardReissue',
  'certificateIssuance',
  'certificateRenewal',
  'certificateNewAfterExpiry',
  'certificateReissue',
  'pinReset',
  'pinChange',
];

/** Reasons a reissue is not the holder's fault, which make it free. */
export type FeeExemption =
  | 'disaster'
  | 'theft'
  | 'administrativeError'
  | 'cardExpiringSoon'
  | 'remarksFieldFull'
  | 'numberChange';

export const FEE_EXEMPTIONS: readonly FeeExemption[] = [
  'disaster',
  'theft',
  'administrativeError',
  'cardExpiringSoon',
  'remarksFieldFull',
  'numberChange',
];

export type FeeItem = 'card' | 'certificates';

export interface FeeLine {
  readonly item: FeeItem;
  /** Yen. */
  readonly amount: number;
}

export interface FeeSchedule {
  readonly effectiveFrom: PlainDate;
  readonly fees: Readonly<Record<FeeProcedure, readonly FeeLine[]>>;
}

export interface FeeQuote {
  readonly procedure: FeeProcedure;
  readonly total: number;
  readonly lines: readonly FeeLine[];
  /** The exemption that made the quote free; null when none applied. */
  readonly exemption: FeeExemption | null;
  readonly scheduleEffectiveFrom: PlainDate;
}

const FREE_CERTIFICATES: readonly FeeLine[] = [{ item: 'certificates', amount: 0 }];

/** DOMAIN.md's fee table. */
export const DEFAULT_FEE_SCHEDULES: readonly FeeSchedule[] = [
  {
    effectiveFrom: Temporal.PlainDate.from('2016-01-01'),
    fees: {
      cardIssuance: [
        { item: 'card', amount: 0 },
        { item: 'certificates', amount: 0 },
      ],
      cardReissue: [
        { item: 'card', amount: 800 },
        { item: 'certificates', amount: 200 },
      ],
      certificateIssuance: FREE_CERTIFICATES,
      certificateRenewal: FREE_CERTIFICATES,
      certificateNewAfterExpiry: FREE_CERTIFICATES,
      certificateReissue: [{ item: 'certificates', amount: 200 }],
      pinReset: [],
      pinChange: [],
    },
  },
];

/**
 * The exemption a reissue has without being asked for: theft is not the holder's fault, so the
 * certificates a stolen card's theft ended (revoked keyCompromise when it was found) are reissued free.
 * `replacedRevokedAs` is the reason the certificate being reissued was revoked; omitted when quoting
 * the reissue of everything the card held, as a recovery does.
 */
export function theftExemption(cardStolen: boolean, replacedRevokedAs?: string | null): FeeExemption | null {
  const endedByTheft = replacedRevokedAs === undefined || replacedRevokedAs === 'keyCompromise';
  return cardStolen && endedByTheft ? 'theft' : null;
}

/** Exemptions only ever waive reissue fees; other procedures are free or not covered. */
const EXEMPTIBLE: ReadonlySet<FeeProcedure> = new Set(['cardReissue', 'certificateReissue']);

export function feeProcedureFor(procedure: CertificateProcedure): FeeProcedure {
  switch (procedure) {
    case 'initial':
      return 'certificateIssuance';
    case 'renewal':
      return 'certificateRenewal';
    case 'newAfterExpiry':
      return 'certificateNewAfterExpiry';
    case 'reissue':
      return 'certificateReissue';
  }
}

export function scheduleInEffect(schedules: readonly FeeSchedule[], on: PlainDate): FeeSchedule {
  let chosen: FeeSchedule | undefined;
  for (const schedule of schedules) {
    if (
      Temporal.PlainDate.compare(schedule.effectiveFrom, on) <= 0 &&
      (!chosen || Temporal.PlainDate.compare(schedule.effectiveFrom, chosen.effectiveFrom) > 0)
    ) {
      chosen = schedule;
    }
  }
  if (!chosen) {
    throw new DomainError('noFeeScheduleInEffect', `no fee schedule in effect on ${on.toString()}`);
  }
  return chosen;
}

export function quoteFee(
  schedules: readonly FeeSchedule[],
  procedure: FeeProcedure,
  on: PlainDate,
  exemption?: FeeExemption | null,
): FeeQuote {
  const schedule = scheduleInEffect(schedules, on);
  const exempt = exemption != null && EXEMPTIBLE.has(procedure);
  const lines = schedule.fees[procedure].map((line) => ({
    item: line.item,
    amount: exempt ? 0 : line.amount,
  }));
  return {
    procedure,
    total: lines.reduce((sum, line) => sum + line.amount, 0),
    lines,
    exemption: exempt ? exemption : null,
    scheduleEffectiveFrom: schedule.effectiveFrom,
  };
}

export type FeeScheduleProblem =
  | 'effectiveFromInPast'
  | 'effectiveFromTaken'
  | 'amountNotWholeYen';

/**
 * Checks a schedule an administrator wants to add. Quotes already given
 * must stay true, so a schedule may not start in the past or replace
 * another; starting today is allowed.
 */
export function newFeeScheduleProblems(
  existing: readonly FeeSchedule[],
  candidate: FeeSchedule,
  today: PlainDate,
): FeeScheduleProblem[] {
  const problems: FeeScheduleProblem[] = [];
  if (Temporal.PlainDate.compare(candidate.effectiveFrom, today) < 0) {
    problems.push('effectiveFromInPast');
  }
  if (existing.some((s) => s.effectiveFrom.equals(candidate.effectiveFrom))) {
    problems.push('effectiveFromTaken');
  }
  const amounts = Object.values(candidate.fees).flatMap((lines) => lines.map((l) => l.amount));
  if (amounts.some((a) => !Number.isSafeInteger(a) || a < 0)) problems.push('amountNotWholeYen');
  return problems;
}
