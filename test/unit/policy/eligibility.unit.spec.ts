import { describe, expect, it } from 'vitest';
import {
  decideEligibility,
  type EligibilityReason,
  premiumWindowFor,
} from '../../../shared/policy/eligibility.js';
import { DEHONG, day, KAIFENG, paramsFor, yuan } from './given.js';

/** given a region and cover year, when these payments were made, then covered or not, and why. */
function given(code: string, year: number, enrolledOn: string | null = '2010-01-01') {
  const params = paramsFor(code, `${year}-01-01`);
  const due = params.premiumDue.toFixed(2);
  return {
    due,
    whenPaid(...payments: [amount: string, paidOn: string][]) {
      const decision = decideEligibility({
        params,
        year,
        enrolledOn: enrolledOn === null ? null : day(enrolledOn),
        payments: payments.map(([amount, paidOn]) => ({ amount: yuan(amount), paidOn: day(paidOn) })),
      });
      return {
        decision,
        gives(covered: boolean, reason: EligibilityReason) {
          expect({ covered: decision.covered, reason: decision.reason }).toEqual({ covered, reason });
        },
      };
    },
  };
}

describe('Dehong art. 8: paid once, in full, by 20 April of the cover year', () => {
  it('Dehong art. 8: paid on 20 April is covered, 21 April is late', () => {
    const dehong = given(DEHONG, 2024);
    dehong.whenPaid([dehong.due, '2024-04-20']).gives(true, 'PAID_IN_FULL_IN_WINDOW');
    dehong.whenPaid([dehong.due, '2024-04-21']).gives(false, 'LATE');
  });

  it('Dehong art. 8: the window for 2024 is 1 January to 20 April 2024 inclusive', () => {
    expect(premiumWindowFor(paramsFor(DEHONG, '2024-01-01'), 2024)).toEqual({
      opensOn: '2024-01-01',
      closesOn: '2024-04-20',
    });
  });

  it.each([
    {
      case: 'half paid in the window',
      payments: [['90.00', '2024-03-01']],
      covered: false,
      reason: 'PARTIAL',
    },
    { case: 'nothing paid', payments: [], covered: false, reason: 'NOT_PAID' },
    {
      case: 'paid then fully corrected (冲正)',
      payments: [
        ['180.00', '2024-03-01'],
        ['-180.00', '2024-03-02'],
      ],
      covered: false,
      reason: 'NOT_PAID',
    },
    {
      case: 'two instalments in the window',
      payments: [
        ['100.00', '2024-01-10'],
        ['80.00', '2024-04-20'],
      ],
      covered: true,
      reason: 'PAID_IN_FULL_IN_WINDOW',
    },
    {
      case: 'completed after 20 April',
      payments: [
        ['100.00', '2024-01-10'],
        ['80.00', '2024-04-21'],
      ],
      covered: false,
      reason: 'LATE',
    },
    {
      case: 'paid in December for the next year, before the window',
      payments: [['180.00', '2023-12-20']],
      covered: false,
      reason: 'EARLY',
    },
  ] as const)('Dehong art. 8: $case → $reason', ({ payments, covered, reason }) => {
    given(DEHONG, 2024)
      .whenPaid(...payments.map(([a, d]): [string, string] => [a, d]))
      .gives(covered, reason);
  });

  it('Dehong has no new-enrolee exception (a region parameter): a late first payment is late', () => {
    given(DEHONG, 2024, '2024-06-01').whenPaid(['180.00', '2024-06-10']).gives(false, 'LATE');
  });
});

describe('Kaifeng art. 8: collected 1 July – 31 December for the next year', () => {
  it('Kaifeng art. 8: paid on 30 June is outside the window, 1 July is inside', () => {
    const kaifeng = given(KAIFENG, 2025);
    kaifeng.whenPaid([kaifeng.due, '2024-06-30']).gives(false, 'EARLY');
    kaifeng.whenPaid([kaifeng.due, '2024-07-01']).gives(true, 'PAID_IN_FULL_IN_WINDOW');
  });

  it('Kaifeng art. 8: paid on 31 December of the year before is covered, 1 January is late', () => {
    const kaifeng = given(KAIFENG, 2025);
    kaifeng.whenPaid([kaifeng.due, '2024-12-31']).gives(true, 'PAID_IN_FULL_IN_WINDOW');
    kaifeng.whenPaid([kaifeng.due, '2025-01-01']).gives(false, 'LATE');
  });

  it('Kaifeng art. 8: payments outside the window do not count toward "in full"', () => {
    const { decision } = given(KAIFENG, 2025).whenPaid(['60.00', '2024-12-31'], ['60.00', '2025-01-02']);
    expect(decision.covered).toBe(false);
    expect(decision.reason).toBe('LATE');
    expect(decision.paidInWindow.toFixed(2)).toBe('60.00');
    expect(decision.paidTotal.toFixed(2)).toBe('120.00');
  });

  it('Kaifeng art. 8: the trail cites the window article and its values', () => {
    const { decision } = given(KAIFENG, 2025).whenPaid(['120.00', '2024-08-01']);
    expect(decision.trail[0]).toMatchObject({
      rule: 'premium-window',
      article: 'Kaifeng art. 8, illustrative',
      params: { premiumDue: '120.00' },
    });
  });

  it('Kaifeng art. 9: a member new to basic insurance in the cover year who pays in full is covered that year', () => {
    given(KAIFENG, 2025, '2025-03-15')
      .whenPaid(['120.00', '2025-03-20'])
      .gives(true, 'NEW_ENROLEE_PAID_IN_FULL');
  });

  it('Kaifeng art. 9: a new enrolee who pays only part is not covered', () => {
    given(KAIFENG, 2025, '2025-03-15').whenPaid(['50.00', '2025-03-20']).gives(false, 'PARTIAL');
  });

  it('Kaifeng art. 8: a member enrolled before the window closed is not "new" and must pay in the window', () => {
    given(KAIFENG, 2025, '2024-09-01').whenPaid(['120.00', '2025-02-01']).gives(false, 'LATE');
  });

  it('Kaifeng art. 9: paying after the cover year ends is too late even for a new enrolee', () => {
    given(KAIFENG, 2025, '2025-11-01').whenPaid(['120.00', '2026-01-05']).gives(false, 'LATE');
  });

  it('Kaifeng art. 8–9: an unknown enrolment date gets no exception', () => {
    given(KAIFENG, 2025, null).whenPaid(['120.00', '2025-03-20']).gives(false, 'LATE');
  });
});
