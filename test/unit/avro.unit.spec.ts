import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  avroLogicalTypes,
  bigintToTwosComplement,
  DecimalType,
  epochDayToLocalDate,
  isLocalDate,
  localDateToEpochDay,
  twosComplementToBigint,
} from '../../shared/avro.js';
import { Decimal, type Money } from '../../shared/money.js';

type AvroSchema = Parameters<typeof avsc.Type.forSchema>[0];
const build = (schema: object) =>
  avsc.Type.forSchema(schema as AvroSchema, { logicalTypes: avroLogicalTypes, assertLogicalTypes: true });

const money = build({ type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 });
const optionalMoney = build(['null', { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 }]);
const date = build({ type: 'int', logicalType: 'date' });
const instant = build({ type: 'long', logicalType: 'timestamp-millis' });
const rawBytes = build({ type: 'bytes' });

const roundTrip = (text: string): Money => money.fromBuffer(money.toBuffer(new Decimal(text))) as Money;
/** The bytes payload inside the Avro encoding (after the length varint). */
const payloadHex = (text: string) =>
  (rawBytes.fromBuffer(money.toBuffer(new Decimal(text))) as Buffer).toString('hex');

describe('decimal(18,2) ⇄ Money', () => {
  it.each([
    '1234.50',
    '-0.01',
    '0.00',
    '0.01',
    '9999999999999999.99',
    '-9999999999999999.99',
    '1.28',
    '-1.28',
    '150',
  ])('round-trips %s exactly', (text) => {
    const read = roundTrip(text);
    expect(Decimal.isDecimal(read)).toBe(true);
    expect(read.eq(new Decimal(text))).toBe(true);
    expect(read.toFixed(2)).toBe(new Decimal(text).toFixed(2));
  });

  it.each([
    // Avro spec: big-endian two's complement of the unscaled integer, shortest form (as Java BigInteger).
    ['0.00', '00'],
    ['0.01', '01'],
    ['-0.01', 'ff'],
    ['1.27', '7f'],
    ['1.28', '0080'],
    ['-1.28', '80'],
    ['-1.29', 'ff7f'],
    ['1234.50', '01e23a'],
    ['-1234.50', 'fe1dc6'],
    ['9999999999999999.99', '0de0b6b3a763ffff'],
  ])('encodes %s as the unscaled two’s-complement bytes %s', (text, hex) => {
    expect(payloadHex(text)).toBe(hex);
  });

  it('refuses more decimals than the scale instead of rounding', () => {
    expect(() => money.toBuffer(new Decimal('0.001'))).toThrow(
      'cannot write money: 0.001 has 3 decimals; decimal(18,2) allows at most 2 (round explicitly first)',
    );
    expect(() => money.toBuffer(new Decimal('1234.505'))).toThrow(/1234\.505.*decimal\(18,2\)/);
  });

  it('refuses 17 integer digits (more than the precision allows)', () => {
    expect(() => money.toBuffer(new Decimal('10000000000000000'))).toThrow(
      'cannot write money: 10000000000000000 needs 19 digits; decimal(18,2) allows at most 18',
    );
    expect(() => money.toBuffer(new Decimal('-10000000000000000.00'))).toThrow(/decimal\(18,2\)/);
  });

  it('refuses what is not a finite Money', () => {
    expect(() => money.toBuffer(new Decimal(Number.NaN))).toThrow(/not a finite amount/);
    expect(() => money.toBuffer(new Decimal(Number.POSITIVE_INFINITY))).toThrow(/not a finite amount/);
    expect(() => money.toBuffer(1234.5)).toThrow(/expects a Money/);
    expect(() => money.toBuffer('1234.50')).toThrow(/expects a Money/);
    expect(money.isValid(new Decimal('0.001'))).toBe(false);
    expect(money.isValid(new Decimal('0.1'))).toBe(true);
  });

  it('writes null and money in an optional field, and refuses bad money there too', () => {
    expect(optionalMoney.fromBuffer(optionalMoney.toBuffer(null))).toBeNull();
    expect((optionalMoney.fromBuffer(optionalMoney.toBuffer(new Decimal('-0.01'))) as Money).toFixed(2)).toBe(
      '-0.01',
    );
    expect(() => optionalMoney.toBuffer(new Decimal('0.001'))).toThrow(/0\.001/);
  });

  it('honours other precisions and scales (ratios as decimal(9,4))', () => {
    const ratio = build({ type: 'bytes', logicalType: 'decimal', precision: 9, scale: 4 });
    expect((ratio.fromBuffer(ratio.toBuffer(new Decimal('0.0900'))) as Money).toFixed(4)).toBe('0.0900');
    expect(() => ratio.toBuffer(new Decimal('0.09001'))).toThrow(/decimal\(9,4\)/);
    expect(() => ratio.toBuffer(new Decimal('100000'))).toThrow(/decimal\(9,4\) allows at most 9/);
    const whole = build({ type: 'bytes', logicalType: 'decimal', precision: 5 });
    expect(whole instanceof DecimalType && whole.scale).toBe(0);
    expect(() => whole.toBuffer(new Decimal('1.5'))).toThrow(/decimal\(5,0\)/);
  });

  it('rejects a malformed decimal schema rather than falling back to raw bytes', () => {
    expect(() => build({ type: 'bytes', logicalType: 'decimal', scale: 2 })).toThrow(/precision is required/);
    expect(() => build({ type: 'bytes', logicalType: 'decimal', precision: 2, scale: 3 })).toThrow(
      /exceeds precision/,
    );
    expect(() =>
      build({ type: 'fixed', name: 'F', size: 8, logicalType: 'decimal', precision: 18, scale: 2 }),
    ).toThrow(/only the bytes representation/);
  });

  it('exports precision and scale with the schema', () => {
    expect(money.schema({ exportAttrs: true })).toEqual({
      type: 'bytes',
      logicalType: 'decimal',
      precision: 18,
      scale: 2,
    });
  });

  it('reads plain bytes written without the logical type, and refuses a decimal of another scale', () => {
    const plain = rawBytes.toBuffer(Buffer.from('fe1dc6', 'hex'));
    expect((money.fromBuffer(plain, money.createResolver(rawBytes)) as Money).toFixed(2)).toBe('-1234.50');
    const otherScale = build({ type: 'bytes', logicalType: 'decimal', precision: 18, scale: 3 });
    expect(() => money.createResolver(otherScale)).toThrow();
    const same = build({ type: 'bytes', logicalType: 'decimal', precision: 18, scale: 2 });
    const viaResolver = money.fromBuffer(
      same.toBuffer(new Decimal('7.70')),
      money.createResolver(same),
    ) as Money;
    expect(viaResolver.toFixed(2)).toBe('7.70');
  });

  it('property: any money with at most 2 decimals within precision round-trips exactly', () => {
    // Scale s in 0..2 decimals; |unscaled| < 10^(16+s) keeps 16 integer digits, within decimal(18,2).
    const amounts = fc.integer({ min: 0, max: 2 }).chain((s) => {
      const bound = 10n ** BigInt(16 + s) - 1n;
      return fc.bigInt({ min: -bound, max: bound }).map((n) => new Decimal(`${n}e-${s}`));
    });
    fc.assert(
      fc.property(amounts, (amount) => {
        const read = money.fromBuffer(money.toBuffer(amount)) as Money;
        return read.eq(amount) && read.toFixed(2) === amount.toFixed(2);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: two’s complement encoding is the inverse of decoding', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }), (n) => {
        const bytes = bigintToTwosComplement(n);
        // Shortest form: dropping the first byte would change the value.
        const shortest = bytes.length === 1 || twosComplementToBigint(bytes.subarray(1)) !== n;
        return twosComplementToBigint(bytes) === n && shortest;
      }),
    );
  });

  // Java's BigInteger.toByteArray for the same numbers, around the 6-byte fast path's edges.
  it.each([
    [0n, '00'],
    [127n, '7f'],
    [128n, '0080'],
    [-1n, 'ff'],
    [-128n, '80'],
    [-129n, 'ff7f'],
    [2n ** 47n - 1n, '7fffffffffff'],
    [-(2n ** 47n), '800000000000'],
    [2n ** 47n, '00800000000000'],
    [-(2n ** 47n) - 1n, 'ff7fffffffffff'],
  ])('two’s complement of %s is %s, as Java writes it', (n, hex) => {
    expect(bigintToTwosComplement(n).toString('hex')).toBe(hex);
    expect(twosComplementToBigint(Buffer.from(hex, 'hex'))).toBe(n);
  });

  it('property: the integer fast path (within ±2^47) writes the bytes the BigInt path writes', () => {
    // Reference: shortest byte count by sign-extension bound, then BigInt.asUintN as hex.
    const reference = (n: bigint): string => {
      let bytes = 1;
      while (n < -(1n << BigInt(8 * bytes - 1)) || n >= 1n << BigInt(8 * bytes - 1)) bytes += 1;
      return BigInt.asUintN(8 * bytes, n)
        .toString(16)
        .padStart(2 * bytes, '0');
    };
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 48n), max: 2n ** 48n }), (n) => {
        const bytes = bigintToTwosComplement(n);
        return bytes.toString('hex') === reference(n) && twosComplementToBigint(bytes) === n;
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses empty decimal bytes on read', () => {
    expect(() => money.fromBuffer(rawBytes.toBuffer(Buffer.alloc(0)))).toThrow(/empty bytes/);
  });
});

describe('date ⇄ LocalDate', () => {
  it.each([
    ['1970-01-01', 0],
    ['2024-02-29', 19782],
    ['2024-12-31', 20088],
    ['1949-10-01', -7397],
    ['0001-01-01', -719162],
    ['9999-12-31', 2932896],
  ])('%s is day %i and round-trips', (text, days) => {
    expect(localDateToEpochDay(text)).toBe(days);
    expect(epochDayToLocalDate(days)).toBe(text);
    expect(date.fromBuffer(date.toBuffer(text))).toBe(text);
  });

  it.each(['2023-02-29', '2024-13-01', '2024-04-31', '2024-1-5', '20240105', '2024-01-05T00:00:00Z', ''])(
    'refuses %j',
    (text) => {
      expect(isLocalDate(text)).toBe(false);
      expect(() => date.toBuffer(text)).toThrow(/is not a calendar date YYYY-MM-DD/);
    },
  );

  it('refuses a Date object (a date has no time zone; write "YYYY-MM-DD")', () => {
    expect(() => date.toBuffer(new Date('2024-01-05'))).toThrow(/calendar date/);
  });

  it('property: every day from 1900 to 2199 round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: -25567, max: 84005 }), (days) => {
        const text = epochDayToLocalDate(days);
        return localDateToEpochDay(text) === days && date.fromBuffer(date.toBuffer(text)) === text;
      }),
    );
  });
});

describe('timestamp-millis ⇄ Date', () => {
  it.each([
    '2024-03-11T07:42:13.250Z',
    '1970-01-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '2099-12-31T15:59:59.001Z',
  ])('round-trips %s to the millisecond', (iso) => {
    const read = instant.fromBuffer(instant.toBuffer(new Date(iso))) as Date;
    expect(read).toBeInstanceOf(Date);
    expect(read.toISOString()).toBe(iso);
  });

  it('refuses an invalid Date and a number', () => {
    expect(() => instant.toBuffer(new Date('not a date'))).toThrow(/not a valid Date/);
    expect(() => instant.toBuffer(1_710_143_000_000)).toThrow(/not a valid Date/);
  });
});

describe('schema registry client', () => {
  it('accepts the logical types as its AVRO options (construction does no I/O)', () => {
    const registry = new SchemaRegistry(
      { host: 'http://127.0.0.1:9' },
      { [SchemaType.AVRO]: { logicalTypes: avroLogicalTypes } },
    );
    expect(registry).toBeInstanceOf(SchemaRegistry);
  });
});
