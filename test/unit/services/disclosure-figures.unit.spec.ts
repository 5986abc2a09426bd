import { describe, expect, it } from 'vitest';
import { EMPTY_AGGREGATE, type PeriodAggregate } from '../../../services/disclosure/aggregate.js';
import {
  computeFigures,
  type FigureInputs,
  paramsForPeriod,
  ratio4,
  reconciliationStatus,
  suppressCount,
} from '../../../services/disclosure/figures.js';
import { type Period, parsePeriod } from '../../../services/disclosure/periods.js';
import { disclosureSettingsFromEnvironment } from '../../../services/disclosure/settings.js';
import { ConfigError } from '../../../shared/errors.js';
import { Decimal, ZERO } from '../../../shared/money.js';
import { addCounters, type Counters, countersFrom, EMPTY_COUNTERS } from '../../../shared/reconciliation.js';

const DEHONG = '533100';
const KAIFENG = '410200';
const yuan = (text: string) => new Decimal(text);
const period = (label: string): Period => parsePeriod(label) as Period;
/** A counters hash as a reconciler stage stores it, from [kind, status, items, Σ |difference|] rows. */
const counted = (rows: [string, string, number, string][]): Counters =>
  countersFrom(
    Object.fromEntries(
      rows.flatMap(([k, s, n, a]) => [
        [`n:${k}:${s}`, String(n)],
        [`a:${k}:${s}`, a],
      ]),
    ),
    'test',
  );

const aggregate = (partial: Partial<PeriodAggregate>): PeriodAggregate => ({
  ...EMPTY_AGGREGATE,
  ...partial,
});

function inputs(overrides: Partial<FigureInputs> = {}): FigureInputs {
  const p = overrides.period ?? period('2025-Q1');
  return {
    region: DEHONG,
    period: p,
    aggregate: aggregate({
      premiumIncome: yuan('1000000.00'),
      claimsPaidDirect: yuan('700000.00'),
      claimsPaidManual: yuan('50000.00'),
      operatingCost: yuan('80000.00'),
      visits: 120,
      manualClaimsDecided: 30,
      manualClaimsWithinSla: 27,
    }),
    surplusBroughtForward: ZERO,
    insuredPersons: 15_000,
    beneficiaries: 95,
    reconciliation: { openItems: 4, discrepancies: 1, openAmount: yuan('567.89') },
    params: paramsForPeriod(overrides.region ?? DEHONG, p),
    threshold: 10,
    ...overrides,
  };
}

const text = (value: Decimal | null) => (value === null ? null : value.toFixed(4));

describe('disclosure figures', () => {
  it('computes the ratios as Dehong art. 21 defines them, equal to the hand sums', () => {
    const figures = computeFigures(inputs());
    expect(figures.premiumIncome.toFixed(2)).toBe('1000000.00');
    // 80 000 / 1 000 000
    expect(text(figures.operatingCostRatio)).toBe('0.0800');
    // (1 000 000 − 700 000 − 50 000 − 80 000) / 1 000 000
    expect(text(figures.profitRate)).toBe('0.1700');
    // (700 000 + 50 000) / 1 000 000
    expect(text(figures.lossRatio)).toBe('0.7500');
    expect(text(figures.slaCompliance)).toBe('0.9000'); // 27 / 30
    expect(text(figures.operatingCostCeiling)).toBe('0.0900');
    expect(text(figures.profitRateCeiling)).toBe('0.0100');
    expect(figures).toMatchObject({
      regionCode: DEHONG,
      periodKind: 'QUARTER',
      periodLabel: '2025-Q1',
      periodStart: '2025-01-01',
      periodEnd: '2025-03-31',
      insuredPersons: 15_000,
      beneficiaries: 95,
      visits: 120,
      manualClaimsDecided: 30,
      manualClaimsWithinSla: 27,
      reconciliationOpenItems: 4,
      reconciliationDiscrepancies: 1,
      suppressionThreshold: 10,
    });
    expect(figures.surplusCarriedForward.toFixed(2)).toBe('170000.00');
  });

  it.each([
    ['an exact tie rounds up', '0.50', '10000.00', '0.0001'],
    ['below the tie rounds down', '0.49', '10000.00', '0.0000'],
    ['above the tie rounds up', '1.01', '20000.00', '0.0001'],
    ['a negative tie rounds away from zero (四舍五入 on the size)', '-0.50', '10000.00', '-0.0001'],
    ['many decimals', '12345.65', '100000.00', '0.1235'],
    ['two thirds', '2.00', '3.00', '0.6667'],
  ])('ratio4: %s', (_case, numerator, denominator, expected) => {
    expect(ratio4(yuan(numerator), yuan(denominator))?.toFixed(4)).toBe(expected);
  });

  it('publishes no ratio without positive premium income, nor one too large for decimal(9,4)', () => {
    expect(ratio4(yuan('5.00'), ZERO)).toBeNull();
    expect(ratio4(yuan('5.00'), yuan('-1.00'))).toBeNull();
    expect(ratio4(yuan('1000000.00'), yuan('0.01'))).toBeNull();
    const none = computeFigures(inputs({ aggregate: aggregate({ claimsPaidDirect: yuan('10.00') }) }));
    expect([none.operatingCostRatio, none.profitRate, none.lossRatio]).toEqual([null, null, null]);
    expect(none.surplusCarriedForward.toFixed(2)).toBe('-10.00');
  });

  it('a negative profit rate from a tie rounds half-up on the size', () => {
    const figures = computeFigures(
      inputs({
        aggregate: aggregate({ premiumIncome: yuan('10000.00'), claimsPaidDirect: yuan('10000.50') }),
      }),
    );
    expect(text(figures.profitRate)).toBe('-0.0001');
    expect(text(figures.lossRatio)).toBe('1.0001'); // 1.00005 half-up
  });

  it.each([
    [0, 0],
    [1, null],
    [9, null],
    [10, 10],
    [-3, null],
    [-12, -12],
  ])('suppressCount(%i, 10) = %s', (count, expected) => {
    expect(suppressCount(count, 10)).toBe(expected);
  });

  it('withholds small groups: counts 1–9 are null, and so is a rate that would give one back', () => {
    const small = computeFigures(
      inputs({
        insuredPersons: 9,
        beneficiaries: 3,
        aggregate: aggregate({
          premiumIncome: yuan('900.00'),
          visits: 4,
          manualClaimsDecided: 5,
          manualClaimsWithinSla: 5,
        }),
      }),
    );
    expect(small).toMatchObject({
      insuredPersons: null,
      beneficiaries: null,
      visits: null,
      manualClaimsDecided: null,
      manualClaimsWithinSla: null,
      slaCompliance: null,
    });
    // Money stays published: it is the fund's account (Dehong art. 24), not a person's.
    expect(small.premiumIncome.toFixed(2)).toBe('900.00');
    const fewOnTime = computeFigures(
      inputs({
        aggregate: aggregate({
          premiumIncome: yuan('1.00'),
          manualClaimsDecided: 40,
          manualClaimsWithinSla: 3,
        }),
      }),
    );
    expect(fewOnTime).toMatchObject({
      manualClaimsDecided: 40,
      manualClaimsWithinSla: null,
      slaCompliance: null,
    });
    const noClaims = computeFigures(inputs({ aggregate: aggregate({ premiumIncome: yuan('1.00') }) }));
    expect(noClaims).toMatchObject({ manualClaimsDecided: 0, manualClaimsWithinSla: 0, slaCompliance: null });
    const threshold3 = computeFigures(inputs({ threshold: 3, beneficiaries: 3, insuredPersons: 2 }));
    expect(threshold3).toMatchObject({ beneficiaries: 3, insuredPersons: null, suppressionThreshold: 3 });
  });

  it('carries earlier years into the YEAR surplus; a month or quarter shows its own', () => {
    const base = { surplusBroughtForward: yuan('-20000.00') };
    const yearFigures = computeFigures(inputs({ ...base, period: period('2025') }));
    expect(yearFigures.surplusCarriedForward.toFixed(2)).toBe('150000.00');
    const monthFigures = computeFigures(inputs({ ...base, period: period('2025-03') }));
    expect(monthFigures.surplusCarriedForward.toFixed(2)).toBe('170000.00');
  });

  it('publishes no ceiling where the policy sets none (Kaifeng art. 19) and flags illustrative parameters', () => {
    const kaifeng = computeFigures(inputs({ region: KAIFENG, period: period('2025-Q1') }));
    expect(kaifeng.operatingCostCeiling).toBeNull();
    expect(kaifeng.profitRateCeiling).toBeNull();
    expect(text(kaifeng.operatingCostRatio)).toBe('0.0800');
    expect(kaifeng.parametersIllustrative).toBe(true); // Kaifeng's ratio is not in its document
    // Kaifeng collects 2024 premiums in 2023, before its document took effect: its first parameters apply.
    expect(paramsForPeriod(KAIFENG, period('2023-Q4')).date).toBe('2024-01-01');
  });

  it('counts each yuan of discrepancy once: a member-year item adds to the open items, not to the amount', () => {
    expect(reconciliationStatus(EMPTY_COUNTERS)).toEqual({
      openItems: 0,
      discrepancies: 0,
      openAmount: ZERO,
    });
    // Hand-worked region-year: member m claimed 9,000.00 without cover and the insurer paid it, so the
    // same 9,000.00 stands in m's member-year item and in hospital H1's March item; H2's April was paid
    // 120.50 short; a manual claim was paid late but in full (difference 0.00); one member-year is open.
    const counters = addCounters([
      counted([
        ['MEMBER_YEAR', 'DISCREPANCY', 1, '9000.00'],
        ['MEMBER_YEAR', 'OPEN', 1, '300.00'],
      ]),
      counted([
        ['HOSPITAL_MONTH', 'DISCREPANCY', 2, '9120.50'],
        ['HOSPITAL_MONTH', 'MATCHED', 7, '0.00'],
      ]),
      counted([
        ['MANUAL_CLAIM', 'DISCREPANCY', 1, '0.00'],
        ['MANUAL_CLAIM', 'CLOSED', 2, '0.00'],
      ]),
    ]);
    const status = reconciliationStatus(counters);
    expect(status.openItems).toBe(5); // 1 + 1 member-year, 2 hospital-months, 1 manual claim
    expect(status.discrepancies).toBe(3); // the items the amount adds up: 2 hospital-months, 1 manual claim
    expect(status.openAmount.toFixed(2)).toBe('9120.50'); // not 18,120.50: the member-year's 9,000.00 once
  });

  it('reads its settings from the environment with defaults, refusing bad values in one line', () => {
    expect(disclosureSettingsFromEnvironment({})).toEqual({
      minGroup: 10,
      intervalSeconds: 30,
      port: 8088,
      periods: 'all',
    });
    expect(
      disclosureSettingsFromEnvironment({ HUB_DISCLOSURE_MIN_GROUP: '5', HUB_DISCLOSURE_PERIODS: 'closed' }),
    ).toMatchObject({ minGroup: 5, periods: 'closed' });
    expect(() => disclosureSettingsFromEnvironment({ HUB_DISCLOSURE_MIN_GROUP: '0' })).toThrow(ConfigError);
    expect(() => disclosureSettingsFromEnvironment({ HUB_DISCLOSURE_PORT: 'eighty' })).toThrow(
      /HUB_DISCLOSURE_PORT/,
    );
  });
});
