import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { addDays, type LocalDate, parseLocalDate } from './dates.js';

/**
 * A year's official holiday arrangement (节假日安排) as a bureau copies it from the State Council's notice,
 * one file per year in ./holidays/<year>.json (format: ./holidays/README.md). It fills the years the
 * chinese-days package does not cover yet. Every file is checked when the calendar loads; a bad one stops
 * with one line naming the file, the field and the rule.
 */

export const HOLIDAYS_DIR = fileURLToPath(new URL('./holidays/', import.meta.url));
// The repository root in the sources, dist/ when compiled: files are named from here in messages.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How the refusal of an unknown year names the file to add: the repository path, the same in every copy. */
export const holidayFileName = (year: number): string => `shared/policy/holidays/${year}.json`;

export interface HolidayFile {
  readonly year: number;
  /** The path it was read from, from the repository root (e.g. shared/policy/holidays/2027.json). */
  readonly file: string;
  /** The State Council notice, e.g. { number: "国办发明电〔2025〕7号", date: "2025-11-04" }. */
  readonly notice: { readonly number: string; readonly date: LocalDate };
  /** Every day off the notice gives (放假), with the holiday's name. */
  readonly daysOff: ReadonlyMap<LocalDate, string>;
  /** The weekend days the notice makes working days (调休上班), with the holiday's name. */
  readonly workdays: ReadonlyMap<LocalDate, string>;
}

// Longer than any arrangement so far (the longest are 9 days): a longer range is a typo in a date.
const MAX_HOLIDAY_DAYS = 15;
const FILE_NAME = /^(\d{4})\.json$/;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const weekdayOf = (date: LocalDate): number => new Date(`${date}T00:00:00Z`).getUTCDay();
const isWeekend = (date: LocalDate): boolean => weekdayOf(date) === 0 || weekdayOf(date) === 6;

function isRecord(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

/** Parses and checks one holiday file; throws ConfigError "holiday file F: field: rule". */
export function parseHolidayFile(file: string, text: string): HolidayFile {
  const fail = (where: string, problem: string): never => {
    throw new ConfigError(`holiday file ${file}: ${where === '' ? '' : `${where}: `}${problem}`);
  };
  const keys = (raw: Record<string, unknown>, where: string, allowed: readonly string[]): void => {
    for (const key of allowed) if (!(key in raw)) fail(where, `${key} is missing`);
    const unknown = Object.keys(raw).find((key) => !allowed.includes(key));
    if (unknown !== undefined) fail(where, `unknown field ${unknown} (expected ${allowed.join(', ')})`);
  };
  const nonEmpty = (raw: unknown, where: string): string =>
    typeof raw === 'string' && raw.trim() !== '' ? raw : fail(where, 'expected a non-empty string');
  const date = (raw: unknown, where: string): LocalDate =>
    (typeof raw === 'string' ? parseLocalDate(raw) : undefined) ??
    fail(where, `${JSON.stringify(raw)} is not a calendar date "YYYY-MM-DD"`);

  const named = FILE_NAME.exec(basename(file));
  if (named === null) fail('', 'the file name must be the year, e.g. 2027.json');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail('', `not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(raw)) return fail('', 'expected a JSON object { year, notice, holidays }');
  keys(raw, '', ['year', 'notice', 'holidays']);
  const year = raw.year;
  if (typeof year !== 'number' || String(year) !== named?.[1]) {
    fail('year', `${JSON.stringify(year)} does not match the file name ${basename(file)}`);
  }
  const y = year as number;
  // A New Year's Day arrangement can begin, or have its make-up day, in the last days of the year before.
  const first = `${y - 1}-12-01` as LocalDate;
  const last = `${y}-12-31` as LocalDate;
  const inRange = (day: LocalDate, where: string): LocalDate =>
    day >= first && day <= last ? day : fail(where, `${day} is not in ${y} (or December ${y - 1})`);

  if (!isRecord(raw.notice)) return fail('notice', 'expected { number, date }');
  keys(raw.notice, 'notice', ['number', 'date']);
  const notice = {
    number: nonEmpty(raw.notice.number, 'notice.number'),
    date: date(raw.notice.date, 'notice.date'),
  };
  if (notice.date < `${y - 1}-01-01` || notice.date > last) {
    fail('notice.date', `${notice.date}: a notice for ${y} is dated in ${y - 1} or ${y}`);
  }

  if (!Array.isArray(raw.holidays) || raw.holidays.length === 0) {
    return fail('holidays', 'expected a non-empty list of { name, from, to, workdays }');
  }
  const daysOff = new Map<LocalDate, string>();
  const workdays = new Map<LocalDate, string>();
  for (const [index, item] of raw.holidays.entries()) {
    const at = `holidays[${index}]`;
    if (!isRecord(item)) return fail(at, 'expected { name, from, to, workdays }');
    keys(item, at, ['name', 'from', 'to', 'workdays']);
    const name = nonEmpty(item.name, `${at}.name`);
    const from = inRange(date(item.from, `${at}.from`), `${at}.from`);
    const to = inRange(date(item.to, `${at}.to`), `${at}.to`);
    if (to < from) fail(`${at}.to`, `${to} is before from ${from}`);
    for (let day = from, n = 1; day <= to; day = addDays(day, 1), n++) {
      if (n > MAX_HOLIDAY_DAYS) fail(at, `${from} to ${to} is longer than ${MAX_HOLIDAY_DAYS} days`);
      const other = daysOff.get(day);
      if (other !== undefined) fail(at, `${day} is already a day off of ${other}`);
      daysOff.set(day, name);
    }
    if (!Array.isArray(item.workdays)) return fail(`${at}.workdays`, 'expected a list of dates (may be [])');
    for (const [w, rawDay] of item.workdays.entries()) {
      const where = `${at}.workdays[${w}]`;
      const day = inRange(date(rawDay, where), where);
      // 调休: only a Saturday or Sunday is ever made a working day; a weekday here is a wrong date.
      if (!isWeekend(day))
        fail(where, `${day} is a ${WEEKDAYS[weekdayOf(day)]}; a make-up working day is a Saturday or Sunday`);
      if (workdays.has(day)) fail(where, `${day} is listed twice`);
      workdays.set(day, name);
    }
  }
  for (const [day, name] of workdays) {
    const off = daysOff.get(day);
    if (off !== undefined) fail('holidays', `${day} is both a working day (${name}) and a day off (${off})`);
  }
  // Every notice arranges New Year's Day (元旦); a file without it is for another year or incomplete.
  if (!daysOff.has(`${y}-01-01` as LocalDate)) fail('holidays', `1 January ${y} (元旦) is not a day off`);
  return Object.freeze({ year: y, file, notice: Object.freeze(notice), daysOff, workdays });
}

/** Every <year>.json in `dir`, checked, by year; no folder means no files. Other files (README.md) are skipped. */
export function loadHolidayFiles(dir: string = HOLIDAYS_DIR): ReadonlyMap<number, HolidayFile> {
  const files = new Map<number, HolidayFile>();
  if (!existsSync(dir)) return files;
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const path = join(dir, name);
    const parsed = parseHolidayFile(relative(ROOT, path), readFileSync(path, 'utf8'));
    files.set(parsed.year, parsed);
  }
  return files;
}
