import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { addDays } from '../../../shared/policy/dates.js';
import {
  checkPaidAfterReceived,
  isWorkingDay,
  knownWorkingDayAfter,
  manualClaimDeadline,
  manualClaimSla,
  workingDayAfter,
  workingDaysBetween,
  workingDayYears,
} from '../../../shared/policy/workingDays.js';
import { DEHONG, day, KAIFENG, paramsFor } from './given.js';

const dehong = paramsFor(DEHONG, '2024-01-01');

function sla(receivedOn: string, paidOn: string, serviceYear: number, params = dehong) {
  const result = manualClaimSla({ params, receivedOn: day(receivedOn), paidOn: day(paidOn), serviceYear });
  if (!result.ok) throw new Error(result.error.code);
  return result.value;
}

describe('Chinese working days (chinese-days: holidays and 调休)', () => {
  it.each([
    { what: 'same day', from: '2024-03-04', to: '2024-03-04', days: 0 },
    { what: 'Monday to Friday', from: '2024-03-04', to: '2024-03-08', days: 4 },
    { what: 'over a plain weekend', from: '2024-03-08', to: '2024-03-11', days: 1 },
    { what: 'National Day 2024 (1–7 Oct off)', from: '2024-09-30', to: '2024-10-08', days: 1 },
    { what: '调休 Saturday 12 Oct 2024 is a working day', from: '2024-10-11', to: '2024-10-12', days: 1 },
    { what: 'an ordinary Saturday is not', from: '2024-10-18', to: '2024-10-19', days: 0 },
    {
      what: 'Spring Festival 2024 (10–17 Feb off, Sun 4 and 18 Feb worked)',
      from: '2024-02-09',
      to: '2024-02-18',
      days: 1,
    },
    {
      what: 'Spring Festival 2025 (Sun 26 Jan and Sat 8 Feb worked)',
      from: '2025-01-24',
      to: '2025-02-08',
      days: 6,
    },
  ])('$what: $from → $to is $days', ({ from, to, days }) => {
    expect(workingDaysBetween(day(from), day(to))).toBe(days);
  });

  it('counts the same in any host time zone (chinese-days alone shifts a day west of UTC)', () => {
    const original = process.env.TZ;
    try {
      for (const zone of ['America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Shanghai']) {
        process.env.TZ = zone;
        expect(workingDaysBetween(day('2024-10-11'), day('2024-10-19'))).toBe(6);
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
  });

  // chinese-days builds its lookup tables at import in the host's time zone, and west of UTC they are a
  // day off: its own answers are read in a child process in China's zone, so this runs in any zone.
  it("agrees with chinese-days' own isWorkday on every day 2004–2026", () => {
    const listWorkdays = `
      import chineseDays from 'chinese-days';
      const days = [];
      for (let t = Date.UTC(2004, 0, 1); t <= Date.UTC(2026, 11, 31); t += 86_400_000) {
        const d = new Date(t).toISOString().slice(0, 10);
        if (chineseDays.isWorkday(d)) days.push(d);
      }
      process.stdout.write(JSON.stringify(days));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', listWorkdays], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      env: { ...process.env, TZ: 'Asia/Shanghai' },
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    const theirs = new Set(JSON.parse(child.stdout) as string[]);
    const differ: string[] = [];
    for (let d = day('2004-01-01'); d <= '2026-12-31'; d = addDays(d, 1)) {
      if (isWorkingDay(d) !== theirs.has(d)) differ.push(d);
    }
    expect(theirs.size).toBeGreaterThan(5000);
    expect(differ).toEqual([]);
  });

  it('knows 调休 days from holidays', () => {
    expect(isWorkingDay(day('2024-02-04'))).toBe(true);
    expect(isWorkingDay(day('2024-02-12'))).toBe(false);
  });

  it('chinese-days 1.5.7 has official arrangements for 2004–2026', () => {
    expect(workingDayYears()).toEqual({ firstYear: 2004, lastYear: 2026 });
  });

  it('fails loudly, naming the year, outside the years chinese-days covers', () => {
    expect(() => workingDaysBetween(day('2026-12-28'), day('2027-01-04'))).toThrow(ConfigError);
    expect(() => workingDaysBetween(day('2026-12-28'), day('2027-01-04'))).toThrow(
      /no official holiday data for 2027/,
    );
    expect(() => workingDaysBetween(day('2003-12-28'), day('2004-01-05'))).toThrow(/2003/);
  });
});

describe('Dehong art. 16: manual claims within 20 working days, by 31 March of the next year', () => {
  it('Dehong art. 16: across the Spring Festival, day 20 is within the service level and day 21 is not', () => {
    const onTime = sla('2024-02-01', '2024-03-05', 2023);
    expect(onTime).toMatchObject({ workingDays: 20, withinSla: true, withinDeadline: true });
    expect(sla('2024-02-01', '2024-03-06', 2023)).toMatchObject({ workingDays: 21, withinSla: false });
  });

  it('Dehong art. 16: across National Day the holidays do not count', () => {
    // 25 Sep to 28 Oct 2024 spans 33 calendar days but only 20 working days (Sun 29 Sep and Sat 12 Oct worked).
    expect(sla('2024-09-25', '2024-10-28', 2024)).toMatchObject({ workingDays: 20, withinSla: true });
    expect(sla('2024-09-25', '2024-10-29', 2024)).toMatchObject({ workingDays: 21, withinSla: false });
  });

  it('Dehong art. 16: the 31 March deadline is inclusive', () => {
    expect(sla('2024-03-25', '2024-03-31', 2023)).toMatchObject({
      deadline: '2024-03-31',
      withinDeadline: true,
    });
    expect(sla('2024-03-25', '2024-04-01', 2023)).toMatchObject({ withinDeadline: false });
  });

  it('Dehong art. 16: the trail cites the article and the 20-day value', () => {
    expect(sla('2024-03-01', '2024-03-04', 2024).trail[0]).toMatchObject({
      rule: 'manual-claim-sla',
      article: 'Dehong art. 16',
      params: { manualClaim: { workingDays: 20 } },
    });
  });

  it('Kaifeng art. 13: manual claims have no time limit in the text, so the same limits are illustrative', () => {
    const kaifeng = paramsFor(KAIFENG, '2024-01-01');
    expect(sla('2024-03-01', '2024-03-04', 2024, kaifeng).trail[0]?.article).toBe('Kaifeng illustrative');
  });

  it('paid before received is refused, not counted', () => {
    const result = manualClaimSla({
      params: dehong,
      receivedOn: day('2024-03-05'),
      paidOn: day('2024-03-04'),
      serviceYear: 2024,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'PAID_BEFORE_RECEIVED', field: 'paidOn' });
  });

  it('the same refusal as payout ingest gives, citing the region: paid the day before receipt', () => {
    expect(checkPaidAfterReceived(dehong, day('2024-03-05'), day('2024-03-04'))).toEqual({
      ok: false,
      error: {
        kind: 'invalid-input',
        code: 'PAID_BEFORE_RECEIVED',
        field: 'paidOn',
        rule: 'Dehong art. 16: the working days run from receipt to payment, so payment comes on or after receivedOn 2024-03-05',
        value: '2024-03-04',
      },
    });
    expect(checkPaidAfterReceived(dehong, day('2024-03-05'), day('2024-03-05'))).toEqual({
      ok: true,
      value: undefined,
    });
  });

  it('the deadline: Dehong 31 March of the year after the service year', () => {
    expect(manualClaimDeadline(dehong, 2024)).toBe('2025-03-31');
    expect(sla('2025-03-20', '2025-03-31', 2024).deadline).toBe('2025-03-31');
  });
});

describe('the n-th working day after a day (a manual claim is due by the 20th)', () => {
  it.each([
    { what: 'none: the day itself', from: '2024-03-04', n: 0, on: '2024-03-04' },
    { what: 'Friday + 1 is Monday', from: '2024-03-08', n: 1, on: '2024-03-11' },
    // 2024-09-30 Mon; 1–7 Oct off; Tue 8 Oct is the first working day after, Sat 12 Oct (调休) the fifth.
    { what: 'over National Day 2024 to the 调休 Saturday', from: '2024-09-30', n: 5, on: '2024-10-12' },
    // 2024-03-01 Fri: March 4–8, 11–15, 18–22, 25–29 are the 20 working days.
    { what: '20 working days from 1 March 2024', from: '2024-03-01', n: 20, on: '2024-03-29' },
  ])('$what: $from + $n → $on', ({ from, n, on }) => {
    expect(workingDayAfter(day(from), n)).toBe(on);
    expect(knownWorkingDayAfter(day(from), n)).toBe(on);
  });

  it('is undefined, not guessed, where the holiday data ends', () => {
    const { lastYear } = workingDayYears();
    expect(workingDayAfter(day(`${lastYear}-12-31`), 1)).toBeUndefined();
  });

  it('for a caller that checked its years, the year the data lacks is a ConfigError naming it', () => {
    const { lastYear } = workingDayYears();
    expect(() => knownWorkingDayAfter(day(`${lastYear}-12-31`), 1)).toThrow(ConfigError);
    expect(() => knownWorkingDayAfter(day(`${lastYear}-12-31`), 1)).toThrow(
      `no official holiday data for ${lastYear + 1} `,
    );
  });
});
