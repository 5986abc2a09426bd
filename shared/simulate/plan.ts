/**
 * When members are treated and what it costs, before any fund is applied: inpatient stays and
 * special-outpatient visits in the region (direct settlements), and out-of-area treatment reimbursed
 * by manual claims. Dates are calendar days in China; times are minutes after midnight, China time.
 */
import { addDays, type LocalDate } from '../policy/dates.js';
import { isWorkingDay } from '../policy/workingDays.js';
import type { MedicalType, Referral } from '../records.js';
import {
  basicRatioOf,
  type CareCost,
  costAround,
  deductibleOf,
  type HospitalTier,
  inScopeCrossingCap,
} from './care.js';
import { institutionCode, outOfAreaDistrict } from './identities.js';
import { dayBetween, type Hospital, type Member } from './population.js';
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
export function addWorkingDays(date: LocalDate, n: number): LocalDate {
  let day = date;
  for (let counted = 0; counted < n; ) {
    day = addDays(day, 1);
    if (isWorkingDay(day)) counted += 1;
  }
  return day;
}

export function lastDayOfMonth(date: LocalDate): LocalDate {
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10) as LocalDate;
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

export interface HeavyOptions {
  /** The first stay alone takes the member over the basic cap (it must claim a supplement). */
  readonly firstCrosses?: { readonly date: LocalDate };
  /** Later episodes start here (e.g. after a premium the first one preceded). */
  readonly laterFrom?: LocalDate;
  /** Upper bound of the year's in-scope spending above deductibles, in fen. */
  readonly maxEligibleFen?: number;
}

/**
 * Serious illness treated in the region: a few long stays and chemotherapy-like cycles at one large
 * hospital, spending a multiple of what takes the member to the basic cap.
 */
export function heavyEpisodes(
  rng: Rng,
  member: Member,
  from: LocalDate,
  ctx: PlanContext,
  options: HeavyOptions = {},
): EpisodePlan[] {
  const main = pickHospital(rng, ctx.hospitals, ['large', 'medium']);
  const capEligibleFen = ctx.basicCapFen / 0.87;
  let totalFen = capEligibleFen * (1 + rng.logNormal(0.35, 0.7));
  if (options.maxEligibleFen !== undefined) totalFen = Math.min(totalFen, options.maxEligibleFen);
  const stays = rng.int(2, 6);
  const cycles = rng.int(0, 12);
  const episodes: EpisodePlan[] = [];
  const hospitalFor = () => (rng.chance(0.85) ? main : pickHospital(rng, ctx.hospitals));

  let start = dayBetween(
    rng,
    from,
    maxDate(from, minDate(`${ctx.year}-07-31` as LocalDate, addDays(ctx.yearEnd, -30))),
  );
  if (options.firstCrosses !== undefined) {
    const deductibleFen = deductibleOf('INPATIENT', main.tier, false);
    const basicRatio = basicRatioOf('INPATIENT', main.tier, member.retiree);
    const crossing = inScopeCrossingCap(
      ctx.basicCapFen,
      { deductibleFen, basicRatio },
      rng.uniform(1.08, 1.4),
    );
    episodes.push(
      episode(rng, member, options.firstCrosses.date, main, 'INPATIENT', crossing - deductibleFen),
    );
    totalFen = Math.max(0, totalFen - crossing);
    start = maxDate(
      options.laterFrom ?? addDays(options.firstCrosses.date, 1),
      addDays(options.firstCrosses.date, 14),
    );
  }

  const dates: { date: LocalDate; type: MedicalType; weight: number }[] = [];
  let stayDate = start;
  for (let i = 0; i < stays; i += 1) {
    dates.push({ date: stayDate, type: 'INPATIENT', weight: rng.logNormal(4, 0.35) });
    stayDate = addDays(stayDate, rng.int(18, 60));
  }
  let cycleDate = addDays(start, rng.int(10, 20));
  for (let i = 0; i < cycles; i += 1) {
    dates.push({ date: cycleDate, type: 'SPECIAL_OUTPATIENT', weight: rng.logNormal(1, 0.3) });
    cycleDate = addDays(cycleDate, rng.int(21, 30));
  }
  const inYear = dates.filter((d) => d.date <= ctx.yearEnd);
  const weightSum = inYear.reduce((sum, d) => sum + d.weight, 0);
  for (const d of inYear) {
    const eligibleFen = Math.max(10_000, Math.round((totalFen * d.weight) / weightSum));
    episodes.push(episode(rng, member, d.date, hospitalFor(), d.type, eligibleFen));
  }
  return episodes.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

/**
 * Serious illness treated outside the region (referred or not): one to three claims, the first large
 * enough to take the member over the basic cap, each received some weeks after discharge and paid
 * within the service level. Treatment ends by 31 October so every claim is paid well before the deadline.
 */
export function awayClaims(rng: Rng, member: Member, from: LocalDate, ctx: PlanContext): ClaimPlan[] {
  const count = rng.weighted([1, 2, 3], [0.5, 0.35, 0.15]);
  const referred = rng.chance(0.7);
  const referral: Referral = referred ? 'REFERRED' : 'NOT_REFERRED';
  const lastService = `${ctx.year}-10-31` as LocalDate;
  const hospitalCode = rng.chance(0.8)
    ? institutionCode(outOfAreaDistrict(ctx.region), rng.int(1, 999))
    : null;
  const claims: ClaimPlan[] = [];
  let serviceDate = dayBetween(rng, from, maxDate(from, addDays(lastService, -120)));
  let previousPaid: LocalDate | null = null;
  for (let i = 0; i < count && serviceDate <= lastService; i += 1) {
    const medicalType: MedicalType = i === 0 || rng.chance(0.7) ? 'INPATIENT' : 'SPECIAL_OUTPATIENT';
    const deductibleFen = deductibleOf(medicalType, 'large', true);
    const ratio = basicRatioOf(medicalType, 'large', member.retiree, { referred });
    const inScopeFen =
      i === 0
        ? inScopeCrossingCap(ctx.basicCapFen, { deductibleFen, basicRatio: ratio }, rng.uniform(1.05, 1.6))
        : deductibleFen + clamp(Math.round(rng.logNormal(3_000_000, 0.6)), 200_000, 20_000_000);
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
