import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, formatMoney, type Money, roundToFen, ZERO } from '../../../shared/money.js';
import { insuranceYearOf } from '../../../shared/policy/insuranceYear.js';
import { MEDICAL_TYPES, type MedicalType, type PolicyParams } from '../../../shared/policy/params.js';
import {
  decideSupplement,
  reverseSupplement,
  type SettlementClaim,
  type SupplementDecision,
  type YearToDate,
} from '../../../shared/policy/supplement.js';
import { DEHONG, day, KAIFENG, paramsFor, yuan } from './given.js';

const dehong = paramsFor(DEHONG, '2024-06-01');
const kaifeng = paramsFor(KAIFENG, '2024-06-01');

interface Case {
  eligible?: boolean;
  ytd?: { basicFundPaid: string; supplementPaid: string };
  claim?: Partial<{ inScopeAmount: string; basicFundPaid: string; overCapAmount: string }> &
    Partial<Pick<SettlementClaim, 'outOfArea' | 'referred' | 'medicalType'>>;
}

/** given the year so far, when this settlement arrives, then this is due. Defaults: covered, basic cap already reached. */
function when(params: PolicyParams, c: Case = {}): SupplementDecision {
  const cap = params.basicFundCap.toFixed(2);
  const ytd = c.ytd ?? { basicFundPaid: cap, supplementPaid: '0.00' };
  const claim = c.claim ?? {};
  return decideSupplement({
    params,
    eligible: c.eligible ?? true,
    ytd: { basicFundPaid: yuan(ytd.basicFundPaid), supplementPaid: yuan(ytd.supplementPaid) },
    claim: {
      inScopeAmount: yuan(claim.inScopeAmount ?? '50000.00'),
      basicFundPaid: yuan(claim.basicFundPaid ?? '0.00'),
      overCapAmount: yuan(claim.overCapAmount ?? '10000.00'),
      outOfArea: claim.outOfArea ?? false,
      referred: claim.referred ?? false,
      medicalType: claim.medicalType ?? 'inpatient',
    },
  });
}

const text = (d: SupplementDecision) => ({
  due: formatMoney(d.due),
  ratio: d.ratio.toFixed(2),
  capRemaining: d.capRemaining === null ? null : formatMoney(d.capRemaining),
});

describe('supplement step 1: covered?', () => {
  it('Dehong art. 8 / Kaifeng art. 8: a member not covered for the year is owed nothing, and it is flagged', () => {
    const d = when(dehong, { eligible: false, claim: { basicFundPaid: '1000.00' } });
    expect(formatMoney(d.due)).toBe('0.00');
    expect(d.flags).toContain('NOT_COVERED');
    // The basic fund still paid, so its year-to-date moves on.
    expect(formatMoney(d.ytdAfter.basicFundPaid)).toBe('151000.00');
  });

  it('Dehong art. 10: general outpatient care is not supplemented; Kaifeng art. 13 pays any compliant cost', () => {
    const d = when(dehong, { claim: { medicalType: 'general-outpatient' } });
    expect(formatMoney(d.due)).toBe('0.00');
    expect(d.flags).toEqual(['MEDICAL_TYPE_NOT_COVERED']);
    expect(when(dehong, { claim: { medicalType: 'special-outpatient' } }).due.gt(0)).toBe(true);
    expect(formatMoney(when(kaifeng, { claim: { medicalType: 'general-outpatient' } }).due)).toBe('9000.00');
  });
});

describe('supplement step 2: basic cap reached? (Dehong art. 10, Kaifeng art. 13)', () => {
  it('Dehong art. 10: the basic cap crossed inside one settlement makes the over-cap amount due', () => {
    const d = when(dehong, {
      ytd: { basicFundPaid: '145000.00', supplementPaid: '0.00' },
      claim: { basicFundPaid: '5000.00', overCapAmount: '2000.00' },
    });
    expect(text(d)).toEqual({ due: '1800.00', ratio: '0.90', capRemaining: null });
    expect(d.flags).toEqual([]);
    expect(d.trail.find((e) => e.rule === 'basic-cap-reached')?.article).toBe(
      'Dehong art. 2, art. 10, illustrative',
    );
  });

  it('Dehong art. 10: one fen short of the basic cap, nothing is due and the claim is flagged', () => {
    const d = when(dehong, {
      ytd: { basicFundPaid: '144999.99', supplementPaid: '0.00' },
      claim: { basicFundPaid: '5000.00', overCapAmount: '2000.00' },
    });
    expect(formatMoney(d.due)).toBe('0.00');
    expect(d.flags).toEqual(['BASIC_CAP_NOT_REACHED']);
  });

  it('Kaifeng art. 13: below the basic cap with nothing claimed over it, nothing is due and nothing is flagged', () => {
    const d = when(kaifeng, {
      ytd: { basicFundPaid: '0.00', supplementPaid: '0.00' },
      claim: { overCapAmount: '0.00' },
    });
    expect(formatMoney(d.due)).toBe('0.00');
    expect(d.flags).toEqual([]);
  });
});

describe('supplement step 3: ratio and referral (Dehong art. 10, art. 12)', () => {
  it.each([
    { region: 'Dehong', params: dehong, outOfArea: false, referred: false, ratio: '0.90', due: '9000.00' },
    { region: 'Dehong', params: dehong, outOfArea: true, referred: true, ratio: '0.90', due: '9000.00' },
    { region: 'Dehong', params: dehong, outOfArea: true, referred: false, ratio: '0.85', due: '8500.00' },
    { region: 'Kaifeng', params: kaifeng, outOfArea: true, referred: false, ratio: '0.90', due: '9000.00' },
  ])(
    'Dehong art. 12: $region out of area $outOfArea, referred $referred → $ratio',
    ({ params, outOfArea, referred, ratio, due }) => {
      const d = when(params, { claim: { outOfArea, referred } });
      expect(text(d)).toMatchObject({ ratio, due });
    },
  );

  it('Dehong art. 12: the penalised trail cites both articles and both values', () => {
    const d = when(dehong, { claim: { outOfArea: true, referred: false } });
    expect(d.flags).toContain('REFERRAL_PENALTY_APPLIED');
    expect(d.trail.find((e) => e.rule === 'supplement-ratio')).toMatchObject({
      article: 'Dehong art. 10, art. 12',
      params: { supplementRatio: '0.90', referralPenalty: '0.05' },
    });
  });
});

describe('supplement step 4: rounding half-up to the fen', () => {
  it.each([
    { overCap: '100.05', outOfArea: false, exact: '90.045', due: '90.05' },
    { overCap: '0.05', outOfArea: false, exact: '0.045', due: '0.05' },
    { overCap: '0.03', outOfArea: true, exact: '0.0255', due: '0.03' },
    { overCap: '10.01', outOfArea: true, exact: '8.5085', due: '8.51' },
    { overCap: '0.01', outOfArea: false, exact: '0.009', due: '0.01' },
    { overCap: '100.04', outOfArea: false, exact: '90.036', due: '90.04' },
  ])('half a fen: $overCap × ratio = $exact → $due', ({ overCap, outOfArea, exact, due }) => {
    const d = when(dehong, { claim: { overCapAmount: overCap, outOfArea } });
    expect(formatMoney(d.due)).toBe(due);
    expect(d.trail.find((e) => e.rule === 'fen-rounding')?.detail).toContain(`= ${exact} →`);
  });

  it('half a fen: a reversal of 90.05 is −90.05, the same as rounding −90.045 half-up (away from zero)', () => {
    const d = when(dehong, { claim: { overCapAmount: '100.05' } });
    const r = reverseSupplement({ params: dehong, ytd: d.ytdAfter, original: d.applied });
    expect(formatMoney(r.due)).toBe('-90.05');
    expect(formatMoney(roundToFen(new Decimal('-90.045')))).toBe('-90.05');
  });
});

describe('supplement step 4: annual cap (Kaifeng art. 14; Dehong art. 10: none)', () => {
  it('Kaifeng art. 14: the annual supplement cap used up inside one settlement pays only what is left', () => {
    const d = when(kaifeng, {
      ytd: { basicFundPaid: '100000.00', supplementPaid: '319000.00' },
      claim: { overCapAmount: '2000.00' },
    });
    expect(text(d)).toEqual({ due: '1000.00', ratio: '0.90', capRemaining: '0.00' });
    expect(d.flags).toEqual(['ANNUAL_CAP_LIMITED']);
    const next = decideSupplement({
      params: kaifeng,
      eligible: true,
      ytd: d.ytdAfter,
      claim: {
        inScopeAmount: yuan('500.00'),
        overCapAmount: yuan('500.00'),
        outOfArea: false,
        referred: false,
        medicalType: 'inpatient',
        basicFundPaid: ZERO,
      },
    });
    expect(formatMoney(next.due)).toBe('0.00');
  });

  it('Kaifeng art. 14: exactly reaching the cap is not limited', () => {
    const d = when(kaifeng, {
      ytd: { basicFundPaid: '100000.00', supplementPaid: '318200.00' },
      claim: { overCapAmount: '2000.00' },
    });
    expect(text(d)).toEqual({ due: '1800.00', ratio: '0.90', capRemaining: '0.00' });
    expect(d.flags).toEqual([]);
  });

  it('Dehong art. 10: no cap, however much was paid this year', () => {
    const d = when(dehong, { ytd: { basicFundPaid: '150000.00', supplementPaid: '9999999.00' } });
    expect(text(d)).toEqual({ due: '9000.00', ratio: '0.90', capRemaining: null });
  });
});

describe('supplement step 5: reversal', () => {
  it('a reversal restores ytd exactly (Kaifeng, cap-limited settlement)', () => {
    const ytd = { basicFundPaid: yuan('99000.00'), supplementPaid: yuan('319000.00') };
    const d = decideSupplement({
      params: kaifeng,
      eligible: true,
      ytd,
      claim: {
        inScopeAmount: yuan('9000'),
        basicFundPaid: yuan('1000.00'),
        overCapAmount: yuan('3333.33'),
        outOfArea: false,
        referred: false,
        medicalType: 'inpatient',
      },
    });
    const r = reverseSupplement({ params: kaifeng, ytd: d.ytdAfter, original: d.applied });
    expect(r.ytdAfter.basicFundPaid.eq(ytd.basicFundPaid)).toBe(true);
    expect(r.ytdAfter.supplementPaid.eq(ytd.supplementPaid)).toBe(true);
    expect(formatMoney(r.capRemaining ?? ZERO)).toBe('1000.00');
  });
});

describe('Dehong art. 11: the insurance year runs 1 January 00:00 to 31 December 24:00', () => {
  it('Dehong art. 11: a service on 31 December belongs to that year, 1 January to the next', () => {
    expect(insuranceYearOf(dehong, day('2024-12-31'))).toBe(2024);
    expect(insuranceYearOf(dehong, day('2025-01-01'))).toBe(2025);
  });
});

describe('properties', () => {
  const cents = (max: bigint) =>
    fc.bigInt({ min: 0n, max }).map((c): Money => new Decimal(c.toString()).dividedBy(100));
  const regions = fc.constantFrom(dehong, kaifeng, paramsFor(KAIFENG, '2025-03-01'));
  const ytds = fc.record({ basicFundPaid: cents(30_000_000n), supplementPaid: cents(40_000_000n) });
  const claims = fc.record({
    inScopeAmount: cents(100_000_000n),
    basicFundPaid: cents(10_000_000n),
    overCapAmount: cents(100_000_000n),
    outOfArea: fc.boolean(),
    referred: fc.boolean(),
    medicalType: fc.constantFrom<MedicalType>(...MEDICAL_TYPES),
  });
  const settlements = fc.record({ params: regions, eligible: fc.boolean(), ytd: ytds, claim: claims });

  it('the supplement is never negative, never above the over-cap amount, never past the annual cap', () => {
    fc.assert(
      fc.property(settlements, (input) => {
        const d = decideSupplement(input);
        expect(d.due.gte(0)).toBe(true);
        expect(d.due.lte(input.claim.overCapAmount)).toBe(true);
        expect(d.due.decimalPlaces()).toBeLessThanOrEqual(2);
        const cap = input.params.supplementCap;
        if (cap !== null) {
          expect(d.due.lte(Decimal.max(0, cap.minus(input.ytd.supplementPaid)))).toBe(true);
          expect(d.capRemaining?.gte(0)).toBe(true);
        } else {
          expect(d.capRemaining).toBeNull();
        }
      }),
    );
  });

  it('a settlement followed by its reversal leaves ytd unchanged', () => {
    fc.assert(
      fc.property(settlements, (input) => {
        const d = decideSupplement(input);
        const r = reverseSupplement({ params: input.params, ytd: d.ytdAfter, original: d.applied });
        const same = (a: YearToDate, b: YearToDate) =>
          a.basicFundPaid.eq(b.basicFundPaid) && a.supplementPaid.eq(b.supplementPaid);
        expect(same(r.ytdAfter, input.ytd)).toBe(true);
        expect(r.due.eq(d.due.negated())).toBe(true);
      }),
    );
  });

  it('a run of settlements never pays past the Kaifeng annual cap in total', () => {
    fc.assert(
      fc.property(fc.array(claims, { maxLength: 30 }), (run) => {
        let ytd: YearToDate = { basicFundPaid: kaifeng.basicFundCap, supplementPaid: ZERO };
        for (const claim of run)
          ytd = decideSupplement({ params: kaifeng, eligible: true, ytd, claim }).ytdAfter;
        expect(ytd.supplementPaid.lte(kaifeng.supplementCap ?? ZERO)).toBe(true);
      }),
    );
  });
});
