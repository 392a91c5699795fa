import t from 'tap';
import { DomainError } from '../../src/domain/errors.js';
import {
  DEFAULT_FEE_SCHEDULES,
  FEE_EXEMPTIONS,
  FEE_PROCEDURES,
  feeProcedureFor,
  newFeeScheduleProblems,
  quoteFee,
  type FeeSchedule,
} from '../../src/domain/fees.js';
import { d } from './support.js';

const on = d('2026-01-15');
const total = (procedure: (typeof FEE_PROCEDURES)[number]) => quoteFee(DEFAULT_FEE_SCHEDULES, procedure, on).total;

t.test('DOMAIN.md fee table', async (t) => {
  t.equal(total('cardIssuance'), 0, 'first issuance with the card');
  t.equal(total('certificateIssuance'), 0);
  t.equal(total('certificateRenewal'), 0);
  t.equal(total('certificateNewAfterExpiry'), 0);
  t.equal(total('pinReset'), 0);
  t.equal(total('pinChange'), 0);
  const quote = quoteFee(DEFAULT_FEE_SCHEDULES, 'cardReissue', on);
  // Temporal values refuse valueOf, so compare the date as text.
  t.same({ ...quote, scheduleEffectiveFrom: quote.scheduleEffectiveFrom.toString() }, {
    procedure: 'cardReissue',
    total: 1000,
    lines: [
      { item: 'card', amount: 800 },
      { item: 'certificates', amount: 200 },
    ],
    exemption: null,
    scheduleEffectiveFrom: '2016-01-01',
  });
  t.same(quoteFee(DEFAULT_FEE_SCHEDULES, 'certificateReissue', on).lines, [{ item: 'certificates', amount: 200 }]);
  t.equal(total('certificateReissue'), 200);
});

t.test('DOMAIN.md: reissues not the holder’s fault are free', async (t) => {
  for (const exemption of FEE_EXEMPTIONS) {
    const card = quoteFee(DEFAULT_FEE_SCHEDULES, 'cardReissue', on, exemption);
    t.equal(card.total, 0, exemption);
    t.equal(card.exemption, exemption);
    t.same(card.lines.map((l) => l.item), ['card', 'certificates'], 'lines kept, at zero');
    t.equal(quoteFee(DEFAULT_FEE_SCHEDULES, 'certificateReissue', on, exemption).total, 0, exemption);
  }
  t.equal(quoteFee(DEFAULT_FEE_SCHEDULES, 'certificateRenewal', on, 'theft').exemption, null, 'nothing to waive');
});

t.test('dated schedules: the latest one in effect on the day applies', async (t) => {
  const later: FeeSchedule = {
    effectiveFrom: d('2027-04-01'),
    fees: { ...DEFAULT_FEE_SCHEDULES[0]!.fees, cardReissue: [{ item: 'card', amount: 1000 }, { item: 'certificates', amount: 200 }] },
  };
  const schedules = [later, ...DEFAULT_FEE_SCHEDULES];
  t.equal(quoteFee(schedules, 'cardReissue', d('2027-03-31')).total, 1000);
  const quote = quoteFee(schedules, 'cardReissue', d('2027-04-01'));
  t.equal(quote.total, 1200);
  t.equal(quote.scheduleEffectiveFrom.toString(), '2027-04-01');
  t.throws(() => quoteFee(schedules, 'cardReissue', d('2015-12-31')), DomainError);
});

t.test('a new schedule may not start in the past, reuse a date, or have odd amounts', async (t) => {
  const today = d('2026-06-01');
  const base = DEFAULT_FEE_SCHEDULES[0]!;
  t.same(newFeeScheduleProblems(DEFAULT_FEE_SCHEDULES, { ...base, effectiveFrom: d('2026-06-01') }, today), []);
  t.same(newFeeScheduleProblems(DEFAULT_FEE_SCHEDULES, { ...base, effectiveFrom: d('2026-05-31') }, today), [
    'effectiveFromInPast',
  ]);
  t.same(newFeeScheduleProblems(DEFAULT_FEE_SCHEDULES, base, d('2015-01-01')), ['effectiveFromTaken']);
  const odd = { effectiveFrom: d('2027-01-01'), fees: { ...base.fees, pinChange: [{ item: 'certificates', amount: 0.5 }] } } as const;
  t.same(newFeeScheduleProblems(DEFAULT_FEE_SCHEDULES, odd, today), ['amountNotWholeYen']);
});

t.test('each certificate procedure maps to its fee procedure', async (t) => {
  t.equal(feeProcedureFor('initial'), 'certificateIssuance');
  t.equal(feeProcedureFor('renewal'), 'certificateRenewal');
  t.equal(feeProcedureFor('newAfterExpiry'), 'certificateNewAfterExpiry');
  t.equal(feeProcedureFor('reissue'), 'certificateReissue');
});
