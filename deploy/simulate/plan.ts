/**
 * When members are treated and what it costs, before any fund is applied: inpatient stays and
 * special-outpatient visits in the region (direct settlements), and out-of-area treatment reimbursed
 * by manual claims. Dates are calendar days in China; times are minutes after midnight, China time.
 */
import { addDays, daysInMonth, type LocalDate, yearOf } from '../../shared/policy/dates.js';
import { isWorkingDay, knownWorkingDayAfter } from '../../shared/policy/workingDays.js';
import type { MedicalType, Referral } from '../../shared/records.js';
import {
  basicRatioOf,
  type CareCost,
  costAround,
  deductibleOf,
  type HospitalTier,
  inScopeCrossingCap,
} from './care.js';
import { institutionCode, outOfAreaDistrict } from './identities.js';
import { dayBetween, daysBetween, type Hospital, type Member } from './population.js';
import type { Rng } from './random.js';

/** One visit settled directly at a designated hospital of the region. */
export interface EpisodePlan {
  readonly date: LocalDate;
  readonly minute: number;
  readonly hospital: Hospital;
  readonly medicalType: MedicalType;
  readonly cost: CareCost;
  /** 退费: the settlement is reversed the same month, and usually settled again (重结). */
  reversal: ReversalPlan | null;
}

export interface ReversalPlan {
  readonly date: LocalDate;
  readonly minute: number;
  readonly reason: string;
  /** The corrected settlement made right after the reversal, or null when the visit is simply refunded. */
  readonly resettle: { readonly minute: number; readonly cost: CareCost } | null;
}

/** One out-of-area treatment the member paid and claims back (手工报销). */
export interface ClaimPlan {
  serviceDate: LocalDate;
  readonly medicalType: MedicalType;
  readonly referral: Referral;
  readonly hospitalCode: string | null;
  readonly cost: CareCost;
  receivedOn: LocalDate;
  paidOn: LocalDate;
  readonly minute: number;
}

export interface PlanContext {
  readonly region: string;
  readonly year: number;
  readonly yearStart: LocalDate;
  readonly yearEnd: LocalDate;
  readonly basicCapFen: number;
  readonly hospitals: readonly Hospital[];
}

const REVERSAL_REASONS = [
  '患者退费',
  '结算信息有误，撤销重结',
  '医保目录匹配错误，冲销重结',
  '费用明细上传有误',
];

/** Minutes after midnight, China time, inside office hours. */
export const officeMinute = (rng: Rng, fromHour = 8, toHour = 18): number =>
  rng.int(fromHour * 60, toHour * 60 + 59);

export function nextWorkingDay(date: LocalDate): LocalDate {
  let day = date;
  while (!isWorkingDay(day)) day = addDays(day, 1);
  return day;
}

/** The n-th Chinese working day after `date` (official holidays off, 调休 weekend days on). */
export const addWorkingDays = knownWorkingDayAfter;

export function lastDayOfMonth(date: LocalDate): LocalDate {
  const days = daysInMonth(yearOf(date), Number(date.slice(5, 7)));
  return `${date.slice(0, 7)}-${String(days).padStart(2, '0')}` as LocalDate;
}

const minDate = (a: LocalDate, b: LocalDate): LocalDate => (a < b ? a : b);
const maxDate = (a: LocalDate, b: LocalDate): LocalDate => (a > b ? a : b);

// Admissions peak in winter (respiratory and cardiovascular illness) and dip in summer.
const SEASON = [1.2, 1.15, 1.05, 1, 0.95, 0.9, 0.85, 0.85, 0.95, 1, 1.05, 1.2];

function seasonalDay(rng: Rng, from: LocalDate, to: LocalDate): LocalDate {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const day = dayBetween(rng, from, to);
    if (rng.next() * 1.2 < (SEASON[Number(day.slice(5, 7)) - 1] ?? 1)) return day;
  }
  return dayBetween(rng, from, to);
}

function pickHospital(rng: Rng, hospitals: readonly Hospital[], tiers?: readonly HospitalTier[]): Hospital {
  const pool = tiers === undefined ? hospitals : hospitals.filter((h) => tiers.includes(h.tier));
  const from = pool.length > 0 ? pool : hospitals;
  return rng.weighted(
    from,
    from.map((h) => h.weight),
  );
}

function episode(
  rng: Rng,
  member: Member,
  date: LocalDate,
  hospital: Hospital,
  medicalType: MedicalType,
  eligibleFen: number,
): EpisodePlan {
  const deductibleFen = deductibleOf(medicalType, hospital.tier, false);
  const ratio = basicRatioOf(medicalType, hospital.tier, member.retiree);
  return {
    date,
    minute: officeMinute(rng),
    hospital,
    medicalType,
    cost: costAround(rng, eligibleFen + deductibleFen, deductibleFen, ratio),
    reversal: null,
  };
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/** One or two short stays: a few thousand yuan, basic fund only. */
export function lightEpisodes(rng: Rng, member: Member, from: LocalDate, ctx: PlanContext): EpisodePlan[] {
  const stays = rng.chance(0.2) ? 2 : 1;
  return Array.from({ length: stays }, () =>
    episode(
      rng,
      member,
      seasonalDay(rng, from, ctx.yearEnd),
      pickHospital(rng, ctx.hospitals),
      'INPATIENT',
      clamp(Math.round(rng.logNormal(600_000, 0.8)), 50_000, 5_000_000),
    ),
  );
}

/** Monthly special-outpatient visits at one hospital (门诊慢特病), sometimes a stay as well. */
export function chronicEpisodes(rng: Rng, member: Member, from: LocalDate, ctx: PlanContext): EpisodePlan[] {
  const hospital = pickHospital(rng, ctx.hospitals);
  const visits = rng.int(4, 12);
  const episodes: EpisodePlan[] = [];
  let date = dayBetween(rng, from, minDate(addDays(from, 60), ctx.yearEnd));
  for (let i = 0; i < visits && date <= ctx.yearEnd; i += 1) {
    const eligibleFen = clamp(Math.round(rng.logNormal(120_000, 0.6)), 15_000, 1_500_000);
    episodes.push(episode(rng, member, date, hospital, 'SPECIAL_OUTPATIENT', eligibleFen));
    date = addDays(date, rng.int(25, 35));
  }
  if (rng.chance(0.3)) episodes.push(...lightEpisodes(rng, member, from, ctx).slice(0, 1));
  return episodes.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/**
 * How far above the basic cap a member's year goes, as a share of what reaches the cap: most members who
 * cross it go a little over, a few far over (right-skewed). The supplement's spending, and so the fund's
 * loss ratio, is this excess times the cap times the supplement ratio, summed over the members who cross.
 */
export function excessOverCap(rng: Rng): number {
  return clamp(rng.logNormal(EXCESS.median, EXCESS.sigma), EXCESS.low, EXCESS.high);
}
// Calibrated with the illustrative premiums (README.md, "The synthetic year"): mean excess about 0.2.
const EXCESS = { median: 0.16, sigma: 0.6, low: 0.03, high: 1.5 } as const;

/**
 * A serious illness's course through the year:
 * - `acute`: a catastrophic stay (major surgery, intensive care) that alone takes the member over the basic
 *   cap on its onset day, then a few follow-up stays and treatments in the months after;
 * - `ongoing`: treatment all year (cancer therapy, dialysis with complications): special-outpatient cycles
 *   about monthly from the member's first day of cover to December and a few stays, more intensive early;
 *   the member usually crosses the cap in the second half of the year and keeps claiming to December.
 */
export type HeavyCourse = 'acute' | 'ongoing';

export interface HeavyOptions {
  readonly course: HeavyCourse;
  /** acute: the day of the cap-crossing stay (drawn from `from` when absent). */
  readonly onset?: LocalDate;
  /** acute: follow-up care starts here at the earliest (e.g. after a premium the first stay preceded). */
  readonly followFrom?: LocalDate;
}

/**
 * Serious illness treated in the region, mostly at one large or medium hospital. Amounts are set as the
 * basic fund's share of each visit (its "basic-equivalent"), so the year's visits add up to about
 * (1 + excess) × the basic cap in basic-fund terms (less any follow-up falling after 31 December): the
 * member always crosses the cap, and the in-scope cost above it is about excess × cap / ratio.
 */
export function heavyEpisodes(
  rng: Rng,
  member: Member,
  from: LocalDate,
  ctx: PlanContext,
  options: HeavyOptions,
): EpisodePlan[] {
  const main = pickHospital(rng, ctx.hospitals, ['large', 'medium']);
  const hospitalFor = () => (rng.chance(0.85) ? main : pickHospital(rng, ctx.hospitals));
  const excess = excessOverCap(rng);
  const visit = (date: LocalDate, hospital: Hospital, type: MedicalType, basicFen: number): EpisodePlan => {
    const ratio = basicRatioOf(type, hospital.tier, member.retiree);
    return episode(rng, member, date, hospital, type, Math.max(10_000, Math.round(basicFen / ratio)));
  };
  const byDate = (a: EpisodePlan, b: EpisodePlan) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0);

  if (options.course === 'acute') {
    const onset = options.onset ?? dayBetween(rng, from, maxDate(from, addDays(ctx.yearEnd, -45)));
    const firstShare = rng.uniform(0.35, 0.75);
    // The crossing stay: the basic cap and part of the excess, in one settlement.
    const deductibleFen = deductibleOf('INPATIENT', main.tier, false);
    const basicRatio = basicRatioOf('INPATIENT', main.tier, member.retiree);
    const crossing = inScopeCrossingCap(
      ctx.basicCapFen,
      { deductibleFen, basicRatio },
      1 + excess * firstShare,
    );
    const episodes = [episode(rng, member, onset, main, 'INPATIENT', crossing - deductibleFen)];
    const follow: { date: LocalDate; type: MedicalType; weight: number }[] = [];
    let date = maxDate(options.followFrom ?? onset, addDays(onset, rng.int(10, 25)));
    for (let i = rng.int(3, 6); i > 0 && date <= ctx.yearEnd; i -= 1) {
      const type: MedicalType = rng.chance(0.6) ? 'SPECIAL_OUTPATIENT' : 'INPATIENT';
      follow.push({ date, type, weight: rng.logNormal(type === 'INPATIENT' ? 2 : 1, 0.4) });
      date = addDays(date, rng.int(20, 35));
    }
    const weightSum = follow.reduce((sum, f) => sum + f.weight, 0);
    const restFen = excess * (1 - firstShare) * ctx.basicCapFen;
    for (const f of follow)
      episodes.push(visit(f.date, hospitalFor(), f.type, (restFen * f.weight) / weightSum));
    return episodes.sort(byDate);
  }

  // Ongoing: cycles about monthly, front-loaded (twice as intensive in January as in December), and stays.
  const dates: { date: LocalDate; type: MedicalType; weight: number }[] = [];
  const span = Math.max(1, daysBetween(from, ctx.yearEnd));
  const intensity = (d: LocalDate) => 1.35 - 0.7 * (daysBetween(from, d) / span);
  for (let d = dayBetween(rng, from, minDate(addDays(from, 20), ctx.yearEnd)); d <= ctx.yearEnd; ) {
    dates.push({ date: d, type: 'SPECIAL_OUTPATIENT', weight: rng.logNormal(1, 0.25) * intensity(d) });
    d = addDays(d, rng.int(26, 34));
  }
  for (let i = rng.int(2, 4); i > 0; i -= 1) {
    const d = seasonalDay(rng, from, ctx.yearEnd);
    dates.push({ date: d, type: 'INPATIENT', weight: rng.logNormal(3, 0.35) * intensity(d) });
  }
  const weightSum = dates.reduce((sum, d) => sum + d.weight, 0);
  const totalFen = (1 + excess) * ctx.basicCapFen;
  return dates
    .map((d) => visit(d.date, hospitalFor(), d.type, (totalFen * d.weight) / weightSum))
    .sort(byDate);
}

/**
 * Serious illness treated outside the region (referred or not): one to three claims, the first large
 * enough to take the member over the basic cap, each received some weeks after discharge and paid
 * within the service level. Treatment ends by 31 October so every claim is paid well before the deadline.
 * Like a heavy user's, the year goes (1 + excess) × the cap over in basic-fund terms.
 */
export function awayClaims(rng: Rng, member: Member, from: LocalDate, ctx: PlanContext): ClaimPlan[] {
  const count = rng.weighted([1, 2, 3], [0.5, 0.35, 0.15]);
  const referred = rng.chance(0.7);
  const referral: Referral = referred ? 'REFERRED' : 'NOT_REFERRED';
  const lastService = `${ctx.year}-10-31` as LocalDate;
  const hospitalCode = rng.chance(0.8)
    ? institutionCode(outOfAreaDistrict(ctx.region), rng.int(1, 999))
    : null;
  const excess = excessOverCap(rng);
  const firstShare = count === 1 ? 1 : rng.uniform(0.35, 0.75);
  const later = Array.from({ length: count - 1 }, () => rng.logNormal(1, 0.4));
  const laterSum = later.reduce((sum, w) => sum + w, 0);
  const claims: ClaimPlan[] = [];
  let serviceDate = dayBetween(rng, from, maxDate(from, addDays(lastService, -120)));
  let previousPaid: LocalDate | null = null;
  for (let i = 0; i < count && serviceDate <= lastService; i += 1) {
    const medicalType: MedicalType = i === 0 || rng.chance(0.7) ? 'INPATIENT' : 'SPECIAL_OUTPATIENT';
    const deductibleFen = deductibleOf(medicalType, 'large', true);
    const ratio = basicRatioOf(medicalType, 'large', member.retiree, { referred });
    const inScopeFen =
      i === 0
        ? inScopeCrossingCap(ctx.basicCapFen, { deductibleFen, basicRatio: ratio }, 1 + excess * firstShare)
        : deductibleFen +
          Math.max(
            200_000,
            Math.round(
              (excess * (1 - firstShare) * ctx.basicCapFen * ((later[i - 1] as number) / laterSum)) / ratio,
            ),
          );
    let receivedOn = nextWorkingDay(addDays(serviceDate, rng.int(7, 40)));
    // One claim at a time: the next is received after the previous one was paid, so they are decided in order.
    if (previousPaid !== null && receivedOn <= previousPaid)
      receivedOn = nextWorkingDay(addDays(previousPaid, 1));
    const paidOn = addWorkingDays(receivedOn, rng.int(2, 18));
    claims.push({
      serviceDate,
      medicalType,
      referral,
      hospitalCode,
      cost: costAround(rng, inScopeFen, deductibleFen, ratio),
      receivedOn,
      paidOn,
      minute: officeMinute(rng, 9, 16),
    });
    previousPaid = paidOn;
    serviceDate = addDays(serviceDate, rng.int(30, 75));
  }
  return claims;
}

/** Reverses about 1.5 % of settlements in the month they were made, most of them settled again. */
export function planReversals(rng: Rng, episodes: readonly EpisodePlan[]): void {
  for (const ep of episodes) {
    if (!rng.chance(0.015)) continue;
    const monthEnd = lastDayOfMonth(ep.date);
    const date = minDate(addDays(ep.date, rng.int(0, 5)), monthEnd);
    const minute =
      date === ep.date ? Math.min(ep.minute + rng.int(30, 180), 22 * 60) : officeMinute(rng, 9, 16);
    const factor = rng.uniform(0.85, 1);
    ep.reversal = {
      date,
      minute,
      reason: rng.pick(REVERSAL_REASONS),
      resettle: rng.chance(0.7)
        ? {
            minute: minute + rng.int(20, 90),
            cost: costAround(
              rng,
              Math.round(ep.cost.inScopeFen * factor),
              ep.cost.deductibleFen,
              ep.cost.basicRatio,
            ),
          }
        : null,
    };
  }
}
