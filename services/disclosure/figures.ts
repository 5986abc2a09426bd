import { HubError } from '../../shared/errors.js';
import { Decimal, type Money, roundToFen, ZERO } from '../../shared/money.js';
import type { LocalDate } from '../../shared/policy/dates.js';
import type { ParamName, PolicyParams } from '../../shared/policy/params.js';
import { paramsOn, regionPolicy } from '../../shared/policy/regions.js';
import { amountOf, type Counters, countOf } from '../../shared/reconciliation.js';
import {
  type PublicDisclosure,
  RECONCILIATION_KINDS,
  type ReconciliationKind,
} from '../../shared/records.js';
import type { PeriodAggregate } from './aggregate.js';
import type { Period } from './periods.js';

/**
 * The published figures of one region and period, from the aggregates (pure). Definitions, with the
 * small-group rules, are in README.md "Figures"; every rounding here is the one written there.
 */

/** Every field of a disclosure that is a figure or says what it covers: all but the chain fields. */
export type DisclosureFigures = Omit<
  PublicDisclosure,
  | 'sequence'
  | 'correction'
  | 'supersedesSequence'
  | 'changes'
  | 'publishedAt'
  | 'previousHash'
  | 'hash'
  | 'signingKeyId'
  | 'signature'
>;

/** What the disclosure reports of reconciliation, for a region and insurance year. */
export interface ReconciliationStatus {
  /** Items not closed: OPEN or DISCREPANCY, of every kind (public-disclosure.avsc reconciliationOpenItems). */
  readonly openItems: number;
  /** The items in DISCREPANCY whose differences `openAmount` adds up. */
  readonly discrepancies: number;
  /** Σ |actual − expected| of those items. */
  readonly openAmount: Money;
}

/**
 * The items whose money the open discrepancy adds up: where the insurer paid otherwise than policy says.
 * A member-year item holds the same claims as their hospital-months (a claim for a member without cover
 * is in both), so its amount would count those yuan twice; it is counted among the open items only.
 */
export const MONEY_DISCREPANCY_KINDS: readonly ReconciliationKind[] = ['HOSPITAL_MONTH', 'MANUAL_CLAIM'];

/** The published reconciliation figures from both reconciler stages' counters, added up (pure). */
export function reconciliationStatus(counters: Counters): ReconciliationStatus {
  let openItems = 0;
  for (const kind of RECONCILIATION_KINDS) {
    openItems += countOf(counters, kind, 'OPEN') + countOf(counters, kind, 'DISCREPANCY');
  }
  let discrepancies = 0;
  let openAmount: Money = ZERO;
  for (const kind of MONEY_DISCREPANCY_KINDS) {
    discrepancies += countOf(counters, kind, 'DISCREPANCY');
    openAmount = openAmount.plus(amountOf(counters, kind, 'DISCREPANCY'));
  }
  return { openItems, discrepancies, openAmount };
}

export interface FigureInputs {
  readonly region: string;
  readonly period: Period;
  readonly aggregate: PeriodAggregate;
  /** YEAR only: the surplus of every earlier year of the region, carried into this one (Kaifeng art. 21). */
  readonly surplusBroughtForward: Money;
  /** Members covered for the insurance year the period lies in. */
  readonly insuredPersons: number;
  /** Members whose net benefit posted in the period is > 0. */
  readonly beneficiaries: number;
  readonly reconciliation: ReconciliationStatus;
  readonly params: PolicyParams;
  /** Counts from 1 to threshold − 1 are published as null. */
  readonly threshold: number;
}

/** decimal(9,4) holds |x| < 100 000: a ratio beyond it (a negligible premium) has no meaning to publish. */
const RATIO_LIMIT = new Decimal(100_000);

/** numerator / denominator as a 4-decimal fraction, half-up (四舍五入); null without a positive denominator. */
export function ratio4(numerator: Money, denominator: Money): Money | null {
  if (!denominator.gt(ZERO)) return null;
  const ratio = numerator.dividedBy(denominator).toDecimalPlaces(4, Decimal.ROUND_HALF_UP);
  return ratio.abs().lt(RATIO_LIMIT) ? ratio : null;
}

/** A count of people or cases: 1 … threshold − 1 would single people out, so it is withheld. 0 reveals no one. */
export function suppressCount(count: number, threshold: number): number | null {
  const size = Math.abs(count);
  return size > 0 && size < threshold ? null : count;
}

/** Premiums minus claims (direct and manual) minus operating cost. */
export function surplusOf(aggregate: PeriodAggregate): Money {
  return aggregate.premiumIncome
    .minus(aggregate.claimsPaidDirect)
    .minus(aggregate.claimsPaidManual)
    .minus(aggregate.operatingCost);
}

/** Parameters that only route or switch features, not part of any published figure. */
const NOT_A_FIGURE_PARAM = new Set<ParamName>(['hospitalCodePattern', 'publicDisclosure']);

export function usesIllustrativeParameters(params: PolicyParams): boolean {
  return (Object.entries(params.provenance) as Array<[ParamName, { source: string }]>).some(
    ([name, provenance]) => !NOT_A_FIGURE_PARAM.has(name) && provenance.source === 'illustrative',
  );
}

/**
 * The parameters a period is measured against: those in force on its last day, or on the day the
 * region's document took effect for a period before it (Kaifeng collects 2024 premiums in 2023).
 */
export function paramsForPeriod(region: string, period: Period): PolicyParams {
  const policy = regionPolicy(region);
  if (!policy.ok) throw new HubError(`disclosure for region ${region}: ${policy.error.rule}`);
  const effective = policy.value.document.effectiveFrom;
  // A period before the document took effect is measured against its first parameters.
  let day = period.end as LocalDate;
  if (day < effective) day = effective;
  const params = paramsOn(policy.value, day);
  if (!params.ok) throw new HubError(`disclosure for region ${region} on ${day}: ${params.error.rule}`);
  return params.value;
}

const ceiling = (value: Decimal | null): Money | null =>
  value === null ? null : value.toDecimalPlaces(4, Decimal.ROUND_HALF_UP);

export function computeFigures(inputs: FigureInputs): DisclosureFigures {
  const { aggregate, period, params, threshold } = inputs;
  const premiums = aggregate.premiumIncome;
  const claims = aggregate.claimsPaidDirect.plus(aggregate.claimsPaidManual);
  const surplus = surplusOf(aggregate);
  const decided = suppressCount(aggregate.manualClaimsDecided, threshold);
  const within = decided === null ? null : suppressCount(aggregate.manualClaimsWithinSla, threshold);
  // A rate from a withheld count would give the count back.
  const slaCompliance =
    decided === null || within === null || decided === 0
      ? null
      : ratio4(new Decimal(aggregate.manualClaimsWithinSla), new Decimal(aggregate.manualClaimsDecided));
  return {
    regionCode: inputs.region,
    periodKind: period.kind,
    periodLabel: period.label,
    periodStart: period.start,
    periodEnd: period.end,
    parametersIllustrative: usesIllustrativeParameters(params),
    insuredPersons: suppressCount(inputs.insuredPersons, threshold),
    premiumIncome: roundToFen(premiums),
    claimsPaidDirect: roundToFen(aggregate.claimsPaidDirect),
    claimsPaidManual: roundToFen(aggregate.claimsPaidManual),
    beneficiaries: suppressCount(inputs.beneficiaries, threshold),
    visits: suppressCount(aggregate.visits, threshold),
    operatingCost: roundToFen(aggregate.operatingCost),
    // Dehong art. 21: operating cost at most 9 % of premiums.
    operatingCostRatio: ratio4(aggregate.operatingCost, premiums),
    operatingCostCeiling: ceiling(params.operatingCostCeiling),
    // Dehong art. 21: profit (premiums − claims − operating cost) at most 1 % of premiums.
    profitRate: ratio4(surplus, premiums),
    profitRateCeiling: ceiling(params.profitCeiling),
    lossRatio: ratio4(claims, premiums),
    // Kaifeng art. 21: the year carries every earlier year's surplus; a month or quarter shows its own.
    surplusCarriedForward: roundToFen(
      period.kind === 'YEAR' ? inputs.surplusBroughtForward.plus(surplus) : surplus,
    ),
    manualClaimsDecided: decided,
    manualClaimsWithinSla: within,
    slaCompliance,
    reconciliationOpenItems: inputs.reconciliation.openItems,
    reconciliationDiscrepancies: inputs.reconciliation.discrepancies,
    reconciliationOpenAmount: roundToFen(inputs.reconciliation.openAmount),
    suppressionThreshold: threshold,
  };
}
