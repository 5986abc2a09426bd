import { describe, expect, it } from 'vitest';
import { type Period, parsePeriod } from '../../../services/disclosure/periods.js';
import {
  asOfLabel,
  type Standing,
  standingOf,
  verdictOf,
} from '../../../services/disclosure/render/standing.js';
import { Decimal } from '../../../shared/money.js';

const year = (label: string, publishedAt: string) => {
  const period = parsePeriod(label) as Period;
  return { periodStart: period.start, periodEnd: period.end, publishedAt: new Date(publishedAt) };
};

describe('how far a published period runs (the running-year label)', () => {
  it.each([
    // year    published (UTC)            phase          China day     label
    ['2026', '2026-05-10T02:00:00.000Z', 'running', '2026-05-10', '截至 2026 年 5 月 10 日'],
    // 23:59:59.999 on 31 December in China is still the year's last day: not final.
    ['2025', '2025-12-31T15:59:59.999Z', 'running', '2025-12-31', '截至 2025 年 12 月 31 日'],
    // 00:00 on 1 January in China (16:00 UTC the day before): the year is over.
    ['2025', '2025-12-31T16:00:00.000Z', 'final', '2025-12-31', null],
    ['2025', '2026-05-10T02:00:00.000Z', 'final', '2025-12-31', null],
    // Published 1 January 00:30 in China but 31 December in UTC: the China day decides.
    ['2025', '2025-12-31T16:30:00.000Z', 'final', '2025-12-31', null],
    // A year published before it starts holds only premiums collected in advance (Kaifeng art. 8).
    ['2025', '2024-11-05T02:00:00.000Z', 'not-started', '2024-11-05', '截至 2024 年 11 月 5 日'],
    // 1 January itself, 08:00 in China: the year has begun.
    ['2025', '2025-01-01T00:00:00.000Z', 'running', '2025-01-01', '截至 2025 年 1 月 1 日'],
  ] as const)('year %s published at %s is %s, as of %s', (label, publishedAt, phase, asOf, shown) => {
    const standing = standingOf(year(label, publishedAt));
    expect(standing).toEqual({ phase, asOf });
    expect(asOfLabel(standing)).toBe(shown);
  });

  it('months and quarters run to their publication day the same way', () => {
    expect(standingOf(year('2026-05', '2026-05-10T02:00:00.000Z'))).toEqual({
      phase: 'running',
      asOf: '2026-05-10',
    });
    expect(standingOf(year('2026-04', '2026-05-05T02:00:00.000Z'))).toEqual({
      phase: 'final',
      asOf: '2026-04-30',
    });
    expect(standingOf(year('2026-Q2', '2026-06-30T15:59:00.000Z')).phase).toBe('running');
  });
});

describe('a ratio against its ceiling', () => {
  const final: Standing = { phase: 'final', asOf: '2025-12-31' };
  const running: Standing = { phase: 'running', asOf: '2026-05-10' };
  const d = (text: string) => new Decimal(text);

  it.each([
    // ratio      ceiling   standing  loss?  verdict
    ['0.0662', '0.0900', final, false, 'within'],
    ['0.0900', '0.0900', final, false, 'within'], // at the ceiling is within it ("9%以内")
    ['0.0901', '0.0900', final, false, 'over'],
    ['0.0351', '0.0100', final, true, 'over'],
    ['-0.8162', '0.0100', final, true, 'loss'], // a loss is never "within"
    ['-0.0452', null, final, true, 'loss'], // Kaifeng sets no ceiling, a loss is still a loss
    ['0.6727', '0.0100', running, true, 'provisional'], // not over yet: no judgement
    ['-0.1000', '0.0100', running, true, 'loss'],
    ['0.0490', null, final, false, 'no-ceiling'],
    [null, '0.0900', final, false, 'not-applicable'],
    ['0.0000', '0.0100', final, true, 'within'], // break-even is not a loss
  ] as const)('%s against %s → %s', (ratio, ceiling, standing, loss, verdict) => {
    expect(
      verdictOf(ratio === null ? null : d(ratio), ceiling === null ? null : d(ceiling), standing, {
        negativeIsLoss: loss,
      }),
    ).toBe(verdict);
  });
});
