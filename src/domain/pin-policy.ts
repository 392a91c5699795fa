/*
 * PIN formats and lock counts. Results describe problems by code only: a PIN
 * never appears in anything returned, so no caller can log or echo it by accident.
 */

/** 署名用 / 利用者証明用 / 券面事項入力補助用 / 住民基本台帳用. */
export type PinKind = 'signature' | 'userAuthentication' | 'formAssist' | 'residentRegistry';

export type PinProblem =
  | 'tooShort'
  | 'tooLong'
  | 'invalidCharacter'
  | 'letterRequired'
  | 'digitRequired';

export interface PinCheck {
  readonly valid: boolean;
  readonly problems: readonly PinProblem[];
  /** Consecutive wrong tries after which the card chip locks this PIN. */
  readonly lockAfterFailures: number;
}

export const PIN_KINDS: readonly PinKind[] = ['signature', 'userAuthentication', 'formAssist', 'residentRegistry'];

interface PinFormat {
  readonly minLength: number;
  readonly maxLength: number;
  readonly allowed: RegExp;
  readonly needsLetterAndDigit: boolean;
  readonly lockAfterFailures: number;
}

const SIGNATURE: PinFormat = {
  minLength: 6,
  maxLength: 16,
  allowed: /^[A-Z0-9]$/,
  needsLetterAndDigit: true,
  lockAfterFailures: 5,
};
const FOUR_DIGITS: PinFormat = {
  minLength: 4,
  maxLength: 4,
  allowed: /^[0-9]$/,
  needsLetterAndDigit: false,
  lockAfterFailures: 3,
};

const FORMATS: Record<PinKind, PinFormat> = {
  signature: SIGNATURE,
  userAuthentication: FOUR_DIGITS,
  formAssist: FOUR_DIGITS,
  residentRegistry: FOUR_DIGITS,
};

/**
 * The PIN as the card compares it: lower-case ASCII letters typed for a
 * signature PIN are taken as upper case. Only ASCII is mapped, so that
 * characters like "ß" cannot turn into valid letters.
 */
export function normalizePin(kind: PinKind, pin: string): string {
  return kind === 'signature' ? pin.replace(/[a-z]/g, (c) => c.toUpperCase()) : pin;
}

export function lockAfterFailures(kind: PinKind): number {
  return FORMATS[kind].lockAfterFailures;
}

export function checkPin(kind: PinKind, pin: string): PinCheck {
  const format = FORMATS[kind];
  const characters = [...normalizePin(kind, pin)];
  const problems: PinProblem[] = [];
  if (characters.length < format.minLength) problems.push('tooShort');
  if (characters.length > format.maxLength) problems.push('tooLong');
  if (characters.some((c) => !format.allowed.test(c))) problems.push('invalidCharacter');
  if (format.needsLetterAndDigit) {
    if (!characters.some((c) => c >= 'A' && c <= 'Z')) problems.push('letterRequired');
    if (!characters.some((c) => c >= '0' && c <= '9')) problems.push('digitRequired');
  }
  return { valid: problems.length === 0, problems, lockAfterFailures: format.lockAfterFailures };
}
