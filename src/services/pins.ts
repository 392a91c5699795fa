import { checkPin, type PinCheck, type PinKind } from '../domain/pin-policy.js';

/**
 * Checks a PIN's format for its kind. The result names problems by code only; the PIN is neither
 * stored, logged nor returned, and no error raised here can contain it.
 */
export function checkPinFormat(pinKind: PinKind, pin: string): PinCheck {
  const result = checkPin(pinKind, pin);
  return { valid: result.valid, problems: [...result.problems], lockAfterFailures: result.lockAfterFailures };
}
