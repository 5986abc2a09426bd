import { daysInMonth, firstDayOfYear } from '../../shared/policy/dates.js';
import type { PeriodKind } from '../../shared/records.js';

/**
 * Disclosure periods (Dehong art. 24: 月, 季, 年) and their labels: "2025-03", "2025-Q1", "2025".
 * Calendar periods, as both regions' insurance years are calendar years (Kaifeng art. 8, Dehong art. 11).
 */
export interface Period {
  readonly kind: PeriodKind;
  readonly label: string;
  readonly year: number;
  /** First day, inclusive, "YYYY-MM-DD". */
  readonly start: string;
  /** Last day, inclusive, "YYYY-MM-DD". */
  readonly end: string;
}

const MONTH_LABEL = /^(\d{4})-(0[1-9]|1[0-2])$/;
const QUARTER_LABEL = /^(\d{4})-Q([1-4])$/;
const YEAR_LABEL = /^(\d{4})$/;

const pad = (n: number) => String(n).padStart(2, '0');

function monthPeriod(year: number, month: number): Period {
  return {
    kind: 'MONTH',
    label: `${year}-${pad(month)}`,
    year,
    start: `${year}-${pad(month)}-01`,
    end: `${year}-${pad(month)}-${pad(daysInMonth(year, month))}`,
  };
}

function quarterPeriod(year: number, quarter: number): Period {
  const lastMonth = quarter * 3;
  return {
    kind: 'QUARTER',
    label: `${year}-Q${quarter}`,
    year,
    start: `${year}-${pad(lastMonth - 2)}-01`,
    end: `${year}-${pad(lastMonth)}-${pad(daysInMonth(year, lastMonth))}`,
  };
}

function yearPeriod(year: number): Period {
  return { kind: 'YEAR', label: String(year), year, start: firstDayOfYear(year), end: `${year}-12-31` };
}

/** The period a label names, or undefined when it names none. */
export function parsePeriod(label: string): Period | undefined {
  const month = MONTH_LABEL.exec(label);
  if (month) return monthPeriod(Number(month[1]), Number(month[2]));
  const quarter = QUARTER_LABEL.exec(label);
  if (quarter) return quarterPeriod(Number(quarter[1]), Number(quarter[2]));
  const year = YEAR_LABEL.exec(label);
  if (year) return yearPeriod(Number(year[1]));
  return undefined;
}

/** The month, quarter and year that contain a day ("YYYY-MM-DD"). */
export function periodsContaining(date: string): readonly [Period, Period, Period] {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  return [monthPeriod(year, month), quarterPeriod(year, Math.ceil(month / 3)), yearPeriod(year)];
}

const KIND_ORDER: Record<PeriodKind, number> = { YEAR: 0, QUARTER: 1, MONTH: 2 };

/** Year first, then its quarters, then its months; earlier years first. */
export function comparePeriods(a: Period, b: Period): number {
  if (a.year !== b.year) return a.year - b.year;
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  return a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
}
