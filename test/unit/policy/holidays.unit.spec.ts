import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { loadHolidayFiles, parseHolidayFile } from '../../../shared/policy/holidayFiles.js';
import {
  hasHolidayArrangement,
  isWorkingDay,
  manualClaimSla,
  type WorkingDayCalendar,
  workingDayCalendar,
  workingDaysBetween,
} from '../../../shared/policy/workingDays.js';
import { DEHONG, day, paramsFor } from './given.js';

const fixture = (name: string) => fileURLToPath(new URL(`./holidays/${name}/`, import.meta.url));
const VALID = fixture('valid');
const OVERRULED = fixture('overruled');
const NONE = fixture('none-here');

const dehong = paramsFor(DEHONG, '2024-01-01');

/** A holiday file's text: a valid 2099 with one part replaced. */
function file2099(change: Record<string, unknown> = {}, holidays?: unknown): string {
  return JSON.stringify({
    year: 2099,
    notice: { number: 'TEST-2099', date: '2098-11-01' },
    holidays: holidays ?? [{ name: '元旦', from: '2099-01-01', to: '2099-01-03', workdays: ['2099-01-04'] }],
    ...change,
  });
}

/** The manual-claim check of Dehong art. 16, with the given calendar or the default one. */
const slaCheck = (receivedOn: string, paidOn: string, serviceYear: number, calendar?: WorkingDayCalendar) =>
  manualClaimSla({
    params: dehong,
    receivedOn: day(receivedOn),
    paidOn: day(paidOn),
    serviceYear,
    ...(calendar === undefined ? {} : { calendar }),
  });

const newYear = (change: Record<string, unknown>) => [
  { name: '元旦', from: '2099-01-01', to: '2099-01-03', workdays: [], ...change },
];

describe('a holiday file (the State Council notice of a year chinese-days lacks)', () => {
  it('a valid file: its days off, its make-up working days and its notice', () => {
    const parsed = loadHolidayFiles(VALID).get(2099);
    expect(parsed?.notice).toEqual({
      number: 'TEST-2099 (a made-up notice for the tests)',
      date: '2098-11-01',
    });
    expect(parsed?.file).toBe('test/unit/policy/holidays/valid/2099.json');
    expect([...(parsed?.workdays.keys() ?? [])]).toEqual([
      '2099-01-04',
      '2099-02-21',
      '2099-09-27',
      '2099-10-10',
    ]);
    expect(parsed?.daysOff.size).toBe(3 + 7 + 7);
    expect(parsed?.daysOff.get(day('2099-02-17'))).toBe('春节');
  });

  it.each([
    {
      what: 'not JSON',
      name: '2099.json',
      text: '{"year": 2099,',
      error: /^holiday file 2099\.json: not JSON: /,
    },
    {
      what: 'a file name that is not the year',
      name: 'holidays-2099.json',
      text: file2099(),
      error: 'holiday file holidays-2099.json: the file name must be the year, e.g. 2027.json',
    },
    {
      what: 'a year that is not the file name',
      name: '2098.json',
      text: file2099(),
      error: 'holiday file 2098.json: year: 2099 does not match the file name 2098.json',
    },
    {
      what: 'a missing field',
      text: JSON.stringify({ year: 2099, holidays: [] }),
      error: 'holiday file 2099.json: notice is missing',
    },
    {
      what: 'an unknown field',
      text: file2099({ source: 'gov.cn' }),
      error: 'holiday file 2099.json: unknown field source (expected year, notice, holidays)',
    },
    {
      what: 'an empty notice number',
      text: file2099({ notice: { number: ' ', date: '2098-11-01' } }),
      error: 'holiday file 2099.json: notice.number: expected a non-empty string',
    },
    {
      what: 'a notice dated after its year',
      text: file2099({ notice: { number: 'N', date: '2100-01-02' } }),
      error: 'holiday file 2099.json: notice.date: 2100-01-02: a notice for 2099 is dated in 2098 or 2099',
    },
    {
      what: 'no holidays',
      text: file2099({ holidays: [] }),
      error: 'holiday file 2099.json: holidays: expected a non-empty list of { name, from, to, workdays }',
    },
    {
      what: 'a day that does not exist',
      text: file2099({}, newYear({ to: '2099-02-30' })),
      error: 'holiday file 2099.json: holidays[0].to: "2099-02-30" is not a calendar date "YYYY-MM-DD"',
    },
    {
      what: 'a day outside the year',
      text: file2099({}, newYear({ to: '2100-01-01' })),
      error: 'holiday file 2099.json: holidays[0].to: 2100-01-01 is not in 2099 (or December 2098)',
    },
    {
      what: 'a range that ends before it starts',
      text: file2099({}, newYear({ from: '2099-01-03', to: '2099-01-01' })),
      error: 'holiday file 2099.json: holidays[0].to: 2099-01-01 is before from 2099-01-03',
    },
    {
      what: 'a range of a month (a mistyped month)',
      text: file2099({}, newYear({ to: '2099-02-01' })),
      error: 'holiday file 2099.json: holidays[0]: 2099-01-01 to 2099-02-01 is longer than 15 days',
    },
    {
      what: 'two holidays on one day',
      text: file2099({}, [
        ...newYear({}),
        { name: '春节', from: '2099-01-03', to: '2099-01-05', workdays: [] },
      ]),
      error: 'holiday file 2099.json: holidays[1]: 2099-01-03 is already a day off of 元旦',
    },
    {
      what: 'a make-up working day on a weekday',
      text: file2099({}, newYear({ workdays: ['2099-01-05'] })),
      error:
        'holiday file 2099.json: holidays[0].workdays[0]: 2099-01-05 is a Monday; a make-up working day is a Saturday or Sunday',
    },
    {
      what: 'a make-up working day that is also a day off',
      text: file2099({}, newYear({ workdays: ['2099-01-03'] })),
      error: 'holiday file 2099.json: holidays: 2099-01-03 is both a working day (元旦) and a day off (元旦)',
    },
    {
      what: 'a working day listed twice',
      text: file2099({}, newYear({ workdays: ['2099-01-04', '2099-01-04'] })),
      error: 'holiday file 2099.json: holidays[0].workdays[1]: 2099-01-04 is listed twice',
    },
    {
      what: 'workdays not a list',
      text: file2099({}, newYear({ workdays: '2099-01-04' })),
      error: 'holiday file 2099.json: holidays[0].workdays: expected a list of dates (may be [])',
    },
    {
      what: 'no New Year’s Day',
      text: file2099({}, [{ name: '春节', from: '2099-02-14', to: '2099-02-20', workdays: [] }]),
      error: 'holiday file 2099.json: holidays: 1 January 2099 (元旦) is not a day off',
    },
  ])('refused in one line naming the field: $what', ({ name, text, error }) => {
    const parse = () => parseHolidayFile(name ?? '2099.json', text);
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(error);
    try {
      parse();
    } catch (thrown) {
      expect((thrown as Error).message).not.toContain('\n');
    }
  });
});

describe('the working-day calendar: chinese-days, then the holiday files', () => {
  const calendar = workingDayCalendar(VALID);
  const sla = (receivedOn: string, paidOn: string, serviceYear: number, cal = calendar) =>
    slaCheck(receivedOn, paidOn, serviceYear, cal);

  it('counts a year from its file: the holidays off, the make-up Sunday worked', () => {
    // Fri 2 Jan (off) → Fri 9 Jan: Sat 3 off, Sun 4 worked, Mon 5 – Fri 9 worked.
    expect(sla('2099-01-02', '2099-01-09', 2099)).toMatchObject({ ok: true, value: { workingDays: 6 } });
    // Fri 13 Feb → Mon 23 Feb: 14–20 off, Sat 21 worked, Sun 22 off, Mon 23 worked.
    expect(sla('2099-02-13', '2099-02-23', 2099)).toMatchObject({ ok: true, value: { workingDays: 2 } });
    expect(calendar.isWorkingDay(day('2099-09-27'))).toBe(true);
    expect(calendar.isWorkingDay(day('2099-09-26'))).toBe(false);
  });

  it('the trail names the file and its notice that counted the days', () => {
    const result = sla('2099-01-02', '2099-01-09', 2099);
    expect(result.ok && result.value.trail[0]?.detail).toBe(
      'received 2099-01-02, paid 2099-01-09: 6 working days against 20 (holidays of 2099: test/unit/policy/holidays/valid/2099.json (TEST-2099 (a made-up notice for the tests) of 2098-11-01))',
    );
  });

  it('a year in neither source is refused with HOLIDAYS_UNKNOWN naming the year and the file to add', () => {
    const result = sla('2098-12-28', '2099-01-05', 2098);
    expect(result).toEqual({
      ok: false,
      error: {
        kind: 'invalid-input',
        code: 'HOLIDAYS_UNKNOWN',
        field: 'receivedOn',
        rule: "no official holiday data for 2098 (chinese-days and the holiday files cover 2004–2026): add shared/policy/holidays/2098.json from the State Council's notice for 2098 (format: shared/policy/holidays/README.md)",
        value: '2098',
      },
    });
    expect(calendar.isWorkingDay(day('2098-06-01'))).toBeUndefined();
  });

  it('refuses on paidOn when only the payment falls in the unknown year', () => {
    const none = workingDayCalendar(NONE);
    const result = sla('2026-12-21', '2027-01-06', 2026, none);
    expect(result.ok === false && result.error).toMatchObject({
      code: 'HOLIDAYS_UNKNOWN',
      field: 'paidOn',
      value: '2027',
    });
  });

  it('a file year after a gap does not extend the contiguous years', () => {
    expect(calendar.years()).toEqual({ firstYear: 2004, lastYear: 2026 });
    expect(calendar.sourceOf(2099)?.source).toMatch(/^test\/unit\/policy\/holidays\/valid\/2099\.json/);
  });

  it('where chinese-days has the year it decides, and the trail names the days the file gave otherwise', () => {
    const both = workingDayCalendar(OVERRULED);
    // The mistyped file gives Thu 8 Oct 2026 off; chinese-days (the notice) has it as a working day.
    expect(both.isWorkingDay(day('2026-10-08'))).toBe(true);
    expect(both.sourceOf(2026)).toEqual({
      year: 2026,
      source: 'chinese-days 1.5.7',
      overruled: {
        file: 'test/unit/policy/holidays/overruled/2026.json (TEST-2026 (a mistyped copy for the tests) of 2025-11-04)',
        days: ['2026-10-08'],
      },
    });
    const result = sla('2026-10-07', '2026-10-09', 2026, both);
    expect(result.ok && result.value.workingDays).toBe(2);
    expect(result.ok && result.value.trail[0]?.detail).toContain(
      'holidays of 2026: chinese-days 1.5.7; test/unit/policy/holidays/overruled/2026.json (TEST-2026 (a mistyped copy for the tests) of 2025-11-04) differs on 2026-10-08 and is not used there',
    );
  });

  it('two files that give one day otherwise are refused in one line', () => {
    // 2099's New Year makes Sat 27 Dec 2098 a working day; 2098's own file has it off.
    expect(() => workingDayCalendar(fixture('conflict'))).toThrow(
      'holiday file test/unit/policy/holidays/conflict/2099.json: 2098-12-27 is a working day here but not in the file of 2098',
    );
  });

  it('no folder means chinese-days alone', () => {
    expect(loadHolidayFiles(NONE).size).toBe(0);
    expect(workingDayCalendar(NONE).years()).toEqual({ firstYear: 2004, lastYear: 2026 });
  });
});

describe('the default calendar (chinese-days and shared/policy/holidays/, which ships no invented year)', () => {
  // 2090: far enough that no real notice will be added here while these tests stand.
  it('counting in a year it cannot count throws one line naming the year and the file to add', () => {
    expect(() => workingDaysBetween(day('2089-12-28'), day('2090-01-04'))).toThrow(
      /^no official holiday data for 2089 \(chinese-days and the holiday files cover 2004–\d{4}\): add shared\/policy\/holidays\/2089\.json/,
    );
    expect(() => isWorkingDay(day('2090-01-04'))).toThrow(ConfigError);
    expect(hasHolidayArrangement(2026)).toBe(true);
    expect(hasHolidayArrangement(2090)).toBe(false);
  });

  it('the SLA check of a claim in such a year is refused with HOLIDAYS_UNKNOWN, not thrown', () => {
    const result = slaCheck('2090-01-05', '2090-01-20', 2089);
    expect(result.ok === false && result.error).toMatchObject({
      code: 'HOLIDAYS_UNKNOWN',
      field: 'receivedOn',
      value: '2090',
    });
  });

  it('the trail says chinese-days counted the days', () => {
    const result = slaCheck('2024-03-01', '2024-03-04', 2024);
    expect(result.ok && result.value.trail[0]?.detail).toBe(
      'received 2024-03-01, paid 2024-03-04: 1 working days against 20 (holidays of 2024: chinese-days 1.5.7)',
    );
  });
});
