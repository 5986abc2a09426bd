import { type Decimal, formatMoney, type Money, maxMoney, minMoney, roundToFen, ZERO } from '../money.js';
import { formatRatio, type MedicalType, type PolicyParams } from './params.js';
import { entry, type TrailEntry } from './trail.js';

/*
 * The supplement for one settlement, in five steps (the articles are in each region's policy file):
 * 1. covered? the member-year's premium decides (Kaifeng art. 8-9, Dehong art. 8, 11); not covered owes 0;
 * 2. basic cap reached? only the in-scope amount above the basic fund's annual cap counts (Kaifeng
 *    art. 13, Dehong art. 10);
 * 3. ratio: the region's supplement ratio, lower for an out-of-area stay without referral (Dehong art. 12);
 * 4. half-up (四舍五入) to the fen, the one rounding point, then the annual cap (Kaifeng art. 14; Dehong
 *    art. 10: none);
 * 5. a reversal applies the original change with the opposite sign, so the year-to-date returns exactly.
 */

/** A member's running totals for one region and insurance year. */
export interface YearToDate {
  readonly basicFundPaid: Money;
  readonly supplementPaid: Money;
}

/** The platform's figures for one settlement or manual claim (setlinfo: inscp_scp_amt, hifp_pay, ...). */
export interface SettlementClaim {
  /** 符合政策范围金额 (inscp_scp_amt). */
  readonly inScopeAmount: Money;
  /** 统筹基金支出 (hifp_pay) in this settlement. */
  readonly basicFundPaid: Money;
  /** The in-scope amount lying above the basic fund's annual cap. */
  readonly overCapAmount: Money;
  /** Treated outside the region (Dehong: outside the prefecture). */
  readonly outOfArea: boolean;
  readonly referred: boolean;
  readonly medicalType: MedicalType;
}

export interface SupplementInput {
  readonly params: PolicyParams;
  /** false: decide without writing the rule trail (a replay, or a decision only its amount is wanted from). */
  readonly explain?: boolean;
  /** Whether the member is covered for the insurance year of the service date (see decideEligibility). */
  readonly eligible: boolean;
  readonly ytd: YearToDate;
  readonly claim: SettlementClaim;
}

export type SupplementFlag =
  | 'NOT_COVERED'
  | 'MEDICAL_TYPE_NOT_COVERED'
  | 'BASIC_CAP_NOT_REACHED'
  | 'REFERRAL_PENALTY_APPLIED'
  | 'ANNUAL_CAP_LIMITED'
  | 'OVER_CAP_ABOVE_IN_SCOPE';

/** What one settlement adds to the year-to-date totals; a reversal subtracts exactly this. */
export interface YearToDateChange {
  readonly basicFundPaid: Money;
  readonly supplementPaid: Money;
}

export interface SupplementDecision {
  /** What the supplement fund owes by policy for this settlement. */
  readonly due: Money;
  /** The ratio applied: the region's ratio less any referral penalty. */
  readonly ratio: Decimal;
  /** What is left of the annual supplement cap after this settlement; null when the region has no cap. */
  readonly capRemaining: Money | null;
  readonly flags: readonly SupplementFlag[];
  readonly trail: readonly TrailEntry[];
  readonly applied: YearToDateChange;
  readonly ytdAfter: YearToDate;
}

export interface ReversalInput {
  readonly params: PolicyParams;
  readonly ytd: YearToDate;
  /** The change the original settlement made (its decision's `applied`). */
  readonly original: YearToDateChange;
}

export interface ReversalDecision {
  readonly due: Money;
  readonly capRemaining: Money | null;
  readonly applied: YearToDateChange;
  readonly ytdAfter: YearToDate;
  readonly trail: readonly TrailEntry[];
}

// A trail entry costs more than the arithmetic it explains: built only when asked for.
const skip = (_make: () => TrailEntry): void => {};

function requireNonNegative(name: string, amount: Money): void {
  // Input validation (input.ts) refuses negative amounts; reaching here with one is a programming error.
  if (amount.isNegative())
    throw new RangeError(`decideSupplement: ${name} must not be negative, got ${amount.toString()}`);
}

/** The region's ratio for this claim, less the referral penalty where it applies. */
function ratioFor(params: PolicyParams, claim: SettlementClaim): { ratio: Decimal; penalised: boolean } {
  // Dehong art. 12: un-referred care outside the prefecture loses 5 points (the penalty is a parameter, 0 in Kaifeng).
  const penalised = claim.outOfArea && !claim.referred && params.referralPenalty.gt(ZERO);
  return {
    ratio: penalised ? params.supplementRatio.minus(params.referralPenalty) : params.supplementRatio,
    penalised,
  };
}

function capRemainingAfter(params: PolicyParams, supplementPaid: Money): Money | null {
  return params.supplementCap === null ? null : maxMoney(ZERO, params.supplementCap.minus(supplementPaid));
}

/** Recomputes what the supplement owes for one settlement (steps 1–4 above). */
export function decideSupplement(input: SupplementInput): SupplementDecision {
  const { params, eligible, ytd, claim } = input;
  requireNonNegative('claim.inScopeAmount', claim.inScopeAmount);
  requireNonNegative('claim.basicFundPaid', claim.basicFundPaid);
  requireNonNegative('claim.overCapAmount', claim.overCapAmount);

  const trail: TrailEntry[] = [];
  const note = input.explain === false ? skip : (make: () => TrailEntry) => trail.push(make());
  const flags: SupplementFlag[] = [];
  const { ratio, penalised } = ratioFor(params, claim);
  const basicAfter = ytd.basicFundPaid.plus(claim.basicFundPaid);
  const decided = (due: Money): SupplementDecision => {
    const applied = { basicFundPaid: claim.basicFundPaid, supplementPaid: due };
    const ytdAfter = { basicFundPaid: basicAfter, supplementPaid: ytd.supplementPaid.plus(due) };
    return {
      due,
      ratio,
      capRemaining: capRemainingAfter(params, ytdAfter.supplementPaid),
      flags,
      trail,
      applied,
      ytdAfter,
    };
  };

  if (claim.overCapAmount.gt(claim.inScopeAmount)) flags.push('OVER_CAP_ABOVE_IN_SCOPE');

  // Step 1: only a member covered for the year is owed anything; the claimed amount becomes a discrepancy.
  if (!eligible) {
    flags.push('NOT_COVERED');
    note(() =>
      entry(
        params,
        'covered',
        ['premiumWindow', 'notPaidInFull'],
        'member not covered for this insurance year: nothing due',
      ),
    );
    return decided(ZERO);
  }

  // Kaifeng art. 11/13, Dehong art. 10: only the medical types the region pays for are supplemented.
  if (!params.medicalTypesCovered.includes(claim.medicalType)) {
    flags.push('MEDICAL_TYPE_NOT_COVERED');
    note(() =>
      entry(
        params,
        'medical-type',
        ['medicalTypesCovered'],
        `${claim.medicalType} is not paid by the supplement: nothing due`,
      ),
    );
    return decided(ZERO);
  }

  // Step 2, Kaifeng art. 13, Dehong art. 10: the supplement pays only above the basic fund's annual cap.
  const pays = params.supplementPays;
  switch (pays) {
    case 'over-basic-fund-cap':
      break;
    default: {
      const unknown: never = pays;
      throw new RangeError(`unknown supplementPays ${String(unknown)}`);
    }
  }
  const capReached = basicAfter.gte(params.basicFundCap);
  note(() =>
    entry(
      params,
      'basic-cap-reached',
      ['supplementPays', 'basicFundCap'],
      `basic fund paid ${formatMoney(ytd.basicFundPaid)} before + ${formatMoney(claim.basicFundPaid)} now = ${formatMoney(basicAfter)}: cap ${capReached ? 'reached' : 'not reached'}`,
    ),
  );
  if (!capReached) {
    if (claim.overCapAmount.gt(ZERO)) flags.push('BASIC_CAP_NOT_REACHED');
    return decided(ZERO);
  }

  // Step 3: the ratio, less the referral penalty where it applies.
  note(() =>
    entry(
      params,
      'supplement-ratio',
      penalised ? ['supplementRatio', 'referralPenalty'] : ['supplementRatio'],
      penalised
        ? `out of area and not referred: ${formatRatio(params.supplementRatio)} − ${formatRatio(params.referralPenalty)} = ${formatRatio(ratio)}`
        : `ratio ${formatRatio(ratio)}${claim.outOfArea ? ' (out of area, referred)' : ''}`,
    ),
  );
  if (penalised) flags.push('REFERRAL_PENALTY_APPLIED');

  // Step 4: over-cap × ratio, rounded half-up to the fen (四舍五入) here and only here.
  const exact = claim.overCapAmount.times(ratio);
  const rounded = roundToFen(exact);
  note(() =>
    entry(
      params,
      'fen-rounding',
      [],
      `${formatMoney(claim.overCapAmount)} × ${formatRatio(ratio)} = ${exact.toString()} → ${formatMoney(rounded)} (half-up to the fen)`,
      {},
      'step 4: 四舍五入 to the fen, the only rounding of the supplement',
    ),
  );

  // Step 4, Kaifeng art. 14: the supplement stops at 6 × the average wage less the basic cap; Dehong art. 10: no cap.
  const supplementCap = params.supplementCap;
  if (supplementCap === null) {
    note(() =>
      entry(params, 'annual-cap', ['annualCap'], `no annual supplement cap: due ${formatMoney(rounded)}`),
    );
    return decided(rounded);
  }
  const remainingBefore = maxMoney(ZERO, supplementCap.minus(ytd.supplementPaid));
  const due = minMoney(rounded, remainingBefore);
  if (due.lt(rounded)) flags.push('ANNUAL_CAP_LIMITED');
  note(() =>
    entry(
      params,
      'annual-cap',
      ['annualCap', 'cityAverageWage', 'basicFundCap'],
      `supplement cap ${formatMoney(supplementCap)}, paid ${formatMoney(ytd.supplementPaid)} so far, ${formatMoney(remainingBefore)} left: due ${formatMoney(due)}`,
      { supplementCap: formatMoney(supplementCap) },
    ),
  );
  return decided(due);
}

/** Step 5: a reversal applies the original change with the opposite sign, so ytd returns exactly. */
export function reverseSupplement(input: ReversalInput): ReversalDecision {
  const { params, ytd, original } = input;
  const applied = {
    basicFundPaid: original.basicFundPaid.negated(),
    supplementPaid: original.supplementPaid.negated(),
  };
  const ytdAfter = {
    basicFundPaid: ytd.basicFundPaid.plus(applied.basicFundPaid),
    supplementPaid: ytd.supplementPaid.plus(applied.supplementPaid),
  };
  const trail = [
    entry(
      params,
      'reversal',
      [],
      `reverses basic fund ${formatMoney(original.basicFundPaid)} and supplement ${formatMoney(original.supplementPaid)} with the opposite sign`,
      {},
      'step 5: the original booking with the opposite sign',
    ),
  ];
  return {
    due: applied.supplementPaid,
    capRemaining: capRemainingAfter(params, ytdAfter.supplementPaid),
    applied,
    ytdAfter,
    trail,
  };
}
