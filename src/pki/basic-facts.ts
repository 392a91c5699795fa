// The four basic facts (基本4情報) as J-LIS puts them in signature
// certificates: subjectAltName otherName entries under 1.2.392.200149.8.5.5.
import { utf8 } from './der.js';
import { PkiError } from './errors.js';
import { otherName } from './extensions.js';
import { OID } from './oids.js';

export type SexCode = '1' | '2' | '3';
export type Sex = SexCode | 'male' | 'female' | 'unknown';

export interface BasicFacts {
  name: string;
  /** Position info for characters outside the JIS sets; defaults to one '0' per character of `name`. */
  nameSubstitute?: string;
  sex: Sex;
  /** Civil date 'YYYY-MM-DD' (no Date: a birthday has no time zone), or null when unknown. */
  dateOfBirth: string | null;
  address: string;
  /** Defaults to one '0' per character of `address`. */
  addressSubstitute?: string;
}

const SEX_CODE: Record<Sex, SexCode> = { '1': '1', '2': '2', '3': '3', male: '1', female: '2', unknown: '3' };

export function sexCode(sex: Sex): SexCode {
  const c = SEX_CODE[sex];
  if (!c) throw new PkiError('invalidArgument', `unknown sex value ${String(sex)}`);
  return c;
}

// First day of each era as 'YYYY-MM-DD' (string order = date order). Meiji's
// start is the Gregorian date of Keiō 4-01-01, from which Meiji was counted.
const ERAS: ReadonlyArray<readonly [digit: string, from: string]> = [
  ['5', '2019-05-01'], // Reiwa
  ['4', '1989-01-08'], // Heisei
  ['3', '1926-12-25'], // Showa
  ['2', '1912-07-30'], // Taisho
  ['1', '1868-01-25'], // Meiji
];

/**
 * 'EYYYYMMDD': era digit then the Gregorian date, e.g. 1990-05-20 → '419900520'.
 * Before Meiji the era digit is 0 (unknown); an unknown date is all zeros
 * (our choice: J-LIS does not publish that case).
 */
export function encodeDateOfBirth(date: string | null): string {
  if (date === null) return '000000000';
  const m = date.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  if (!m) throw new PkiError('invalidArgument', `date of birth must be YYYY-MM-DD: ${date}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new PkiError('invalidArgument', `no such date: ${date}`);
  }
  const era = ERAS.find(([, from]) => date >= from)?.[0] ?? '0';
  return `${era}${m[1]}${m[2]}${m[3]}`;
}

const zeros = (s: string): string => '0'.repeat([...s].length);

export function basicFactsGeneralNames(facts: BasicFacts): Buffer[] {
  const arc = (n: number): string => `${OID.jpkiBasicFacts}.${n}`;
  return [
    otherName(arc(1), utf8(facts.name)),
    otherName(arc(2), utf8(facts.nameSubstitute ?? zeros(facts.name))),
    otherName(arc(3), utf8(sexCode(facts.sex))),
    otherName(arc(4), utf8(encodeDateOfBirth(facts.dateOfBirth))),
    otherName(arc(5), utf8(facts.address)),
    otherName(arc(6), utf8(facts.addressSubstitute ?? zeros(facts.address))),
  ];
}
