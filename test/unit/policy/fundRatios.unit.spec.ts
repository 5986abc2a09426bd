import { describe, expect, it } from 'vitest';
import { fundRatios } from '../../../shared/policy/fundRatios.js';
import { DEHONG, KAIFENG, paramsFor, yuan } from './given.js';

const dehong = paramsFor(DEHONG, '2024-01-01');

describe('Dehong art. 21: operating cost ≤ 9 % of premiums, profit ≤ 1 %', () => {
  it.each([
    { cost: '90000.00', claims: '900000.00', costWithin: true, profitWithin: true, profit: '10000.00' },
    { cost: '90000.01', claims: '900000.00', costWithin: false, profitWithin: true, profit: '9999.99' },
    { cost: '80000.00', claims: '909999.99', costWithin: true, profitWithin: false, profit: '10000.01' },
  ])(
    'premiums 1,000,000, cost $cost, claims $claims',
    ({ cost, claims, costWithin, profitWithin, profit }) => {
      const r = fundRatios({
        params: dehong,
        premiumIncome: yuan('1000000.00'),
        operatingCost: yuan(cost),
        claimsPaid: yuan(claims),
      });
      expect(r.operatingCost.within).toBe(costWithin);
      expect(r.profitRate.within).toBe(profitWithin);
      expect(r.profit.toFixed(2)).toBe(profit);
      expect(r.trail.map((e) => e.article)).toEqual(['Dehong art. 21', 'Dehong art. 21']);
    },
  );

  it('Dehong art. 21: exactly 9 % and exactly 1 % are within', () => {
    const r = fundRatios({
      params: dehong,
      premiumIncome: yuan('100.00'),
      operatingCost: yuan('9.00'),
      claimsPaid: yuan('90.00'),
    });
    expect(r.operatingCost.ratio?.toString()).toBe('0.09');
    expect(r.profitRate.ratio?.toString()).toBe('0.01');
    expect([r.operatingCost.within, r.profitRate.within]).toEqual([true, true]);
    expect(r.lossRatio?.toString()).toBe('0.9');
  });

  it('Kaifeng art. 19: no numeric ceiling, so nothing to check', () => {
    const r = fundRatios({
      params: paramsFor(KAIFENG, '2024-01-01'),
      premiumIncome: yuan('100.00'),
      operatingCost: yuan('50.00'),
      claimsPaid: yuan('0'),
    });
    expect(r.operatingCost).toMatchObject({ ceiling: null, within: null });
    expect(r.operatingCost.ratio?.toString()).toBe('0.5');
  });

  it('no premium income: ratios are unknown rather than divided by zero', () => {
    const r = fundRatios({
      params: dehong,
      premiumIncome: yuan('0'),
      operatingCost: yuan('1.00'),
      claimsPaid: yuan('0'),
    });
    expect(r.operatingCost).toMatchObject({ ratio: null, within: null });
  });
});
