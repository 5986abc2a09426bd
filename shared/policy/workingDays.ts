import arrangements from 'chinese-days/dist/chinese-days.json' with { type: 'json' };
import { ConfigError, invalidInput, ok, type Result, refuse } from '../errors.js';
import { addDays, dateInYear, type LocalDate, yearOf } from './dates.js';
import type { PolicyParams } from './params.js';
import { entry, type TrailEntry } from './trail.js';

/**
 * Chinese working days (official holidays off, 调休 make-up weekend days on) from the chinese-days package's data.
 * Its lookup functions shift a day in time zones west of UTC, so we read its State Council tables directly and
 * take the weekday from the date itself; a year absent from the tables is refused loudly, never guessed.
 */

interface Arrangements {
  readonly holidays: Readonly<Record<string, string>>;
  readonly workdays: Readonly<Record<string, string>>;
}

const { holidays, workdays }: Arrangements = arrangements;

let coverage: { readonly firstYear: number; readonly lastYear: number } | undefined;

/** The years the installed chinese-days has official holiday arrangements for (1.5.7: 2004–2026). */
export function workingDayYears(): { readonly firstYear: number; readonly lastYear: number } {
  if (coverage === undefined) {
    // Every yearly arrangement includes New Year's Day (元旦), so a year is covered when its 1 January is listed.
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
    coverage = Object.freeze({ firstYear, lastYear });
  }
  return coverage;
}

function requireCovered(date: LocalDate): void {
  const year = yearOf(date);
  const { firstYear, lastYear } = workingDayYears();
  if (year < firstYear || year > lastYear) {
    throw new ConfigError(
      `chinese-days has no official holiday data for ${year} (it covers ${firstYear}–${lastYear}): update the chinese-days package before counting working days in ${year}`,
    );
  }
}

function isWorkingDayCovered(date: LocalDate): boolean {
  if (workdays[date] !== undefined) return true;
  if (holidays[date] !== undefined) return false;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

export function isWorkingDay(date: LocalDate): boolean {
  requireCovered(date);
  return isWorkingDayCovered(date);
}

/** Working days after receivedOn up to and including paidOn; 0 when paid the day it was received. */
export function workingDaysBetween(receivedOn: LocalDate, paidOn: LocalDate): number {
  if (paidOn < receivedOn)
    throw new RangeError(`workingDaysBetween: paidOn ${paidOn} is before receivedOn ${receivedOn}`);
  requireCovered(receivedOn);
  requireCovered(paidOn);
  let count = 0;
  for (let day = addDays(receivedOn, 1); day <= paidOn; day = addDays(day, 1)) {
    if (isWorkingDayCovered(day)) count++;
  }
  return count;
}

export interface ManualClaimSlaInput {
  readonly params: PolicyParams;
  readonly receivedOn: LocalDate;
  readonly paidOn: LocalDate;
  /** Insurance year of the treatment; the deadline is counted from it. */
  readonly serviceYear: number;
}

export interface ManualClaimSlaDecision {
  readonly workingDays: number;
  readonly withinSla: boolean;
  readonly deadline: LocalDate;
  readonly withinDeadline: boolean;
  readonly trail: readonly TrailEntry[];
}

/** Checks a manual claim against the working-day service level and the yearly deadline (Dehong art. 16). */
export function manualClaimSla(input: ManualClaimSlaInput): Result<ManualClaimSlaDecision> {
  const { params, receivedOn, paidOn, serviceYear } = input;
  if (paidOn < receivedOn) {
    return refuse(
      invalidInput('PAID_BEFORE_RECEIVED', 'paidOn', `must be on or after receivedOn ${receivedOn}`, paidOn),
    );
  }
  const rule = params.manualClaim;
  const workingDays = workingDaysBetween(receivedOn, paidOn);
  // Dehong art. 16: done within 20 working days, counted from the day after the claim was received.
  const withinSla = workingDays <= rule.workingDays;
  // Dehong art. 16: and by 31 March of the year after the service year, that day included.
  const deadline = dateInYear(serviceYear + rule.deadlineYearOffset, rule.deadlineMonthDay);
  const withinDeadline = paidOn <= deadline;
  const trail = [
    entry(
      params,
      'manual-claim-sla',
      ['manualClaim'],
      `received ${receivedOn}, paid ${paidOn}: ${workingDays} working days against ${rule.workingDays}`,
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
