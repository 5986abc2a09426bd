import { Decimal, formatMoney, type Money, parseMoneyText } from '../money.js';
import type { MedicalType as RecordMedicalType } from '../records.js';
import { type LocalDate, type MonthDay, parseMonthDay } from './dates.js';

/**
 * The parameters a region's policy sets, each versioned by effective date in shared/policy/regions/*.json.
 * Every value the engine uses comes from here, never from a literal in code.
 */

export const MEDICAL_TYPES = ['inpatient', 'special-outpatient', 'general-outpatient', 'pharmacy'] as const;
export type MedicalType = (typeof MEDICAL_TYPES)[number];

/** The records' 医疗类别 (Avro MedicalType symbols) in the policy's words (Dehong art. 10). */
export const POLICY_MEDICAL_TYPE: { readonly [M in RecordMedicalType]: MedicalType } = {
  INPATIENT: 'inpatient',
  SPECIAL_OUTPATIENT: 'special-outpatient',
};

export const MEMBER_KINDS = ['employee', 'retiree', 'flexible-worker', 'unemployed'] as const;
export type MemberKind = (typeof MEMBER_KINDS)[number];

/** Who pays the premium and through which channel (Kaifeng art. 7, Dehong art. 6). */
export const PAYER_KINDS = [
  'unit-withholding',
  'civil-servant-subsidy-transfer',
  'enterprise-supplementary-transfer',
  'unit',
  'individual',
  'unit-and-individual',
  'personal-account-deduction',
  'public-budget',
  'flexible-worker',
  'unemployed',
  'retiree-without-unit',
] as const;
export type PayerKind = (typeof PAYER_KINDS)[number];

/** The collection window for cover year Y runs from opensMonthDay of Y+opensYearOffset to closesMonthDay of Y+closesYearOffset, both inclusive. */
export interface PremiumWindow {
  readonly opensMonthDay: MonthDay;
  readonly opensYearOffset: number;
  readonly closesMonthDay: MonthDay;
  readonly closesYearOffset: number;
}

export type NotPaidInFull = 'not-covered';

export type AnnualCapRule =
  | { readonly kind: 'none' }
  | { readonly kind: 'combined-wage-multiple'; readonly multiple: Decimal };

/** Manual claims: done within workingDays, and by deadlineMonthDay of the service year + deadlineYearOffset, inclusive. */
export interface ManualClaimRule {
  readonly workingDays: number;
  readonly deadlineMonthDay: MonthDay;
  readonly deadlineYearOffset: number;
}

export type InsuranceYear = 'calendar';
/** What the supplement pays for: compliant costs above the basic fund's annual cap. */
export type SupplementPays = 'over-basic-fund-cap';
export type SettlementCycle = 'monthly';

/** One value per parameter, as in force on one day. */
export interface ParamValues {
  readonly memberKindsCovered: readonly MemberKind[];
  readonly premiumWindow: PremiumWindow;
  readonly notPaidInFull: NotPaidInFull;
  readonly newEnroleeException: boolean;
  readonly premiumDue: Money;
  readonly premiumRefundable: boolean;
  readonly payerKinds: readonly PayerKind[];
  readonly supplementPays: SupplementPays;
  readonly basicFundCap: Money;
  readonly supplementRatio: Decimal;
  readonly referralPenalty: Decimal;
  readonly annualCap: AnnualCapRule;
  readonly cityAverageWage: Money | null;
  readonly medicalTypesCovered: readonly MedicalType[];
  readonly insuranceYear: InsuranceYear;
  readonly insurerSettlementCycle: SettlementCycle;
  readonly manualClaim: ManualClaimRule;
  readonly operatingCostCeiling: Decimal | null;
  readonly profitCeiling: Decimal | null;
  readonly publicDisclosure: boolean;
  readonly hospitalCodePattern: string;
}

export type ParamName = keyof ParamValues;

/** Where a value comes from: an article of the region's document ("art. 10", "art. 8–9") or "illustrative". */
export type ParamSource = string;

export interface ParamVersion<T> {
  readonly effectiveFrom: LocalDate;
  readonly value: T;
  readonly source: ParamSource;
  readonly note: string;
}

export interface RegionDocument {
  readonly title: string;
  readonly number: string;
  readonly issuedOn: LocalDate;
  readonly effectiveFrom: LocalDate;
  readonly file: string;
}

export interface RegionRef {
  readonly code: string;
  readonly name: { readonly zh: string; readonly en: string };
  readonly document: RegionDocument;
}

export type ParamVersions = { readonly [K in ParamName]: readonly ParamVersion<ParamValues[K]>[] };

export interface RegionPolicy extends RegionRef {
  readonly parameters: ParamVersions;
}

/** Which version of a parameter is in force, for the rule trail. */
export interface ParamProvenance {
  readonly effectiveFrom: LocalDate;
  readonly source: ParamSource;
  readonly note: string;
}

/** Everything in force in one region on one day: frozen, Money as Decimal. */
export interface PolicyParams extends ParamValues {
  readonly region: RegionRef;
  readonly date: LocalDate;
  /** What is left for the supplement once the basic fund has paid its cap; null when the region sets no cap. */
  readonly supplementCap: Money | null;
  readonly hospitalCode: RegExp;
  readonly provenance: { readonly [K in ParamName]: ParamProvenance };
}

/** A value as it appears in the rule trail and on the CLI: text for amounts and ratios, never a float. */
export type ShownValue =
  | string
  | number
  | boolean
  | null
  | readonly ShownValue[]
  | { readonly [key: string]: ShownValue };

/** Ratios keep at least two decimals so 0.9 reads "0.90", as the documents write 90 %. */
export function formatRatio(ratio: Decimal): string {
  return ratio.toFixed(Math.max(2, ratio.decimalPlaces()));
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

interface ParamSpec<T> {
  readonly parse: (raw: unknown) => Parsed<T>;
  readonly show: (value: T) => ShownValue;
}

const good = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(problem: string): Parsed<T> => ({ ok: false, problem });
const shownRaw = (raw: unknown): string => JSON.stringify(raw) ?? String(raw);

/** Config numbers may be written as JSON numbers or strings; either way the decimal text is what counts. */
function decimalText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  return undefined;
}

function parseRatio(raw: unknown): Parsed<Decimal> {
  const text = decimalText(raw);
  if (text === undefined || !/^\d+(\.\d+)?$/.test(text))
    return bad(`value ${shownRaw(raw)} is not a ratio in [0,1]`);
  const ratio = new Decimal(text);
  return ratio.lte(1) ? good(ratio) : bad(`value ${text} is not a ratio in [0,1]`);
}

function parseMoney(raw: unknown): Parsed<Money> {
  const text = decimalText(raw);
  const amount = text === undefined ? undefined : parseMoneyText(text);
  if (amount === undefined) return bad(`value ${shownRaw(raw)} is not an amount with at most 2 decimals`);
  return amount.gte(0) ? good(amount) : bad(`value ${shownRaw(raw)} is negative`);
}

function parseBoolean(raw: unknown): Parsed<boolean> {
  return typeof raw === 'boolean' ? good(raw) : bad(`value ${shownRaw(raw)} is not true or false`);
}

function parseOneOf<T extends string>(allowed: readonly T[]): (raw: unknown) => Parsed<T> {
  return (raw) =>
    typeof raw === 'string' && (allowed as readonly string[]).includes(raw)
      ? good(raw as T)
      : bad(`value ${shownRaw(raw)} is not one of ${allowed.join(', ')}`);
}

function parseListOf<T extends string>(allowed: readonly T[]): (raw: unknown) => Parsed<readonly T[]> {
  const one = parseOneOf(allowed);
  return (raw) => {
    if (!Array.isArray(raw) || raw.length === 0) return bad(`value ${shownRaw(raw)} is not a non-empty list`);
    const items: T[] = [];
    for (const item of raw) {
      const parsed = one(item);
      if (!parsed.ok) return parsed;
      if (items.includes(parsed.value)) return bad(`value ${shownRaw(raw)} lists ${parsed.value} twice`);
      items.push(parsed.value);
    }
    return good(Object.freeze(items));
  };
}

function nullable<T>(parse: (raw: unknown) => Parsed<T>): (raw: unknown) => Parsed<T | null> {
  return (raw) => (raw === null ? good(null) : parse(raw));
}

function isRecord(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

function parseMonthDayField(record: Record<string, unknown>, key: string): Parsed<MonthDay> {
  const raw = record[key];
  const monthDay = typeof raw === 'string' ? parseMonthDay(raw) : undefined;
  return monthDay === undefined ? bad(`${key} ${shownRaw(raw)} is not a month-day "MM-DD"`) : good(monthDay);
}

function parseIntField(
  record: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): Parsed<number> {
  const raw = record[key];
  return typeof raw === 'number' && Number.isInteger(raw) && raw >= min && raw <= max
    ? good(raw)
    : bad(`${key} ${shownRaw(raw)} is not a whole number in [${min},${max}]`);
}

function parsePremiumWindow(raw: unknown): Parsed<PremiumWindow> {
  if (!isRecord(raw)) return bad(`value ${shownRaw(raw)} is not an object`);
  const opensMonthDay = parseMonthDayField(raw, 'opensMonthDay');
  if (!opensMonthDay.ok) return opensMonthDay;
  const opensYearOffset = parseIntField(raw, 'opensYearOffset', -1, 0);
  if (!opensYearOffset.ok) return opensYearOffset;
  const closesMonthDay = parseMonthDayField(raw, 'closesMonthDay');
  if (!closesMonthDay.ok) return closesMonthDay;
  const closesYearOffset = parseIntField(raw, 'closesYearOffset', -1, 0);
  if (!closesYearOffset.ok) return closesYearOffset;
  const opens = `${opensYearOffset.value + 10}-${opensMonthDay.value}`;
  const closes = `${closesYearOffset.value + 10}-${closesMonthDay.value}`;
  if (opens > closes) return bad('the window closes before it opens');
  return good(
    Object.freeze({
      opensMonthDay: opensMonthDay.value,
      opensYearOffset: opensYearOffset.value,
      closesMonthDay: closesMonthDay.value,
      closesYearOffset: closesYearOffset.value,
    }),
  );
}

function parseAnnualCap(raw: unknown): Parsed<AnnualCapRule> {
  if (!isRecord(raw)) return bad(`value ${shownRaw(raw)} is not an object`);
  switch (raw.kind) {
    case 'none':
      return good(Object.freeze({ kind: 'none' as const }));
    case 'combined-wage-multiple': {
      const text = decimalText(raw.multiple);
      if (text === undefined || !/^\d+(\.\d+)?$/.test(text) || new Decimal(text).lte(0)) {
        return bad(`multiple ${shownRaw(raw.multiple)} is not a positive number`);
      }
      return good(Object.freeze({ kind: 'combined-wage-multiple' as const, multiple: new Decimal(text) }));
    }
    default:
      return bad(`kind ${shownRaw(raw.kind)} is not one of none, combined-wage-multiple`);
  }
}

function parseManualClaim(raw: unknown): Parsed<ManualClaimRule> {
  if (!isRecord(raw)) return bad(`value ${shownRaw(raw)} is not an object`);
  const workingDays = parseIntField(raw, 'workingDays', 1, 366);
  if (!workingDays.ok) return workingDays;
  const deadlineMonthDay = parseMonthDayField(raw, 'deadlineMonthDay');
  if (!deadlineMonthDay.ok) return deadlineMonthDay;
  const deadlineYearOffset = parseIntField(raw, 'deadlineYearOffset', 0, 2);
  if (!deadlineYearOffset.ok) return deadlineYearOffset;
  return good(
    Object.freeze({
      workingDays: workingDays.value,
      deadlineMonthDay: deadlineMonthDay.value,
      deadlineYearOffset: deadlineYearOffset.value,
    }),
  );
}

function parsePattern(raw: unknown): Parsed<string> {
  if (typeof raw !== 'string' || !raw.startsWith('^') || !raw.endsWith('$')) {
    return bad(`value ${shownRaw(raw)} is not an anchored pattern "^...$"`);
  }
  try {
    new RegExp(raw);
    return good(raw);
  } catch {
    return bad(`value ${shownRaw(raw)} is not a valid regular expression`);
  }
}

const showRatio = (value: Decimal | null): ShownValue => (value === null ? null : formatRatio(value));
const showMoney = (value: Money | null): ShownValue => (value === null ? null : formatMoney(value));
const showPlain = <T extends ShownValue>(value: T): ShownValue => value;

/** How each parameter is read from its JSON file and shown in trails and on the CLI. */
export const PARAM_SPECS: { readonly [K in ParamName]: ParamSpec<ParamValues[K]> } = {
  memberKindsCovered: { parse: parseListOf(MEMBER_KINDS), show: showPlain },
  premiumWindow: { parse: parsePremiumWindow, show: (w) => ({ ...w }) },
  notPaidInFull: { parse: parseOneOf(['not-covered'] as const), show: showPlain },
  newEnroleeException: { parse: parseBoolean, show: showPlain },
  premiumDue: { parse: parseMoney, show: showMoney },
  premiumRefundable: { parse: parseBoolean, show: showPlain },
  payerKinds: { parse: parseListOf(PAYER_KINDS), show: showPlain },
  supplementPays: { parse: parseOneOf(['over-basic-fund-cap'] as const), show: showPlain },
  basicFundCap: { parse: parseMoney, show: showMoney },
  supplementRatio: { parse: parseRatio, show: showRatio },
  referralPenalty: { parse: parseRatio, show: showRatio },
  annualCap: {
    parse: parseAnnualCap,
    show: (cap): ShownValue =>
      cap.kind === 'none' ? { kind: 'none' } : { kind: cap.kind, multiple: cap.multiple.toString() },
  },
  cityAverageWage: { parse: nullable(parseMoney), show: showMoney },
  medicalTypesCovered: { parse: parseListOf(MEDICAL_TYPES), show: showPlain },
  insuranceYear: { parse: parseOneOf(['calendar'] as const), show: showPlain },
  insurerSettlementCycle: { parse: parseOneOf(['monthly'] as const), show: showPlain },
  manualClaim: { parse: parseManualClaim, show: (rule) => ({ ...rule }) },
  operatingCostCeiling: { parse: nullable(parseRatio), show: showRatio },
  profitCeiling: { parse: nullable(parseRatio), show: showRatio },
  publicDisclosure: { parse: parseBoolean, show: showPlain },
  hospitalCodePattern: { parse: parsePattern, show: showPlain },
};

export const PARAM_NAMES = Object.keys(PARAM_SPECS) as readonly ParamName[];

/** The value of one parameter as text for trails and the CLI. */
export function showParam<K extends ParamName>(params: PolicyParams, name: K): ShownValue {
  return PARAM_SPECS[name].show(params[name]);
}
