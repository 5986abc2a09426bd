import arrangements from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import chineseDaysPackage from 'chinese-days/package.json' with { type: 'json' };
import { ConfigError, type InvalidInput, invalidInput, ok, type Result, refuse } from '../errors.js';
import { addDays, dateInYear, firstDayOfYear, type LocalDate, localDate, yearOf } from './dates.js';
import { HOLIDAYS_DIR, type HolidayFile, holidayFileName, loadHolidayFiles } from './holidayFiles.js';
import type { PolicyParams } from './params.js';
import { cite, entry, type TrailEntry } from './trail.js';

/**
 * Chinese working days (official holidays off, 调休 make-up weekend days on). Two sources, by year:
 * - the chinese-days package's State Council tables (1.5.7: 2004–2026). Its lookup functions shift a day in
 *   time zones west of UTC, so we read the tables directly and take the weekday from the date itself;
 * - for a year it does not cover yet, a bureau's file shared/policy/holidays/<year>.json copied from that
 *   year's State Council notice (./holidayFiles.ts), so next year can be counted without a code change.
 * Where both have a year, chinese-days is used: its maintainers copy every notice as it appears and many
 * users check it, so a single local file that disagrees is the likelier to be mistyped; the trail names
 * the days it overrules.
 * A year in neither is refused (HOLIDAYS_UNKNOWN), never guessed.
 */

interface Arrangements {
  readonly holidays: Readonly<Record<string, string>>;
  readonly workdays: Readonly<Record<string, string>>;
}

const CHINESE_DAYS = `chinese-days ${chineseDaysPackage.version}`;

const weekdayIsWorking = (date: LocalDate): boolean => {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
};

/** The years chinese-days has arrangements for: every yearly notice includes New Year's Day (元旦). */
function chineseDaysYears({ holidays }: Arrangements): { firstYear: number; lastYear: number } {
  const years = [...new Set(Object.keys(holidays).map((date) => Number(date.slice(0, 4))))]
    .filter((year) => holidays[`${year}-01-01`] !== undefined)
    .sort((a, b) => a - b);
  const firstYear = years[0];
  const lastYear = years.at(-1);
  if (firstYear === undefined || lastYear === undefined || lastYear - firstYear + 1 !== years.length) {
    throw new ConfigError(
      `chinese-days: holiday data missing or not contiguous (years: ${years.join(', ')})`,
    );
  }
  return { firstYear, lastYear };
}

/** Where a year's working days come from, for a decision's trail. */
export interface YearSource {
  readonly year: number;
  /** "chinese-days 1.5.7", or "shared/policy/holidays/2027.json (国办发明电〔2026〕N号 of 2026-11-04)". */
  readonly source: string;
  /** Days a holiday file gives otherwise than chinese-days, which decides them: the file's are not used. */
  readonly overruled?: { readonly file: string; readonly days: readonly LocalDate[] };
}

/** Chinese working days from chinese-days and the holiday files of one folder. */
export class WorkingDayCalendar {
  private readonly covered: { readonly firstYear: number; readonly lastYear: number };
  private readonly sources = new Map<number, YearSource>();
  /** Days off and worked weekend days from the files, for the years chinese-days does not cover. */
  private readonly fileDays = new Map<LocalDate, boolean>();

  constructor(
    private readonly tables: Arrangements,
    files: ReadonlyMap<number, HolidayFile>,
  ) {
    this.covered = chineseDaysYears(tables);
    for (let year = this.covered.firstYear; year <= this.covered.lastYear; year++) {
      this.sources.set(year, { year, source: CHINESE_DAYS });
    }
    for (const file of files.values()) this.add(file);
  }

  private inChineseDays(date: LocalDate): boolean {
    const year = yearOf(date);
    return year >= this.covered.firstYear && year <= this.covered.lastYear;
  }

  private fromTables(date: LocalDate): boolean {
    if (this.tables.workdays[date] !== undefined) return true;
    if (this.tables.holidays[date] !== undefined) return false;
    return weekdayIsWorking(date);
  }

  private add(file: HolidayFile): void {
    const days = new Map<LocalDate, boolean>([
      ...[...file.daysOff.keys()].map((day) => [day, false] as const),
      ...[...file.workdays.keys()].map((day) => [day, true] as const),
    ]);
    const fileSays = (day: LocalDate) => days.get(day) ?? weekdayIsWorking(day);
    const shown = `${file.file} (${file.notice.number} of ${file.notice.date})`;
    // Where chinese-days has the day it decides; the file is compared over every day it speaks for.
    const overruled: LocalDate[] = [];
    const start = [...days.keys()].sort()[0] ?? firstDayOfYear(file.year);
    for (let day = start; yearOf(day) <= file.year; day = addDays(day, 1)) {
      if (this.inChineseDays(day) && fileSays(day) !== this.fromTables(day)) overruled.push(day);
    }
    const note = overruled.length > 0 ? { overruled: { file: shown, days: overruled } } : {};
    const known = this.sources.get(file.year);
    if (known !== undefined) {
      this.sources.set(file.year, { ...known, ...note });
      return;
    }
    for (const [day, working] of days) {
      if (this.inChineseDays(day)) continue;
      const other = this.fileDays.get(day);
      if (other !== undefined && other !== working) {
        throw new ConfigError(
          `holiday file ${file.file}: ${day} is a ${working ? 'working day' : 'day off'} here but not in the file of ${yearOf(day)}`,
        );
      }
      this.fileDays.set(day, working);
    }
    this.sources.set(file.year, { year: file.year, source: shown, ...note });
  }

  /** The contiguous years that can be counted, from chinese-days' first year. */
  years(): { readonly firstYear: number; readonly lastYear: number } {
    let lastYear = this.covered.lastYear;
    while (this.sources.has(lastYear + 1)) lastYear++;
    return { firstYear: this.covered.firstYear, lastYear };
  }

  /** Where the year's days come from, or undefined when neither chinese-days nor a file has the year. */
  sourceOf(year: number): YearSource | undefined {
    return this.sources.get(year);
  }

  /** True, false, or undefined when the year's arrangement is unknown. */
  isWorkingDay(date: LocalDate): boolean | undefined {
    if (this.inChineseDays(date)) return this.fromTables(date);
    if (!this.sources.has(yearOf(date))) return undefined;
    return this.fileDays.get(date) ?? weekdayIsWorking(date);
  }

  /** The first year from `from` to `to` that neither source has, or undefined when all are known. */
  unknownYear(from: LocalDate, to: LocalDate): number | undefined {
    for (let year = yearOf(from); year <= yearOf(to); year++) if (!this.sources.has(year)) return year;
    return undefined;
  }
}

let defaultCalendar: WorkingDayCalendar | undefined;

/**
 * The calendar of chinese-days and the files in `dir` (default shared/policy/holidays/); the default is built
 * once, when a service starts (startService), and cached.
 */
export function workingDayCalendar(dir?: string): WorkingDayCalendar {
  if (dir !== undefined) return new WorkingDayCalendar(arrangements, loadHolidayFiles(dir));
  defaultCalendar ??= new WorkingDayCalendar(arrangements, loadHolidayFiles(HOLIDAYS_DIR));
  return defaultCalendar;
}

/** The contiguous years the hub can count working days in (chinese-days 1.5.7 alone: 2004–2026). */
export function workingDayYears(): { readonly firstYear: number; readonly lastYear: number } {
  return workingDayCalendar().years();
}

/** True when chinese-days or a holiday file has the year's official arrangement. */
export function hasHolidayArrangement(year: number): boolean {
  return workingDayCalendar().sourceOf(year) !== undefined;
}

/** The refusal for a year neither source has: which year, and the file a bureau adds. */
export function holidaysUnknown(year: number, field: string, calendar = workingDayCalendar()): InvalidInput {
  const { firstYear, lastYear } = calendar.years();
  return invalidInput(
    'HOLIDAYS_UNKNOWN',
    field,
    `no official holiday data for ${year} (chinese-days and the holiday files cover ${firstYear}–${lastYear}): add ${holidayFileName(year)} from the State Council's notice for ${year} (format: shared/policy/holidays/README.md)`,
    String(year),
  );
}

function requireKnown(calendar: WorkingDayCalendar, from: LocalDate, to: LocalDate): void {
  const year = calendar.unknownYear(from, to);
  if (year !== undefined) throw new ConfigError(`${holidaysUnknown(year, 'date', calendar).rule}`);
}

/** Throws ConfigError for a year neither source has; hasHolidayArrangement tells beforehand. */
export function isWorkingDay(date: LocalDate): boolean {
  const calendar = workingDayCalendar();
  requireKnown(calendar, date, date);
  return calendar.isWorkingDay(date) as boolean;
}

function countBetween(calendar: WorkingDayCalendar, receivedOn: LocalDate, paidOn: LocalDate): number {
  let count = 0;
  for (let day = addDays(receivedOn, 1); day <= paidOn; day = addDays(day, 1)) {
    if (calendar.isWorkingDay(day)) count++;
  }
  return count;
}

/**
 * The n-th working day after `from` (`from` itself for 0); undefined when the days run into a year
 * neither chinese-days nor a holiday file has.
 */
export function workingDayAfter(
  from: LocalDate,
  n: number,
  calendar = workingDayCalendar(),
): LocalDate | undefined {
  let day = from;
  for (let counted = 0; counted < n; ) {
    day = addDays(day, 1);
    const working = calendar.isWorkingDay(day);
    if (working === undefined) return undefined;
    if (working) counted += 1;
  }
  return day;
}

/**
 * workingDayAfter for a caller that has checked its years beforehand (the simulator): where the days run
 * into a year neither source has, throws ConfigError as isWorkingDay does.
 */
export function knownWorkingDayAfter(from: LocalDate, n: number): LocalDate {
  const calendar = workingDayCalendar();
  const day = workingDayAfter(from, n, calendar);
  if (day !== undefined) return day;
  // workingDayAfter stopped on the first day after `from` in a year the calendar lacks.
  const year = calendar.unknownYear(addDays(from, 1), localDate('9999-12-31')) ?? yearOf(from);
  throw new ConfigError(holidaysUnknown(year, 'date', calendar).rule);
}

/** Working days after receivedOn up to and including paidOn; 0 when paid the day it was received. */
export function workingDaysBetween(receivedOn: LocalDate, paidOn: LocalDate): number {
  if (paidOn < receivedOn)
    throw new RangeError(`workingDaysBetween: paidOn ${paidOn} is before receivedOn ${receivedOn}`);
  const calendar = workingDayCalendar();
  requireKnown(calendar, receivedOn, paidOn);
  return countBetween(calendar, receivedOn, paidOn);
}

export interface ManualClaimSlaInput {
  readonly params: PolicyParams;
  readonly receivedOn: LocalDate;
  readonly paidOn: LocalDate;
  /** Insurance year of the treatment; the deadline is counted from it. */
  readonly serviceYear: number;
  /** Default: chinese-days and shared/policy/holidays/. */
  readonly calendar?: WorkingDayCalendar;
}

export interface ManualClaimSlaDecision {
  readonly workingDays: number;
  readonly withinSla: boolean;
  readonly deadline: LocalDate;
  readonly withinDeadline: boolean;
  readonly trail: readonly TrailEntry[];
}

/** The last day a manual claim of the service year may be paid, that day included (the region's manualClaim). */
export function manualClaimDeadline(params: PolicyParams, serviceYear: number): LocalDate {
  const rule = params.manualClaim;
  return dateInYear(serviceYear + rule.deadlineYearOffset, rule.deadlineMonthDay);
}

/** The working days run from receipt to payment, so a payment cannot come before the claim's receipt. */
export function checkPaidAfterReceived(
  params: PolicyParams,
  receivedOn: LocalDate,
  paidOn: LocalDate,
): Result<void> {
  return paidOn < receivedOn
    ? refuse(
        invalidInput(
          'PAID_BEFORE_RECEIVED',
          'paidOn',
          `${cite(params, ['manualClaim'])}: the working days run from receipt to payment, so payment comes on or after receivedOn ${receivedOn}`,
          paidOn,
        ),
      )
    : ok(undefined);
}

/** Checks a manual claim against the region's working-day service level and yearly deadline. */
export function manualClaimSla(input: ManualClaimSlaInput): Result<ManualClaimSlaDecision> {
  const { params, receivedOn, paidOn, serviceYear, calendar = workingDayCalendar() } = input;
  const ordered = checkPaidAfterReceived(params, receivedOn, paidOn);
  if (!ordered.ok) return ordered;
  const unknown = calendar.unknownYear(receivedOn, paidOn);
  if (unknown !== undefined) {
    // Held, not guessed: counted again once the year's arrangement is added (and the message redriven).
    return refuse(
      holidaysUnknown(unknown, unknown === yearOf(receivedOn) ? 'receivedOn' : 'paidOn', calendar),
    );
  }
  const rule = params.manualClaim;
  const workingDays = countBetween(calendar, receivedOn, paidOn);
  // Done within the rule's working days, counted from the day after the claim was received (Dehong: 20)…
  const withinSla = workingDays <= rule.workingDays;
  // …and by the yearly deadline, that day included (Dehong: 31 March of the year after the service year).
  const deadline = manualClaimDeadline(params, serviceYear);
  const withinDeadline = paidOn <= deadline;
  const trail = [
    entry(
      params,
      'manual-claim-sla',
      ['manualClaim'],
      `received ${receivedOn}, paid ${paidOn}: ${workingDays} working days against ${rule.workingDays} (${calendarNote(calendar, receivedOn, paidOn)})`,
    ),
    entry(
      params,
      'manual-claim-deadline',
      ['manualClaim'],
      `deadline ${deadline} inclusive: ${withinDeadline ? 'met' : 'missed'}`,
    ),
  ];
  return ok({ workingDays, withinSla, deadline, withinDeadline, trail });
}

/** Which source counted the days: "holidays of 2024: chinese-days 1.5.7", and any file days it overruled. */
function calendarNote(calendar: WorkingDayCalendar, from: LocalDate, to: LocalDate): string {
  const parts: string[] = [];
  for (let year = yearOf(from); year <= yearOf(to); year++) {
    const source = calendar.sourceOf(year);
    if (source === undefined) continue;
    const overruled = source.overruled;
    const note =
      overruled === undefined
        ? ''
        : `; ${overruled.file} differs on ${overruled.days.join(', ')} and is not used there`;
    parts.push(`holidays of ${year}: ${source.source}${note}`);
  }
  return parts.join('; ');
}
