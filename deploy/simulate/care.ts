/**
 * How the national platform splits one visit's cost, as the simulator models it: what is in policy
 * scope, what the basic pooled fund pays given its annual cap, and what lies above that cap. The
 * deductibles and basic-fund ratios are basic-insurance rules (not the supplement's), illustrative here.
 * Amounts are integer fen so the arithmetic is exact.
 */
import type { MedicalType } from '../../shared/records.js';
import type { Rng } from './random.js';

export type HospitalTier = 'large' | 'medium' | 'small';

/** The platform's figures for one visit, before the basic fund's cap is applied. */
export interface CareCost {
  /** medfee_sumamt */
  readonly totalFen: number;
  /** fulamt_ownpay_amt */
  readonly fullOwnPayFen: number;
  /** inscp_scp_amt */
  readonly inScopeFen: number;
  /** 起付线 of the basic fund for this visit. */
  readonly deductibleFen: number;
  /** The basic fund's share of in-scope cost above the deductible. */
  readonly basicRatio: number;
}

export interface BasicFundSplit {
  /** hifp_pay */
  readonly basicFundPaidFen: number;
  /** In-scope cost above the basic fund's annual cap. */
  readonly overCapFen: number;
}

// Basic-insurance parameters by hospital level (三级/二级/一级): deductible per stay and the fund's share.
const INPATIENT: Readonly<Record<HospitalTier, { deductibleFen: number; ratio: number }>> = {
  large: { deductibleFen: 90_000, ratio: 0.85 },
  medium: { deductibleFen: 60_000, ratio: 0.88 },
  small: { deductibleFen: 30_000, ratio: 0.9 },
};
const SPECIAL_OUTPATIENT_RATIO = 0.8;
const RETIREE_BONUS = 0.05;
const MAX_RATIO = 0.95;
// Out-of-area (异地) care: a higher deductible and a lower share, lower again without referral.
const OUT_OF_AREA = { deductibleFen: 150_000, referred: 0.75, notReferred: 0.65 } as const;

export function basicRatioOf(
  medicalType: MedicalType,
  tier: HospitalTier,
  retiree: boolean,
  outOfArea?: { referred: boolean },
): number {
  const base =
    outOfArea !== undefined
      ? outOfArea.referred
        ? OUT_OF_AREA.referred
        : OUT_OF_AREA.notReferred
      : medicalType === 'INPATIENT'
        ? INPATIENT[tier].ratio
        : SPECIAL_OUTPATIENT_RATIO;
  return Math.min(MAX_RATIO, base + (retiree ? RETIREE_BONUS : 0));
}

export function deductibleOf(medicalType: MedicalType, tier: HospitalTier, outOfArea: boolean): number {
  if (outOfArea) return OUT_OF_AREA.deductibleFen;
  return medicalType === 'INPATIENT' ? INPATIENT[tier].deductibleFen : 0;
}

/**
 * A visit's cost around a target in-scope amount: self-paid items (全自费) and the part of 乙类 items
 * the member pays first come on top, so in-scope ≤ total always holds.
 */
export function costAround(
  rng: Rng,
  inScopeFen: number,
  deductibleFen: number,
  basicRatio: number,
): CareCost {
  const inScope = Math.max(1, Math.round(inScopeFen));
  const fullOwnPayFen = Math.round(inScope * rng.uniform(0.02, 0.1));
  const partialSelfPayFen = Math.round(inScope * rng.uniform(0, 0.08));
  return {
    totalFen: inScope + fullOwnPayFen + partialSelfPayFen,
    fullOwnPayFen,
    inScopeFen: inScope,
    deductibleFen,
    basicRatio,
  };
}

/**
 * The basic fund pays its ratio of in-scope cost above the deductible until the member's year-to-date
 * reaches the annual cap; the in-scope cost it would have covered beyond that is the over-cap amount.
 */
export function splitAtBasicCap(
  cost: CareCost,
  basicYearToDateFen: number,
  basicCapFen: number,
): BasicFundSplit {
  const eligibleFen = Math.max(0, cost.inScopeFen - cost.deductibleFen);
  const remainingFen = Math.max(0, basicCapFen - basicYearToDateFen);
  const fullShareFen = Math.round(eligibleFen * cost.basicRatio);
  if (fullShareFen <= remainingFen) return { basicFundPaidFen: fullShareFen, overCapFen: 0 };
  const coveredFen = Math.min(eligibleFen, Math.round(remainingFen / cost.basicRatio));
  return { basicFundPaidFen: remainingFen, overCapFen: eligibleFen - coveredFen };
}

/** In-scope amount above the deductible that takes a member from 0 to the basic cap (and a bit over). */
export function inScopeCrossingCap(
  basicCapFen: number,
  cost: Pick<CareCost, 'deductibleFen' | 'basicRatio'>,
  factor: number,
): number {
  return Math.round((basicCapFen / cost.basicRatio) * factor) + cost.deductibleFen;
}
