import { DomainError, type DomainErrorCode } from './domain/errors.js';
import { Problem } from './problems.js';

/**
 * How a DomainError (a question the pure rules cannot answer) reaches a client: the caller's input
 * was wrong (400) or the service has no data for it (422). Every code needs an entry, so a new
 * domain error code fails type-checking until it is mapped here.
 */
const DOMAIN_PROBLEMS: Record<DomainErrorCode, { status: number; title: string; hint?: string }> = {
  invalidDate: { status: 400, title: 'Invalid date' },
  invalidRange: { status: 400, title: 'Invalid range' },
  holidayDataOutOfRange: {
    status: 422,
    title: 'No holiday data for that date',
    hint: 'Japanese national holidays are set by law year by year and the service does not guess them.',
  },
  noFeeScheduleInEffect: { status: 422, title: 'No fee schedule in effect', hint: 'GET /v1/fees/schedules lists the schedules and their dates.' },
  birthDateAfterReference: { status: 422, title: 'Date of birth after the reference date' },
};

export function problemFromDomainError(error: DomainError): Problem {
  const { status, title, hint } = DOMAIN_PROBLEMS[error.code];
  const message = error.message.charAt(0).toUpperCase() + error.message.slice(1);
  return new Problem(status, error.code, title, hint ? `${message}. ${hint}` : `${message}.`);
}

