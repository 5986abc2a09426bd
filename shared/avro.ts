/**
 * Avro for the hub: the logical types every service uses (money is an Avro decimal mapped to
 * decimal.js, never a float) and the schemas in schemas/*.avsc, parsed once and cached.
 *
 *   decimal (bytes)           ⇄ Money (decimal.js), never a JS number
 *   date (int)                ⇄ LocalDate, "YYYY-MM-DD"
 *   timestamp-millis (long)   ⇄ Date
 *
 * Pass `avroLogicalTypes` to avsc and to the registry client:
 *   new SchemaRegistry({ host }, { [SchemaType.AVRO]: { logicalTypes: avroLogicalTypes } })
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avsc from 'avsc';
import { Decimal, type Money } from './money.js';
import type { LocalDate, RecordBySchemaName, SchemaName } from './records.js';

type AvroSchemaInput = Parameters<typeof avsc.Type.forSchema>[0];
type LogicalTypeConstructor = new (schema: AvroSchemaInput, opts?: object) => avsc.types.LogicalType;

/** The JSON of one schemas/*.avsc file: a named record. */
export interface AvroRecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: AvroFieldSchema[];
}

export interface AvroFieldSchema {
  name: string;
  type: unknown;
  doc?: string;
  default?: unknown;
}

const MS_PER_DAY = 86_400_000;

/** avsc's validation hook, called with a value a type refuses. */
type BranchHook = (value: unknown, type: avsc.Type) => void;

/** A schema whose logical type the hub cannot read (e.g. a decimal on `fixed`): the schema is wrong, retrying cannot help. */
export class LogicalTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogicalTypeError';
  }
}

/**
 * avsc builds a logical value from what the underlying type read before it checks that the buffer held
 * enough bytes; past the end that is `undefined`. The placeholder lets avsc finish and report
 * "truncated buffer" instead of a JavaScript TypeError from the conversion.
 */
const ranOut = (raw: unknown): boolean => raw === undefined;

// ---------------------------------------------------------------------------------------------
// decimal

/** Reads a schema attribute as a non-negative integer, or undefined when absent. */
function integerAttribute(schema: AvroSchemaInput, attribute: string): number | undefined {
  const value = (schema as unknown as Record<string, unknown>)[attribute];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new LogicalTypeError(
      `decimal logical type: ${attribute} must be a non-negative integer, got ${String(value)}`,
    );
  }
  return value;
}

// Amounts within ±2^47 fen (about 1.4 trillion yuan) take the fast path through a JS integer: exact,
// since every such integer is a safe integer, and no BigInt or hex text is built.
const FAST_LIMIT = 2 ** 47;
const FAST_LIMIT_BIG = BigInt(FAST_LIMIT);

/** Two's-complement big-endian bytes of the shortest length (as Java's BigInteger.toByteArray). */
export function bigintToTwosComplement(n: bigint): Buffer {
  if (n >= -FAST_LIMIT_BIG && n < FAST_LIMIT_BIG) return integerToTwosComplement(Number(n));
  let bytes = 1;
  while (n < -(1n << BigInt(8 * bytes - 1)) || n >= 1n << BigInt(8 * bytes - 1)) bytes += 1;
  const hex = BigInt.asUintN(8 * bytes, n)
    .toString(16)
    .padStart(2 * bytes, '0');
  return Buffer.from(hex, 'hex');
}

/** The same for a safe integer within ±2^47 (at most 6 bytes). */
function integerToTwosComplement(n: number): Buffer {
  let bytes = 1;
  while (n < -(2 ** (8 * bytes - 1)) || n >= 2 ** (8 * bytes - 1)) bytes += 1;
  const buffer = Buffer.allocUnsafe(bytes);
  buffer.writeIntBE(n, 0, bytes);
  return buffer;
}

export function twosComplementToBigint(bytes: Buffer): bigint {
  if (bytes.length === 0) throw new Error('decimal logical type: empty bytes are not a number');
  if (bytes.length <= 6) return BigInt(bytes.readIntBE(0, bytes.length));
  return BigInt.asIntN(8 * bytes.length, BigInt(`0x${bytes.toString('hex')}`));
}

/** "-123.45" from the unscaled integer -12345 and scale 2: exact text, no floating point. */
function scaledText(unscaled: number, scale: number): string {
  const digits = String(Math.abs(unscaled)).padStart(scale + 1, '0');
  const sign = unscaled < 0 ? '-' : '';
  return scale === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * Avro `decimal` on `bytes` ⇄ Money. Avro spec: the bytes are the big-endian two's-complement of the
 * unscaled integer (value × 10^scale). Writing refuses, with an Error naming the value and the
 * schema's precision and scale, any amount that would need rounding or does not fit: money is never
 * rounded silently (the hub rounds half-up to the fen only where a rule says so). Reading is exact.
 */
export class DecimalType extends avsc.types.LogicalType {
  readonly precision: number;
  readonly scale: number;

  constructor(schema: AvroSchemaInput, opts?: object) {
    super(schema, opts);
    const precision = integerAttribute(schema, 'precision');
    // Avro spec: scale defaults to 0; precision is required and scale may not exceed it.
    const scale = integerAttribute(schema, 'scale') ?? 0;
    if (precision === undefined || precision < 1)
      throw new LogicalTypeError('decimal logical type: precision is required');
    if (scale > precision)
      throw new LogicalTypeError(`decimal logical type: scale ${scale} exceeds precision ${precision}`);
    if (!avsc.Type.isType(this.underlyingType, 'bytes')) {
      throw new LogicalTypeError('decimal logical type: only the bytes representation is supported');
    }
    this.precision = precision;
    this.scale = scale;
  }

  /** Why `value` cannot be written, or undefined when it can. */
  problem(value: unknown): string | undefined {
    const checked = this.check(value);
    return typeof checked === 'string' ? checked : undefined;
  }

  // avsc checks a value against every logical branch of a union before it writes it: the last value
  // checked is remembered, so the write that follows does not convert it again.
  private lastValue: unknown;
  private lastChecked: bigint | string = '';

  /** The unscaled integer of `value`, or why it cannot be written. */
  private check(value: unknown): bigint | string {
    if (value === this.lastValue) return this.lastChecked;
    const checked = this.convert(value);
    this.lastValue = value;
    this.lastChecked = checked;
    return checked;
  }

  private convert(value: unknown): bigint | string {
    const label = this.label;
    if (!Decimal.isDecimal(value)) return `${label} expects a Money (decimal.js) value, got ${typeof value}`;
    if (!value.isFinite()) return `${value.toString()} is not a finite amount for ${label}`;
    if (value.decimalPlaces() > this.scale) {
      return `${value.toString()} has ${value.decimalPlaces()} decimals; ${label} allows at most ${this.scale} (round explicitly first)`;
    }
    // toFixed never uses exponent notation, and with decimals ≤ scale it is exact.
    const text = value.toFixed(this.scale);
    const digits = text.length - (this.scale > 0 ? 1 : 0) - (text.startsWith('-') ? 1 : 0);
    if (digits > this.precision) {
      return `${value.toString()} needs ${digits} digits; ${label} allows at most ${this.precision}`;
    }
    return BigInt(this.scale > 0 ? text.replace('.', '') : text);
  }

  /** "decimal(18,2)", as the schema writes it. */
  get label(): string {
    return `decimal(${this.precision},${this.scale})`;
  }

  protected override _fromValue(bytes: Buffer): Money {
    if (ranOut(bytes)) return new Decimal(0);
    if (bytes.length > 0 && bytes.length <= 6)
      return new Decimal(scaledText(bytes.readIntBE(0, bytes.length), this.scale));
    return new Decimal(`${twosComplementToBigint(bytes).toString()}e-${this.scale}`);
  }

  protected override _toValue(value: unknown): Buffer {
    const checked = this.check(value);
    if (typeof checked === 'string') throw new Error(`cannot write money: ${checked}`);
    return bigintToTwosComplement(checked);
  }

  /** A value is valid without an Error thrown and caught (avsc's default), for unions' branch checks. */
  protected _check(value: unknown, _flags?: unknown, hook?: BranchHook): boolean {
    const valid = typeof this.check(value) !== 'string';
    if (!valid && hook) hook(value, this);
    return valid;
  }

  protected override _resolve(
    writer: avsc.Type,
  ): ((value: Money) => Money) | ((bytes: Buffer) => Money) | undefined {
    // Avro spec: two decimals match only when their precision and scale match.
    if (writer instanceof DecimalType) {
      return writer.precision === this.precision && writer.scale === this.scale ? (v: Money) => v : undefined;
    }
    if (avsc.Type.isType(writer, 'bytes')) return (bytes: Buffer) => this._fromValue(bytes);
    return undefined;
  }

  protected override _export(schema: AvroSchemaInput): void {
    const attrs = schema as unknown as Record<string, unknown>;
    attrs.precision = this.precision;
    attrs.scale = this.scale;
  }
}

// ---------------------------------------------------------------------------------------------
// date and timestamp-millis

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a real calendar date "YYYY-MM-DD", or undefined when it is not one. */
export function localDateToEpochDay(text: string): number | undefined {
  const match = LOCAL_DATE.exec(text);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  return date.getTime() / MS_PER_DAY;
}

export function epochDayToLocalDate(days: number): LocalDate {
  const date = new Date(days * MS_PER_DAY);
  const year = date.getUTCFullYear();
  if (!Number.isInteger(days) || year < 0 || year > 9999)
    throw new Error(`date ${days} days from epoch is out of range`);
  return date.toISOString().slice(0, 10);
}

/** True for a real calendar date written "YYYY-MM-DD". */
export function isLocalDate(text: unknown): text is LocalDate {
  return typeof text === 'string' && localDateToEpochDay(text) !== undefined;
}

// A year of records names a few hundred dates: each is converted once per process.
const epochDayByText = new Map<string, number>();
const textByEpochDay = new Map<number, LocalDate>();
const MEMO_LIMIT = 100_000;

function epochDayOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  let days = epochDayByText.get(value);
  if (days === undefined) {
    days = localDateToEpochDay(value);
    if (days === undefined) return undefined;
    if (epochDayByText.size >= MEMO_LIMIT) epochDayByText.clear();
    epochDayByText.set(value, days);
  }
  return days;
}

/** Avro `date` on `int` (days since the epoch) ⇄ LocalDate "YYYY-MM-DD". */
export class DateType extends avsc.types.LogicalType {
  protected override _fromValue(days: number): LocalDate {
    if (ranOut(days)) return '1970-01-01';
    let text = textByEpochDay.get(days);
    if (text === undefined) {
      text = epochDayToLocalDate(days);
      if (textByEpochDay.size >= MEMO_LIMIT) textByEpochDay.clear();
      textByEpochDay.set(days, text);
    }
    return text;
  }

  protected override _toValue(value: unknown): number {
    const days = epochDayOf(value);
    if (days === undefined)
      throw new Error(`cannot write date: ${String(value)} is not a calendar date YYYY-MM-DD`);
    return days;
  }

  /** Valid without an Error thrown and caught, for unions' branch checks. */
  protected _check(value: unknown, _flags?: unknown, hook?: BranchHook): boolean {
    const valid = epochDayOf(value) !== undefined;
    if (!valid && hook) hook(value, this);
    return valid;
  }

  protected override _resolve(
    writer: avsc.Type,
  ): ((value: LocalDate) => LocalDate) | ((days: number) => LocalDate) | undefined {
    if (writer instanceof DateType) return (v: LocalDate) => v;
    if (avsc.Type.isType(writer, 'int')) return (days: number) => this._fromValue(days);
    return undefined;
  }
}

/** Avro `timestamp-millis` on `long` (ms since the epoch, UTC) ⇄ Date. */
export class TimestampMillisType extends avsc.types.LogicalType {
  protected override _fromValue(millis: number): Date {
    if (ranOut(millis)) return new Date(0);
    return new Date(millis);
  }

  protected override _toValue(value: unknown): number {
    if (!(value instanceof Date) || !Number.isFinite(value.getTime())) {
      throw new Error(`cannot write timestamp-millis: ${String(value)} is not a valid Date`);
    }
    return value.getTime();
  }

  /** Valid without an Error thrown and caught, for unions' branch checks. */
  protected _check(value: unknown, _flags?: unknown, hook?: BranchHook): boolean {
    const valid = value instanceof Date && Number.isFinite(value.getTime());
    if (!valid && hook) hook(value, this);
    return valid;
  }

  protected override _resolve(
    writer: avsc.Type,
  ): ((value: Date) => Date) | ((millis: number) => Date) | undefined {
    if (writer instanceof TimestampMillisType) return (v: Date) => v;
    if (avsc.Type.isType(writer, 'long')) return (millis: number) => this._fromValue(millis);
    return undefined;
  }
}

/** The `logicalTypes` option for avsc and for the schema-registry client's AVRO options. */
export const avroLogicalTypes: Record<string, LogicalTypeConstructor> = {
  decimal: DecimalType,
  date: DateType,
  'timestamp-millis': TimestampMillisType,
};

// ---------------------------------------------------------------------------------------------
// schemas/*.avsc

/** schemas/ beside shared/ in the sources; one level further up when running from dist/shared/. */
function findSchemaDirectory(): string {
  const candidates = ['../schemas/', '../../schemas/'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(dir));
  if (found === undefined) throw new Error(`schemas directory not found; looked in ${candidates.join(', ')}`);
  return found;
}

let schemaDirectory: string | undefined;
export function schemaDirectoryPath(): string {
  schemaDirectory ??= findSchemaDirectory();
  return schemaDirectory;
}

const schemaCache = new Map<string, AvroRecordSchema>();
const typeCache = new Map<string, avsc.Type>();

/** The parsed JSON of schemas/<name>.avsc (cached; treat as read-only). */
export function loadSchema(name: SchemaName | string): AvroRecordSchema {
  const cached = schemaCache.get(name);
  if (cached !== undefined) return cached;
  const path = `${schemaDirectoryPath()}${name}.avsc`;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as AvroRecordSchema;
  if (parsed.type !== 'record' || typeof parsed.name !== 'string') {
    throw new Error(`${path} must hold one Avro record schema`);
  }
  schemaCache.set(name, parsed);
  return parsed;
}

/** Every schemas/*.avsc, keyed by file name without the extension. */
export function loadAllSchemas(): Map<string, AvroRecordSchema> {
  const names = readdirSync(schemaDirectoryPath())
    .filter((file) => file.endsWith('.avsc'))
    .map((file) => file.slice(0, -'.avsc'.length))
    .sort();
  return new Map(names.map((name) => [name, loadSchema(name)]));
}

/** The avsc Type of schemas/<name>.avsc with the hub's logical types, built once per process. */
export function avroType(name: SchemaName | string): avsc.Type {
  const cached = typeCache.get(name);
  if (cached !== undefined) return cached;
  const type = avsc.Type.forSchema(loadSchema(name) as unknown as AvroSchemaInput, {
    logicalTypes: avroLogicalTypes,
    // A logical type whose parameters are wrong must fail here, not fall back to raw bytes.
    assertLogicalTypes: true,
  });
  typeCache.set(name, type);
  return type;
}

/** Explains why a value failed validation, without echoing anything but money (never a national ID). */
function describeProblem(path: string[], value: unknown, type: avsc.Type): string {
  const where = path.length === 0 ? '(record)' : path.join('.');
  const branches = type instanceof avsc.types.UnwrappedUnionType ? type.types : [type];
  const decimal = branches.find((branch): branch is DecimalType => branch instanceof DecimalType);
  if (decimal !== undefined && Decimal.isDecimal(value))
    return `${where}: ${decimal.problem(value) ?? 'invalid'}`;
  const got = value === null ? 'null' : value === undefined ? 'missing' : typeof value;
  return `${where}: expected ${type.typeName}, got ${got}`;
}

/** Encodes a record (plain Avro binary, no registry header), naming every invalid field when it cannot. */
export function encodeRecord<N extends SchemaName>(name: N, value: RecordBySchemaName[N]): Buffer {
  const type = avroType(name);
  const problems: string[] = [];
  const valid = type.isValid(value, {
    errorHook: (path: string[], bad: unknown, badType: avsc.Type) =>
      problems.push(describeProblem(path, bad, badType)),
  });
  if (!valid) throw new Error(`cannot encode ${name}: ${problems.join('; ')}`);
  return type.toBuffer(value);
}

/** Decodes plain Avro binary written with schemas/<name>.avsc. */
export function decodeRecord<N extends SchemaName>(name: N, bytes: Buffer): RecordBySchemaName[N] {
  return avroType(name).fromBuffer(bytes) as RecordBySchemaName[N];
}
