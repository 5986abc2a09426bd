import { describe, expect, it } from 'vitest';
import { CorruptStateError } from '../../shared/errors.js';
import { StateReader } from '../../shared/state-reader.js';

// What the services' codecs read back: their own writing, so anything else is corruption, named.

describe('reading back stored state', () => {
  const r = new StateReader('hospital-month 533100:H53310200003:2025-03');

  it('reads what the codecs write', () => {
    expect(r.json('[1,"a"]', 'h')).toEqual([1, 'a']);
    expect(r.money('-1234.50', 'due').toFixed(2)).toBe('-1234.50');
    expect(r.date('2024-02-29', 'paidOn')).toBe('2024-02-29');
    expect(r.optionalDate(null, 'receivedOn')).toBeNull();
    expect(r.int(3, 'revision')).toBe(3);
    expect(r.text('H53310200003', 'hospital')).toBe('H53310200003');
  });

  it.each([
    ['a missing field', () => r.json(undefined, 'h'), 'field h is missing'],
    ['a field that is not JSON', () => r.json('{nope', 'h'), 'field h is not JSON'],
    ['a JSON null', () => r.json('null', 'h'), 'field h is not a JSON object or list'],
    ['money with one decimal (formatMoney writes two)', () => r.money('12.5', 'due'), 'due is not money'],
    ['money as a number', () => r.money(12.5, 'due'), 'due is not money'],
    ['a date that is no day', () => r.date('2025-02-29', 'paidOn'), 'paidOn is not a date'],
    ['a fraction for an integer', () => r.int(1.5, 'revision'), 'revision is not an integer'],
    ['a number for text', () => r.text(7, 'hospital'), 'hospital is not text'],
  ])('%s throws CorruptStateError naming the entity', (_what, read, message) => {
    expect(read).toThrow(CorruptStateError);
    expect(read).toThrow(`state hospital-month 533100:H53310200003:2025-03: ${message}`);
  });
});
