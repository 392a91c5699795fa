/*
 * The service must never accept a My Number (個人番号). The check digit formula
 * is public (番号法施行令 第8条), so a 12-digit value can be recognised as
 * one with 10 false positives in 11 ruled out.
 */

/** Check digit for the first 11 digits of a My Number. */
export function myNumberCheckDigit(firstEleven: string): number {
  if (!/^[0-9]{11}$/.test(firstEleven)) throw new RangeError('expected exactly 11 ASCII digits');
  let sum = 0;
  for (let n = 1; n <= 11; n++) {
    const p = Number(firstEleven[11 - n]);
    const q = n <= 6 ? n + 1 : n - 5;
    sum += p * q;
  }
  const remainder = sum % 11;
  return remainder <= 1 ? 0 : 11 - remainder;
}

export function isMyNumber(twelveDigits: string): boolean {
  return (
    /^[0-9]{12}$/.test(twelveDigits) &&
    myNumberCheckDigit(twelveDigits.slice(0, 11)) === Number(twelveDigits[11])
  );
}

// Twelve digits, written plain or in the card's 4-4-4 grouping, not part of a longer number.
const CANDIDATE = /(?<![0-9])([0-9]{4})[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])/g;

/**
 * Whether a string field holds a My Number anywhere in it, including written
 * with full-width digits (NFKC folds them) or grouped 4-4-4.
 */
export function containsMyNumber(text: string): boolean {
  for (const match of text.normalize('NFKC').matchAll(CANDIDATE)) {
    if (isMyNumber(`${match[1]}${match[2]}${match[3]}`)) return true;
  }
  return false;
}
