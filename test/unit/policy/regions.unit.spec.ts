import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { formatMoney } from '../../../shared/money.js';
import { formatRatio } from '../../../shared/policy/params.js';
import {
  loadRegions,
  loadRegionsFrom,
  paramsOn,
  parseRegionFile,
  REGIONS_DIR,
  regionParamsOn,
  regionPolicy,
} from '../../../shared/policy/regions.js';
import { DEHONG, day, KAIFENG, paramsFor, region, regionJson } from './given.js';

type Json = Record<string, unknown>;
const parameters = (file: Json): Record<string, Json[]> => file.parameters as Record<string, Json[]>;

describe('region policy files', () => {
  it('ships Kaifeng and Dehong, one file each', () => {
    expect([...loadRegions().keys()].sort()).toEqual([KAIFENG, DEHONG]);
  });

  it('Dehong art. 10: ratio 0.90, no annual cap; art. 12: referral penalty 0.05', () => {
    const p = paramsFor(DEHONG, '2024-06-01');
    expect(formatRatio(p.supplementRatio)).toBe('0.90');
    expect(formatRatio(p.referralPenalty)).toBe('0.05');
    expect(p.annualCap).toEqual({ kind: 'none' });
    expect(p.supplementCap).toBeNull();
    expect(p.provenance.supplementRatio.source).toBe('art. 10');
    expect(p.provenance.referralPenalty.source).toBe('art. 12');
  });

  it('Dehong art. 21: operating cost ≤ 9 %, profit ≤ 1 %; art. 16: 20 working days, 31 March next year', () => {
    const p = paramsFor(DEHONG, '2023-01-01');
    expect(formatRatio(p.operatingCostCeiling ?? p.supplementRatio)).toBe('0.09');
    expect(formatRatio(p.profitCeiling ?? p.supplementRatio)).toBe('0.01');
    expect(p.manualClaim).toEqual({ workingDays: 20, deadlineMonthDay: '03-31', deadlineYearOffset: 1 });
  });

  it('Dehong art. 8: one payment by 20 April of the cover year; art. 9: premiums not refunded', () => {
    const p = paramsFor(DEHONG, '2023-01-01');
    expect(p.premiumWindow).toMatchObject({ closesMonthDay: '04-20', closesYearOffset: 0 });
    expect(p.premiumRefundable).toBe(false);
    expect(p.newEnroleeException).toBe(false);
    expect(p.provenance.newEnroleeException.source).toBe('illustrative');
  });

  it('Kaifeng art. 8: collected 1 July – 31 December of the year before; art. 8–9: new-enrolee exception', () => {
    const p = paramsFor(KAIFENG, '2024-01-01');
    expect(p.premiumWindow).toEqual({
      opensMonthDay: '07-01',
      opensYearOffset: -1,
      closesMonthDay: '12-31',
      closesYearOffset: -1,
    });
    expect(p.newEnroleeException).toBe(true);
    expect(p.provenance.newEnroleeException.source).toBe('art. 8–9');
  });

  it('Kaifeng art. 14: supplement cap = 6 × city average wage − basic cap, versioned by year', () => {
    const p2024 = paramsFor(KAIFENG, '2024-12-31');
    const p2025 = paramsFor(KAIFENG, '2025-01-01');
    expect(formatMoney(p2024.supplementCap ?? p2024.basicFundCap)).toBe('320000.00');
    expect(formatMoney(p2025.supplementCap ?? p2025.basicFundCap)).toBe('332000.00');
    expect(p2025.provenance.cityAverageWage).toMatchObject({
      effectiveFrom: '2025-01-01',
      source: 'illustrative',
    });
    expect(p2025.provenance.annualCap.source).toBe('art. 14');
  });

  it('Kaifeng art. 19: no numeric ceilings on operating cost or profit', () => {
    const p = paramsFor(KAIFENG, '2024-01-01');
    expect(p.operatingCostCeiling).toBeNull();
    expect(p.profitCeiling).toBeNull();
  });

  it('payers: Kaifeng art. 7 and Dehong art. 6', () => {
    expect(paramsFor(KAIFENG, '2024-01-01').payerKinds).toContain('civil-servant-subsidy-transfer');
    expect(paramsFor(DEHONG, '2024-01-01').payerKinds).toContain('personal-account-deduction');
    expect(paramsFor(DEHONG, '2024-01-01').payerKinds).not.toContain('civil-servant-subsidy-transfer');
  });

  it('hospital codes match the region pattern (illustrative)', () => {
    expect(paramsFor(KAIFENG, '2024-01-01').hospitalCode.test('H41020200123')).toBe(true);
    expect(paramsFor(KAIFENG, '2024-01-01').hospitalCode.test('H53310200123')).toBe(false);
    expect(paramsFor(DEHONG, '2024-01-01').hospitalCode.test('H53310200123')).toBe(true);
  });

  it('parameters for a day are frozen', () => {
    const p = paramsFor(DEHONG, '2024-01-01');
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.medicalTypesCovered)).toBe(true);
  });

  it('an unknown region is a refusal with code UNKNOWN_REGION, not a throw', () => {
    const found = regionPolicy('999999');
    expect(found.ok).toBe(false);
    if (!found.ok)
      expect(found.error).toMatchObject({ code: 'UNKNOWN_REGION', field: 'region', value: '999999' });
  });

  it('a day before the document takes effect is refused (Dehong art. 26: from 2022-12-31)', () => {
    const before = paramsOn(region(DEHONG), day('2022-12-30'));
    expect(before.ok).toBe(false);
    if (!before.ok) expect(before.error.code).toBe('NO_POLICY_IN_FORCE');
    const first = regionParamsOn(DEHONG, day('2022-12-31'));
    expect(
      first.ok && [
        first.value.region.code,
        first.value.date,
        first.value.provenance.premiumDue.effectiveFrom,
      ],
    ).toEqual([DEHONG, '2022-12-31', '2022-12-31']);
  });
});

describe('region file validation', () => {
  const expectConfigError = (file: Json, message: string | RegExp, name = '533100-dehong.json') => {
    expect(() => parseRegionFile(name, file)).toThrow(ConfigError);
    expect(() => parseRegionFile(name, file)).toThrow(message);
  };

  it('names region, parameter and date for a ratio outside [0,1]', () => {
    const file = regionJson(DEHONG);
    parameters(file).supplementRatio?.push({
      effectiveFrom: '2023-01-01',
      value: 1.2,
      source: 'art. 10',
      note: '',
    });
    expectConfigError(
      file,
      'region 533100: parameter supplementRatio version effectiveFrom 2023-01-01: value 1.2 is not a ratio in [0,1]',
    );
  });

  it('refuses versions out of order', () => {
    const file = regionJson(DEHONG);
    parameters(file).premiumDue?.push({
      effectiveFrom: '2022-01-01',
      value: '1.00',
      source: 'illustrative',
      note: '',
    });
    expectConfigError(
      file,
      'parameter premiumDue version effectiveFrom 2022-01-01: is not after the version effectiveFrom 2022-12-31',
    );
  });

  it('refuses two versions on the same day (overlap)', () => {
    const file = regionJson(DEHONG);
    parameters(file).premiumDue?.push({
      effectiveFrom: '2022-12-31',
      value: '1.00',
      source: 'illustrative',
      note: '',
    });
    expectConfigError(file, /premiumDue version effectiveFrom 2022-12-31: overlaps/);
  });

  it('refuses a missing, an unknown or a late-starting parameter', () => {
    const missing = regionJson(DEHONG);
    delete parameters(missing).basicFundCap;
    expectConfigError(missing, 'region 533100: parameter basicFundCap: missing');
    const unknown = regionJson(DEHONG);
    parameters(unknown).deductible = [];
    expectConfigError(unknown, /parameter deductible: unknown parameter/);
    const late = regionJson(DEHONG);
    const first = parameters(late).basicFundCap?.[0];
    if (first) first.effectiveFrom = '2023-06-01';
    expectConfigError(
      late,
      /basicFundCap version effectiveFrom 2023-06-01: starts after the document's effective date/,
    );
  });

  it('refuses money with more than two decimals, a bad source and a bad date', () => {
    const money = regionJson(DEHONG);
    const due = parameters(money).premiumDue?.[0];
    if (due) due.value = '180.005';
    expectConfigError(money, /premiumDue version effectiveFrom 2022-12-31: value "180.005" is not an amount/);
    const source = regionJson(DEHONG);
    const ratio = parameters(source).supplementRatio?.[0];
    if (ratio) ratio.source = 'article ten';
    expectConfigError(source, /supplementRatio version effectiveFrom 2022-12-31: source "article ten"/);
    const date = regionJson(DEHONG);
    const wage = parameters(date).premiumDue?.[0];
    if (wage) wage.effectiveFrom = '2022-02-30';
    expectConfigError(date, /premiumDue version 0 effectiveFrom: "2022-02-30" is not a date/);
  });

  it('refuses a referral penalty larger than the ratio, and a wage-based cap without a wage', () => {
    const penalty = regionJson(DEHONG);
    const p = parameters(penalty).referralPenalty?.[0];
    if (p) p.value = '0.95';
    expectConfigError(penalty, /referralPenalty .* exceeds supplementRatio/);
    const wage = regionJson(KAIFENG);
    parameters(wage).cityAverageWage?.push({
      effectiveFrom: '2026-01-01',
      value: null,
      source: 'illustrative',
      note: '',
    });
    expectConfigError(
      wage,
      /region 410200: parameter cityAverageWage version effectiveFrom 2026-01-01: value null/,
      '410200-kaifeng.json',
    );
  });

  it('refuses a file whose name does not start with its region code', () => {
    expectConfigError(regionJson(DEHONG), /file name must start with "533100-"/, '533101-dehong.json');
  });

  it('a third region is a new JSON file and no code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regions-'));
    try {
      const text = readFileSync(join(REGIONS_DIR, '533100-dehong.json'), 'utf8');
      writeFileSync(join(dir, '533100-dehong.json'), text);
      const third = JSON.parse(text) as Json;
      third.region = '530100';
      third.name = { zh: '昆明市', en: 'Kunming' };
      writeFileSync(join(dir, '530100-kunming.json'), JSON.stringify(third));
      const regions = loadRegionsFrom(dir);
      expect([...regions.keys()].sort()).toEqual(['530100', '533100']);
      const kunming = regions.get('530100');
      expect(kunming?.name.en).toBe('Kunming');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
