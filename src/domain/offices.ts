/** Counter opening hours as Japan wall-clock times, `HH:MM`; closing is exclusive. */
export interface OpeningHours {
  readonly opensAt: string;
  readonly closesAt: string;
}

export interface Office {
  /** Stable identifier used in URLs and in stored closures. */
  readonly id: string;
  readonly name: string;
  readonly nameEn: string;
  readonly weekdayHours: OpeningHours;
  readonly tuesdayHours: OpeningHours;
  /** 休日窓口 on the 4th Sunday of each month; null where it is not held. */
  readonly fourthSundayHours: OpeningHours | null;
}

const WEEKDAY: OpeningHours = { opensAt: '08:30', closesAt: '17:00' };
const TUESDAY: OpeningHours = { opensAt: '08:30', closesAt: '19:00' };
const FOURTH_SUNDAY: OpeningHours = { opensAt: '09:00', closesAt: '17:00' };

function branch(id: string, place: string, placeEn: string): Office {
  return {
    id,
    name: `${place}特別出張所`,
    nameEn: `${placeEn} Branch Office`,
    weekdayHours: WEEKDAY,
    tuesdayHours: TUESDAY,
    fourthSundayHours: null,
  };
}

/** Shinjuku ward: the main office's 戸籍住民課 and its ten 特別出張所. */
export const DEFAULT_OFFICES: readonly Office[] = [
  {
    id: 'main',
    name: '本庁舎1階 戸籍住民課',
    nameEn: 'Main Office (1F, Family Register and Residents Division)',
    weekdayHours: WEEKDAY,
    tuesdayHours: TUESDAY,
    fourthSundayHours: FOURTH_SUNDAY,
  },
  branch('yotsuya', '四谷', 'Yotsuya'),
  branch('tansumachi', '箪笥町', 'Tansumachi'),
  branch('enokicho', '榎町', 'Enokicho'),
  branch('wakamatsucho', '若松町', 'Wakamatsucho'),
  branch('okubo', '大久保', 'Okubo'),
  branch('totsuka', '戸塚', 'Totsuka'),
  branch('ochiai-daiichi', '落合第一', 'Ochiai Daiichi'),
  branch('ochiai-daini', '落合第二', 'Ochiai Daini'),
  branch('kashiwagi', '柏木', 'Kashiwagi'),
  branch('tsunohazu', '角筈', 'Tsunohazu'),
];
