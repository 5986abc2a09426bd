/**
 * Calendar dates as the policies speak of them: a day in China, no time, no time zone.
 * Kept as ISO text ("2024-04-20") so comparison is string order and nothing drifts with the host's zone.
 */

/** A validated calendar date, "YYYY-MM-DD". */
export type LocalDate = string & { readonly __brand: 'LocalDate' };

/** A month and day, "MM-DD", used by rules that recur every year (windows, deadlines). */
export type MonthDay = string & { readonly __brand: 'MonthDay' };

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_DAY_TEXT = /^(\d{2})-(\d{2})$/;

/** Days in a month (1–12) of a year: day 0 of the next month is this month's last. */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Returns the date when the text is a real calendar day, undefined otherwise (2023-02-29 is not). */
export function parseLocalDate(text: string): LocalDate | undefined {
  const match = DATE_TEXT.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return text as LocalDate;
}

/** Returns the month-day when it exists in some year; 02-29 is allowed and resolved per year by dateInYear. */
export function parseMonthDay(text: string): MonthDay | undefined {
  const match = MONTH_DAY_TEXT.exec(text);
  if (!match) return undefined;
  const month = Number(match[1]);
  const day = Number(match[2]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(2024, month)) return undefined;
  return text as MonthDay;
}

/** For code and tests that write literal dates: throws on a non-date, which is a programming error. */
export function localDate(text: string): LocalDate {
  const date = parseLocalDate(text);
  if (date === undefined) throw new RangeError(`not a calendar date: ${text}`);
  return date;
}

/** The first day of a month written "YYYY-MM"; throws on a non-month, which the caller has validated. */
export function firstDayOfMonth(month: string): LocalDate {
  return localDate(`${month}-01`);
}

/** 1 January of a year: the first day of a calendar insurance year, and the day a cover year's parameters are taken. */
export function firstDayOfYear(year: number): LocalDate {
  return dateInYear(year, '01-01' as MonthDay);
}

export function yearOf(date: LocalDate): number {
  return Number(date.slice(0, 4));
}

/** The month-day in the given year; 02-29 falls back to 02-28 in a common year. */
export function dateInYear(year: number, monthDay: MonthDay): LocalDate {
  const month = Number(monthDay.slice(0, 2));
  const day = Math.min(Number(monthDay.slice(3, 5)), daysInMonth(year, month));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` as LocalDate;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const utc = new Date(`${date}T00:00:00Z`);
  utc.setUTCDate(utc.getUTCDate() + days);
  return utc.toISOString().slice(0, 10) as LocalDate;
}

export function compareDates(a: LocalDate, b: LocalDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Inclusive on both ends. */
export function isBetween(date: LocalDate, from: LocalDate, to: LocalDate): boolean {
  return from <= date && date <= to;
}

// China keeps one time zone, UTC+8, without daylight saving.
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The wall clock in China at an instant, as ISO text ("2024-07-01T00:30:00.000Z", the Z standing for China). */
function chinaClock(instant: Date | number): string {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  return new Date(ms + CHINA_OFFSET_MS).toISOString();
}

/** The calendar day in China of an instant: the agencies' business day. */
export function chinaDateOf(instant: Date | number): LocalDate {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  // Every message asks for its day: the text is made once per day, not once per message.
  const day = Math.floor((ms + CHINA_OFFSET_MS) / DAY_MS);
  let date = chinaDays.get(day);
  if (date === undefined) {
    date = chinaClock(ms).slice(0, 10) as LocalDate;
    if (chinaDays.size >= 20_000) chinaDays.clear();
    chinaDays.set(day, date);
  }
  return date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const chinaDays = new Map<number, LocalDate>();

/** The time of day in China of an instant, "HH:MM" (Beijing time, as a page shows it). */
export function chinaTimeOf(instant: Date | number): string {
  return chinaClock(instant).slice(11, 16);
}

/** 00:00 in China on a calendar day, as an instant. */
export function chinaMidnight(date: LocalDate): Date {
  return new Date(Date.parse(`${date}T00:00:00Z`) - CHINA_OFFSET_MS);
}
