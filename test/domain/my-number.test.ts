import fc from 'fast-check';
import t from 'tap';
import { containsMyNumber, isMyNumber, myNumberCheckDigit } from '../../src/domain/my-number.js';

t.test('the public check digit formula', async (t) => {
  t.equal(myNumberCheckDigit('12345678901'), 8);
  t.ok(isMyNumber('123456789018'));
  t.notOk(isMyNumber('123456789010'));
  t.notOk(isMyNumber('12345678901'));
  t.equal(myNumberCheckDigit('00000000000'), 0);
  t.throws(() => myNumberCheckDigit('1234567890'), RangeError);
});

t.test('containsMyNumber finds one anywhere in a string field, however written', async (t) => {
  t.ok(containsMyNumber('123456789018'));
  t.ok(containsMyNumber('number: 1234 5678 9018.'));
  t.ok(containsMyNumber('1234-5678-9018'));
  t.ok(containsMyNumber('１２３４５６７８９０１８'), 'full-width digits');
  t.notOk(containsMyNumber('1234567890180'), 'part of a longer number');
  t.notOk(containsMyNumber('9123456789018'), 'part of a longer number');
  t.notOk(containsMyNumber('123456789010'), 'wrong check digit');
  t.notOk(containsMyNumber('090-1234-5678'));
  t.notOk(containsMyNumber(''));
});

t.test('property: exactly one of the ten last digits completes a My Number', async () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9]{11}$/), (eleven) => {
      const valid = [...'0123456789'].filter((last) => isMyNumber(eleven + last));
      return valid.length === 1 && valid[0] === String(myNumberCheckDigit(eleven));
    }),
    { numRuns: 2000 },
  );
});
