import t from 'tap';
import { encodeDateOfBirth, sexCode } from '../../src/pki/index.js';

t.test('date of birth: era digit then the Gregorian date', async (t) => {
  t.equal(encodeDateOfBirth('1990-05-20'), '419900520', 'DOMAIN.md example');
  const cases: Array<[string, string]> = [
    ['1868-01-24', '018680124'], // before Meiji
    ['1868-01-25', '118680125'],
    ['1912-07-29', '119120729'], // last day of Meiji
    ['1912-07-30', '219120730'], // Taisho
    ['1926-12-24', '219261224'],
    ['1926-12-25', '319261225'], // Showa
    ['1989-01-07', '319890107'],
    ['1989-01-08', '419890108'], // Heisei
    ['2019-04-30', '420190430'],
    ['2019-05-01', '520190501'], // Reiwa
    ['2024-02-29', '520240229'],
  ];
  for (const [date, code] of cases) t.equal(encodeDateOfBirth(date), code, date);
  t.equal(encodeDateOfBirth(null), '000000000', 'unknown');
  t.throws(() => encodeDateOfBirth('2023-02-29'), { code: 'invalidArgument' });
  t.throws(() => encodeDateOfBirth('1990/05/20'), { code: 'invalidArgument' });
});

t.test('sex codes', async (t) => {
  t.equal(sexCode('male'), '1');
  t.equal(sexCode('female'), '2');
  t.equal(sexCode('unknown'), '3');
  t.equal(sexCode('2'), '2');
  t.throws(() => sexCode('x' as never), { code: 'invalidArgument' });
});
