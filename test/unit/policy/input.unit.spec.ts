import { describe, expect, it } from 'vitest';
import { JsonNumber, type JsonValue, parseJsonExact } from '../../../shared/policy/exactJson.js';
import {
  describeRefusal,
  readEligibilityRequest,
  readMoney,
  readSupplementRequest,
} from '../../../shared/policy/input.js';

function json(text: string): JsonValue {
  const parsed = parseJsonExact(text);
  if (!parsed.ok) throw new Error(parsed.error.rule);
  return parsed.value;
}

const supplement = {
  region: '533100',
  serviceDate: '2024-05-10',
  eligible: true,
  ytd: { basicFundPaid: '150000.00', supplementPaid: 0 },
  claim: {
    inScopeAmount: 1234.5,
    basicFundPaid: '0',
    overCapAmount: '1000.00',
    outOfArea: false,
    referred: false,
    medicalType: 'inpatient',
  },
};

describe('exact JSON', () => {
  it('keeps numbers as written, so no float ever reaches money', () => {
    expect(json('{"a": 1234.50, "b": [0.1, -2e3], "c": "x"}')).toEqual({
      a: new JsonNumber('1234.50'),
      b: [new JsonNumber('0.1'), new JsonNumber('-2e3')],
      c: 'x',
    });
  });

  it.each(['', '{', '{"a":1,}', '[1 2]', '{"a":1}{', '{"a":01}', '{"a":1,"a":2}', "{'a':1}", 'nul'])(
    'refuses %j as invalid JSON',
    (text) => {
      const parsed = parseJsonExact(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error.code).toBe('INVALID_JSON');
    },
  );

  it('reads strings with escapes and literals', () => {
    expect(json('["\\u5f00\\"", true, false, null]')).toEqual(['开"', true, false, null]);
  });
});

describe('reading amounts', () => {
  it.each([
    ['"1234.5"', '1234.5'],
    ['1234.5', '1234.5'],
    ['1234.50', '1234.5'],
    ['"0"', '0'],
    ['-20.00', '-20'],
  ])('%s is %s', (text, value) => {
    const read = readMoney(json(text), 'x');
    expect(read.ok && read.value.toString()).toBe(value);
  });

  it.each(['12.345', '"12.345"', '1e3', '"abc"', 'true', 'null', '12345678901234567.00'])(
    '%s is refused',
    (text) => {
      const read = readMoney(json(text), 'x');
      expect(read.ok).toBe(false);
    },
  );
});

describe('reading requests', () => {
  it('reads a supplement request with string and number amounts', () => {
    const read = readSupplementRequest(json(JSON.stringify(supplement)), '');
    expect(read.ok).toBe(true);
    if (read.ok) expect(read.value.claim.inScopeAmount.toFixed(2)).toBe('1234.50');
  });

  it('names the field, the rule and the value', () => {
    const text = JSON.stringify(supplement).replace('"1000.00"', '"12.345"');
    const read = readSupplementRequest(json(text), '');
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(describeRefusal(read.error)).toBe(
        'claim.overCapAmount: expected an amount with at most 2 decimals, got "12.345"',
      );
    }
  });

  it.each([
    [{ ...supplement, eligible: 'yes' }, 'eligible: expected true or false, got "yes"'],
    [
      { ...supplement, serviceDate: '2024-02-30' },
      'serviceDate: expected a calendar date "YYYY-MM-DD", got "2024-02-30"',
    ],
    [{ ...supplement, ytd: undefined }, 'ytd: is required'],
    [
      { ...supplement, claim: { ...supplement.claim, medicalType: 'dental' } },
      'claim.medicalType: expected one of',
    ],
    [
      { ...supplement, claim: { ...supplement.claim, basicFundPaid: '-1.00' } },
      'claim.basicFundPaid: expected an amount of zero or more',
    ],
    [{ ...supplement, region: 533100 }, 'region: expected a 6-digit region code'],
  ])('refuses %j', (request, message) => {
    const read = readSupplementRequest(json(JSON.stringify(request)), '');
    expect(read.ok).toBe(false);
    if (!read.ok) expect(describeRefusal(read.error)).toContain(message);
  });

  it('names the index of a bad payment', () => {
    const read = readEligibilityRequest(
      json(
        '{"region":"410200","year":2025,"enrolledOn":null,"payments":[{"amount":"1","paidOn":"2024-07-01"},{"amount":"x","paidOn":"2024-07-01"}]}',
      ),
      '',
    );
    expect(!read.ok && describeRefusal(read.error)).toBe(
      'payments[1].amount: expected an amount with at most 2 decimals, got "x"',
    );
  });
});
