import { type LocalDate, localDate, yearOf } from './dates.js';
import type { PolicyParams } from './params.js';

export interface YearBounds {
  readonly firstDay: LocalDate;
  readonly lastDay: LocalDate;
}

/** The insurance year a service date belongs to. */
export function insuranceYearOf(params: PolicyParams, serviceDate: LocalDate): number {
  const kind = params.insuranceYear;
  switch (kind) {
    // Kaifeng art. 8, Dehong art. 11: 1 Jan 00:00 to 31 Dec 24:00, so a day belongs to its calendar year.
    case 'calendar':
      return yearOf(serviceDate);
    default: {
      const unknown: never = kind;
      throw new RangeError(`unknown insurance year ${String(unknown)}`);
    }
  }
}

/** First and last day of an insurance year, both inclusive. */
export function insuranceYearBounds(params: PolicyParams, year: number): YearBounds {
  const kind = params.insuranceYear;
  switch (kind) {
    case 'calendar':
      return { firstDay: localDate(`${year}-01-01`), lastDay: localDate(`${year}-12-31`) };
    default: {
      const unknown: never = kind;
      throw new RangeError(`unknown insurance year ${String(unknown)}`);
    }
  }
}
