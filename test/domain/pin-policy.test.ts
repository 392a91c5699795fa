import fc from 'fast-check';
import t from 'tap';
import { checkPin, lockAfterFailures, normalizePin, PIN_KINDS, type PinKind } from '../../src/domain/pin-policy.js';

t.test('DOMAIN.md: signature PIN is 6–16 of A–Z 0–9 with a letter and a digit; locks after 5', async (t) => {
  t.same(checkPin('signature', 'ABC123'), { valid: true, problems: [], lockAfterFailures: 5 });
  t.same(checkPin('signature', 'A1B2C3D4E5F6G7H8'), { valid: true, problems: [], lockAfterFailures: 5 });
  t.same(checkPin('signature', 'abc123').problems, [], 'lower case is taken as upper case');
  t.same(checkPin('signature', 'AB123').problems, ['tooShort']);
  t.same(checkPin('signature', 'A1B2C3D4E5F6G7H8I').problems, ['tooLong']);
  t.same(checkPin('signature', 'ABCDEF').problems, ['digitRequired']);
  t.same(checkPin('signature', '123456').problems, ['letterRequired']);
  t.same(checkPin('signature', 'ABC-123').problems, ['invalidCharacter']);
  t.same(checkPin('signature', 'ＡＢＣ１２３').problems, ['invalidCharacter', 'letterRequired', 'digitRequired']);
  t.same(checkPin('signature', 'straße1').problems, ['invalidCharacter'], 'only ASCII letters are upper-cased');
  t.same(checkPin('signature', '').problems, ['tooShort', 'letterRequired', 'digitRequired']);
});

t.test('DOMAIN.md: the other three PINs are exactly 4 digits and lock after 3', async (t) => {
  for (const kind of ['userAuthentication', 'formAssist', 'residentRegistry'] as const) {
    t.same(checkPin(kind, '0123'), { valid: true, problems: [], lockAfterFailures: 3 }, kind);
    t.same(checkPin(kind, '123').problems, ['tooShort'], kind);
    t.same(checkPin(kind, '12345').problems, ['tooLong'], kind);
    t.same(checkPin(kind, '12a4').problems, ['invalidCharacter'], kind);
    t.same(checkPin(kind, '１２３４').problems, ['invalidCharacter'], `${kind}: full-width digits`);
    t.equal(lockAfterFailures(kind), 3);
  }
  t.equal(lockAfterFailures('signature'), 5);
});

t.test('normalizePin upper-cases signature PINs only', async (t) => {
  t.equal(normalizePin('signature', 'abc123'), 'ABC123');
  t.equal(normalizePin('userAuthentication', 'abcd'), 'abcd');
});

const PROBLEM_CODES = new Set(['tooShort', 'tooLong', 'invalidCharacter', 'letterRequired', 'digitRequired']);

t.test('property: a check result holds only fixed codes, so it cannot carry the PIN', async () => {
  fc.assert(
    fc.property(fc.constantFrom<PinKind>(...PIN_KINDS), fc.string({ maxLength: 24, unit: 'grapheme' }), (kind, pin) => {
      const result = checkPin(kind, pin);
      return (
        Object.keys(result).sort().join(',') === 'lockAfterFailures,problems,valid' &&
        typeof result.valid === 'boolean' &&
        result.valid === (result.problems.length === 0) &&
        result.lockAfterFailures === lockAfterFailures(kind) &&
        result.problems.every((p) => PROBLEM_CODES.has(p))
      );
    }),
    { numRuns: 2000 },
  );
});
