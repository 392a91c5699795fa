/**
 * A request the rules cannot answer (bad range, no data for that date).
 * Carries a stable `code` so the HTTP layer can map it to a problem type
 * without parsing messages.
 */
export type DomainErrorCode =
  | 'invalidDate'
  | 'invalidRange'
  | 'holidayDataOutOfRange'
  | 'noFeeScheduleInEffect'
  | 'birthDateAfterReference';

export class DomainError extends Error {
  readonly code: DomainErrorCode;

  constructor(code: DomainErrorCode, message: string) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
  }
}
