import {
  type InvalidInput,
  invalidInput,
  ok,
  type PolicyRequestRefusal,
  type Result,
  refuse,
} from '../errors.js';
import { type Money, parseMoneyText } from '../money.js';
import { type LocalDate, parseLocalDate } from './dates.js';
import type { PremiumPayment } from './eligibility.js';
import { isJsonObject, JsonNumber, type JsonObject, type JsonValue } from './exactJson.js';
import { MEDICAL_TYPES, type MedicalType } from './params.js';
import type { SettlementClaim, YearToDate } from './supplement.js';

/**
 * Reading policy requests field by field. Each reader returns the value or an InvalidInput naming the field
 * path ("claim.overCapAmount"), the rule and the offending value, so callers print or dead-letter it as is.
 */

export type Reader<T> = (value: JsonValue | undefined, field: string) => Result<T>;

const MAX_SHOWN = 40;

/** The offending value as a short, printable text: strings quoted, numbers as written. */
export function showJson(value: JsonValue | undefined): string {
  let text: string;
  if (value === undefined) text = 'nothing';
  else if (value instanceof JsonNumber) text = value.text;
  else if (Array.isArray(value)) text = 'a list';
  else if (isJsonObject(value)) text = 'an object';
  else text = JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

const wrong = <T>(
  code: PolicyRequestRefusal,
  field: string,
  rule: string,
  value: JsonValue | undefined,
): Result<T> =>
  value === undefined
    ? refuse(invalidInput('MISSING_FIELD', field, 'is required'))
    : refuse(invalidInput(code, field, rule, showJson(value)));

export const readObject: Reader<JsonObject> = (value, field) =>
  isJsonObject(value) ? ok(value) : wrong('NOT_AN_OBJECT', field, 'expected an object', value);

export const readBoolean: Reader<boolean> = (value, field) =>
  typeof value === 'boolean' ? ok(value) : wrong('NOT_A_BOOLEAN', field, 'expected true or false', value);

/** An amount as a JSON string or number, read from its text: at most 2 decimals, no exponent. */
export const readMoney: Reader<Money> = (value, field) => {
  const text = typeof value === 'string' ? value : value instanceof JsonNumber ? value.text : undefined;
  const amount = text === undefined ? undefined : parseMoneyText(text);
  return amount === undefined
    ? wrong('INVALID_AMOUNT', field, 'expected an amount with at most 2 decimals', value)
    : ok(amount);
};

export const readNonNegativeMoney: Reader<Money> = (value, field) => {
  const amount = readMoney(value, field);
  if (amount.ok && amount.value.isNegative()) {
    return wrong('AMOUNT_NEGATIVE', field, 'expected an amount of zero or more', value);
  }
  return amount;
};

export const readDate: Reader<LocalDate> = (value, field) => {
  const date = typeof value === 'string' ? parseLocalDate(value) : undefined;
  return date === undefined
    ? wrong('INVALID_DATE', field, 'expected a calendar date "YYYY-MM-DD"', value)
    : ok(date);
};

export const readYear: Reader<number> = (value, field) => {
  const text = value instanceof JsonNumber ? value.text : typeof value === 'string' ? value : undefined;
  return text !== undefined && /^(19|20|21)\d{2}$/.test(text)
    ? ok(Number(text))
    : wrong('INVALID_YEAR', field, 'expected a year such as 2024', value);
};

export const readRegionCode: Reader<string> = (value, field) =>
  typeof value === 'string' && /^\d{6}$/.test(value)
    ? ok(value)
    : wrong('INVALID_REGION', field, 'expected a 6-digit region code such as "533100"', value);

export function readOneOf<T extends string>(allowed: readonly T[]): Reader<T> {
  return (value, field) =>
    typeof value === 'string' && (allowed as readonly string[]).includes(value)
      ? ok(value as T)
      : wrong('NOT_ALLOWED', field, `expected one of ${allowed.join(', ')}`, value);
}

export function readNullable<T>(reader: Reader<T>): Reader<T | null> {
  return (value, field) => (value === null ? ok(null) : reader(value, field));
}

export function readList<T>(reader: Reader<T>): Reader<readonly T[]> {
  return (value, field) => {
    if (!Array.isArray(value)) return wrong('NOT_A_LIST', field, 'expected a list', value);
    const items: T[] = [];
    for (const [index, item] of (value as readonly JsonValue[]).entries()) {
      const read = reader(item, `${field}[${index}]`);
      if (!read.ok) return read;
      items.push(read.value);
    }
    return ok(items);
  };
}

/** Paths name nested fields the way a person writes them: "claim.overCapAmount". */
function child(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** Reads every field of a record with its reader, stopping at the first refusal. */
export function readRecord<T extends object>(readers: { [K in keyof T]: Reader<T[K]> }): Reader<T> {
  return (value, field) => {
    const object = readObject(value, field === '' ? '$' : field);
    if (!object.ok) return object;
    const out: Partial<{ -readonly [K in keyof T]: T[K] }> = {};
    for (const key of Object.keys(readers) as (keyof T & string)[]) {
      const read = readers[key](object.value[key], child(field, key));
      if (!read.ok) return read;
      out[key] = read.value;
    }
    return ok(out as T);
  };
}

export interface SupplementRequest {
  readonly region: string;
  readonly serviceDate: LocalDate;
  readonly eligible: boolean;
  readonly ytd: YearToDate;
  readonly claim: SettlementClaim;
}

export interface EligibilityRequest {
  readonly region: string;
  readonly year: number;
  readonly enrolledOn: LocalDate | null;
  readonly payments: readonly PremiumPayment[];
}

export interface SlaRequest {
  readonly region: string;
  readonly receivedOn: LocalDate;
  readonly paidOn: LocalDate;
  readonly serviceYear: number;
}

export interface ParamsRequest {
  readonly region: string;
  readonly date: LocalDate;
}

export const readSupplementRequest: Reader<SupplementRequest> = readRecord<SupplementRequest>({
  region: readRegionCode,
  serviceDate: readDate,
  eligible: readBoolean,
  ytd: readRecord<YearToDate>({ basicFundPaid: readNonNegativeMoney, supplementPaid: readNonNegativeMoney }),
  claim: readRecord<SettlementClaim>({
    inScopeAmount: readNonNegativeMoney,
    basicFundPaid: readNonNegativeMoney,
    overCapAmount: readNonNegativeMoney,
    outOfArea: readBoolean,
    referred: readBoolean,
    medicalType: readOneOf<MedicalType>(MEDICAL_TYPES),
  }),
});

export const readEligibilityRequest: Reader<EligibilityRequest> = readRecord<EligibilityRequest>({
  region: readRegionCode,
  year: readYear,
  enrolledOn: readNullable(readDate),
  // Payments may be negative: a tax correction (冲正) is a payment with the opposite sign.
  payments: readList(readRecord<PremiumPayment>({ amount: readMoney, paidOn: readDate })),
});

export const readSlaRequest: Reader<SlaRequest> = readRecord<SlaRequest>({
  region: readRegionCode,
  receivedOn: readDate,
  paidOn: readDate,
  serviceYear: readYear,
});

export const readParamsRequest: Reader<ParamsRequest> = readRecord<ParamsRequest>({
  region: readRegionCode,
  date: readDate,
});

/** One line for a person: "claim.overCapAmount: expected an amount with at most 2 decimals, got "12.345"". */
export function describeRefusal(error: InvalidInput): string {
  return error.value === undefined
    ? `${error.field}: ${error.rule}`
    : `${error.field}: ${error.rule}, got ${error.value}`;
}
