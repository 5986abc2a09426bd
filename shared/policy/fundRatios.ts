import { type Decimal, formatMoney, type Money, ZERO } from '../money.js';
import { formatRatio, type PolicyParams } from './params.js';
import { entry, type TrailEntry } from './trail.js';

export interface FundRatiosInput {
  readonly params: PolicyParams;
  /** 筹资总额: premiums collected for the period. */
  readonly premiumIncome: Money;
  /** The insurer's operating cost for the period. */
  readonly operatingCost: Money;
  /** Claims paid (direct and manual) for the period. */
  readonly claimsPaid: Money;
  /** Any other income of the fund, e.g. interest; 0 when absent. */
  readonly otherIncome?: Money;
}

export interface CeilingCheck {
  /** Exact ratio to premium income; null when there was no premium income. */
  readonly ratio: Decimal | null;
  /** The region's ceiling; null when its document sets none. */
  readonly ceiling: Decimal | null;
  /** null when either side is missing. */
  readonly within: boolean | null;
}

export interface FundRatiosDecision {
  readonly profit: Money;
  readonly operatingCost: CeilingCheck;
  readonly profitRate: CeilingCheck;
  readonly lossRatio: Decimal | null;
  readonly trail: readonly TrailEntry[];
}

function check(amount: Money, premiumIncome: Money, ceiling: Decimal | null): CeilingCheck {
  const ratio = premiumIncome.gt(ZERO) ? amount.dividedBy(premiumIncome) : null;
  return { ratio, ceiling, within: ratio === null || ceiling === null ? null : ratio.lte(ceiling) };
}

const show = (ratio: Decimal | null): string =>
  ratio === null ? 'n/a' : formatRatio(ratio.toDecimalPlaces(4));

/** The insurer's operating-cost and profit ratios to premiums, against the region's ceilings. */
export function fundRatios(input: FundRatiosInput): FundRatiosDecision {
  const { params, premiumIncome, operatingCost, claimsPaid } = input;
  const profit = premiumIncome
    .plus(input.otherIncome ?? ZERO)
    .minus(claimsPaid)
    .minus(operatingCost);
  // Dehong art. 21: operating cost at most 9 % of premiums (Kaifeng art. 19 sets no number).
  const costCheck = check(operatingCost, premiumIncome, params.operatingCostCeiling);
  // Dehong art. 21: profit at most 1 %, read as profit over premiums (保本微利).
  const profitCheck = check(profit, premiumIncome, params.profitCeiling);
  const lossRatio = premiumIncome.gt(ZERO) ? claimsPaid.dividedBy(premiumIncome) : null;
  const verdict = (c: CeilingCheck): string =>
    c.within === null ? 'no ceiling to check' : c.within ? 'within' : 'above';
  const trail = [
    entry(
      params,
      'operating-cost-ceiling',
      ['operatingCostCeiling'],
      `operating cost ${formatMoney(operatingCost)} / premiums ${formatMoney(premiumIncome)} = ${show(costCheck.ratio)}: ${verdict(costCheck)}`,
    ),
    entry(
      params,
      'profit-ceiling',
      ['profitCeiling'],
      `profit ${formatMoney(profit)} / premiums ${formatMoney(premiumIncome)} = ${show(profitCheck.ratio)}: ${verdict(profitCheck)}`,
    ),
  ];
  return { profit, operatingCost: costCheck, profitRate: profitCheck, lossRatio, trail };
}
