import fc from 'fast-check';
import t from 'tap';
import { tokyoDateOf } from '../../src/domain/dates.js';
import { toInstant, tokyoDate } from '../../src/services/time.js';

// tokyoDate remembers the last day it computed: whatever the order of the calls, it must answer as
// the domain's conversion does, above all on either side of midnight in Tokyo (15:00 UTC).
const DAY = 86_400_000;
const MIDNIGHT_TOKYO = Date.UTC(2026, 2, 31, 15); // 2026-04-01T00:00+09:00
const instant = fc.oneof(
  fc.integer({ min: -3, max: 3 }).chain((days) => fc.integer({ min: -2, max: 2 }).map((ms) => MIDNIGHT_TOKYO + days * DAY + ms)),
  fc.integer({ min: Date.UTC(1952, 0, 1), max: Date.UTC(2100, 0, 1) }),
);

t.test('tokyoDate answers as tokyoDateOf for any sequence of instants, across midnight in Tokyo', async (t) => {
  fc.assert(
    fc.property(fc.array(instant, { minLength: 1, maxLength: 30 }), (times) => {
      for (const ms of times) {
        const d = new Date(ms);
        if (!tokyoDate(d).equals(tokyoDateOf(toInstant(d)))) return false;
      }
      return true;
    }),
    { numRuns: 2000 },
  );
  t.equal(tokyoDate(new Date(MIDNIGHT_TOKYO - 1)).toString(), '2026-03-31');
  t.equal(tokyoDate(new Date(MIDNIGHT_TOKYO)).toString(), '2026-04-01');
  t.equal(tokyoDate(new Date(MIDNIGHT_TOKYO - 1)).toString(), '2026-03-31', 'and back');
});
