import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chinaDateOf,
  chinaMidnight,
  chinaTimeOf,
  daysInMonth,
  firstDayOfMonth,
  firstDayOfYear,
  localDate,
} from '../../../shared/policy/dates.js';

// The one home of the calendar conversions every service uses; expected values worked by hand.

describe('an instant’s calendar day in China (UTC+8, no daylight saving)', () => {
  it.each([
    { what: '15:59:59.999 UTC is still the same day', at: '2024-06-30T15:59:59.999Z', day: '2024-06-30' },
    { what: '16:00 UTC is 00:00 the next day in China', at: '2024-06-30T16:00:00.000Z', day: '2024-07-01' },
    { what: 'the year turns 8 hours early', at: '2024-12-31T16:30:00.000Z', day: '2025-01-01' },
  ])('$what', ({ at, day }) => {
    expect(chinaDateOf(new Date(at))).toBe(day);
    expect(chinaDateOf(Date.parse(at))).toBe(day);
  });

  it('agrees with the platform’s Asia/Shanghai calendar for any instant, asked twice (the day is cached)', () => {
    const shanghai = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', dateStyle: 'short' });
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('1995-01-01'), max: Date.parse('2060-01-01') }), (ms) => {
        expect(chinaDateOf(ms)).toBe(shanghai.format(ms));
        expect(chinaDateOf(new Date(ms))).toBe(shanghai.format(ms));
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    { at: '2024-06-30T15:59:59.999Z', time: '23:59' },
    { at: '2024-06-30T16:00:00.000Z', time: '00:00' },
    { at: '2026-05-10T02:05:30.000Z', time: '10:05' },
  ])('$at is $time in China', ({ at, time }) => {
    expect(chinaTimeOf(new Date(at))).toBe(time);
    expect(chinaTimeOf(Date.parse(at))).toBe(time);
  });

  it('00:00 in China is 16:00 UTC the day before', () => {
    expect(chinaMidnight(localDate('2025-01-01')).toISOString()).toBe('2024-12-31T16:00:00.000Z');
  });
});

describe('months', () => {
  it.each([
    { year: 2024, month: 2, days: 29 },
    { year: 2025, month: 2, days: 28 },
    { year: 1900, month: 2, days: 28 },
    { year: 2000, month: 2, days: 29 },
    { year: 2025, month: 4, days: 30 },
    { year: 2025, month: 12, days: 31 },
  ])('$year-$month has $days days', ({ year, month, days }) => {
    expect(daysInMonth(year, month)).toBe(days);
  });

  it('the first day of "YYYY-MM", and a non-month is a programming error', () => {
    expect(firstDayOfMonth('2025-03')).toBe('2025-03-01');
    expect(() => firstDayOfMonth('2025-13')).toThrow(RangeError);
  });
});

describe('years', () => {
  it.each([
    { year: 2025, day: '2025-01-01' },
    { year: 1900, day: '1900-01-01' },
  ])('$year begins on $day', ({ year, day }) => {
    expect(firstDayOfYear(year)).toBe(day);
  });
});
