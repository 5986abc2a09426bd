import { CorruptStateError } from '../../shared/errors.js';
import { formatMoney, type Money, parseMoneyText, ZERO } from '../../shared/money.js';
import type { PeriodKind } from '../../shared/records.js';
import type { EntityKind } from '../../shared/runner/service.js';

/**
 * What the disclosure aggregation keeps in Redis: a region's running totals per period in one ledger
 * partition, the periods it has totals for, and what is needed to apply each posting once (decide.ts).
 */

/** The running totals of one region and period in one ledger partition. */
export interface PeriodAggregate {
  /** Net PREMIUM_INCOME (collections minus corrections down). */
  readonly premiumIncome: Money;
  /** Net DIRECT_CLAIMS_EXPENSE: the supplement due by policy on direct settlements, net of reversals and re-decisions. */
  readonly claimsPaidDirect: Money;
  /** Amount paid to members on manual reimbursements (the posting's claimedAmount). */
  readonly claimsPaidManual: Money;
  /** Net OPERATING_COST_EXPENSE (costs minus credit notes). */
  readonly operatingCost: Money;
  /** Paid visits: settlements with due > 0, less their reversals, plus manual reimbursements. */
  readonly visits: number;
  readonly manualClaimsDecided: number;
  /** Manual claims paid within 20 working days and by the 31 March deadline (Dehong art. 16). */
  readonly manualClaimsWithinSla: number;
  /** Members whose net benefit in the period is above zero. */
  readonly beneficiaries: number;
  /** YEAR only: members covered for the insurance year, as their latest premium posting says. */
  readonly insured: number;
  /** Postings folded in (diagnostics only, never published). */
  readonly postings: number;
}

export const EMPTY_AGGREGATE: PeriodAggregate = {
  premiumIncome: ZERO,
  claimsPaidDirect: ZERO,
  claimsPaidManual: ZERO,
  operatingCost: ZERO,
  visits: 0,
  manualClaimsDecided: 0,
  manualClaimsWithinSla: 0,
  beneficiaries: 0,
  insured: 0,
  postings: 0,
};

const MONEY_FIELDS = ['premiumIncome', 'claimsPaidDirect', 'claimsPaidManual', 'operatingCost'] as const;
const COUNT_FIELDS = [
  'visits',
  'manualClaimsDecided',
  'manualClaimsWithinSla',
  'beneficiaries',
  'insured',
  'postings',
] as const;

/** Reads an aggregate hash; a field that is not money or a count is a bug or tampering, not input. */
export function readAggregate(hash: Readonly<Record<string, string>>, key = 'aggregate'): PeriodAggregate {
  const out: Record<string, Money | number> = {};
  for (const field of MONEY_FIELDS) {
    const text = hash[field];
    const value = text === undefined ? ZERO : parseMoneyText(text);
    if (value === undefined) throw new CorruptStateError(`${key}.${field}: '${text}' is not money`);
    out[field] = value;
  }
  for (const field of COUNT_FIELDS) {
    const text = hash[field];
    if (text !== undefined && !/^-?\d+$/.test(text))
      throw new CorruptStateError(`${key}.${field}: '${text}' is not a count`);
    out[field] = text === undefined ? 0 : Number(text);
  }
  return out as unknown as PeriodAggregate;
}

/** Money with a canonical zero ("0.00", never "-0.00"), so equal totals are equal text. */
const moneyText = (amount: Money): string => formatMoney(amount.isZero() ? ZERO : amount);

export function aggregateFields(aggregate: PeriodAggregate): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const field of MONEY_FIELDS) fields[field] = moneyText(aggregate[field]);
  for (const field of COUNT_FIELDS) fields[field] = String(aggregate[field]);
  return fields;
}

export function addAggregates(a: PeriodAggregate, b: Partial<PeriodAggregate>): PeriodAggregate {
  return {
    premiumIncome: a.premiumIncome.plus(b.premiumIncome ?? ZERO),
    claimsPaidDirect: a.claimsPaidDirect.plus(b.claimsPaidDirect ?? ZERO),
    claimsPaidManual: a.claimsPaidManual.plus(b.claimsPaidManual ?? ZERO),
    operatingCost: a.operatingCost.plus(b.operatingCost ?? ZERO),
    visits: a.visits + (b.visits ?? 0),
    manualClaimsDecided: a.manualClaimsDecided + (b.manualClaimsDecided ?? 0),
    manualClaimsWithinSla: a.manualClaimsWithinSla + (b.manualClaimsWithinSla ?? 0),
    beneficiaries: a.beneficiaries + (b.beneficiaries ?? 0),
    insured: a.insured + (b.insured ?? 0),
    postings: a.postings + (b.postings ?? 0),
  };
}

// ─── Entities ──────────────────────────────────────────────────────────────────────────────────────

export const PERIOD_AGGREGATE: EntityKind<PeriodAggregate> = {
  name: 'aggregate',
  empty: () => EMPTY_AGGREGATE,
  encode: aggregateFields,
  decode: (fields, id) => readAggregate(fields, `aggregate ${id}`),
};

/** The periods of a region this partition has totals for: label → kind. */
export const PERIOD_INDEX: EntityKind<ReadonlyMap<string, PeriodKind>> = {
  name: 'periods',
  empty: () => new Map(),
  encode: (index) => Object.fromEntries(index),
  decode: (fields) => new Map(Object.entries(fields) as Array<[string, PeriodKind]>),
};

/** One member's part in one region and insurance year: what makes them insured and a beneficiary. */
export interface MemberPart {
  /** The last posting sequence applied for the member-year. */
  readonly sequence: number;
  /** As the member's latest premium posting says; null before any. */
  readonly covered: boolean | null;
  /** Net benefit per period label (direct due + manual paid). */
  readonly benefits: ReadonlyMap<string, Money>;
}

export const MEMBER_PART: EntityKind<MemberPart> = {
  name: 'member',
  empty: () => ({ sequence: 0, covered: null, benefits: new Map() }),
  encode(part) {
    const fields: Record<string, string> = {
      s: String(part.sequence),
      c: part.covered === null ? '' : part.covered ? '1' : '0',
    };
    for (const [label, amount] of part.benefits) fields[`b:${label}`] = moneyText(amount);
    return fields;
  },
  decode(fields, id) {
    const benefits = new Map<string, Money>();
    for (const [field, text] of Object.entries(fields)) {
      if (!field.startsWith('b:')) continue;
      const amount = parseMoneyText(text);
      if (amount === undefined) throw new CorruptStateError(`member ${id}.${field}: '${text}' is not money`);
      benefits.set(field.slice(2), amount);
    }
    return {
      sequence: Number(fields.s ?? 0),
      covered: fields.c === '' || fields.c === undefined ? null : fields.c === '1',
      benefits,
    };
  },
};

/** The last posting sequence applied for a key that is not a member (a region's operating costs). */
export const KEY_SEQUENCE: EntityKind<number> = {
  name: 'sequence',
  empty: () => 0,
  encode: (sequence) => ({ s: String(sequence) }),
  decode: (fields) => Number(fields.s ?? 0),
};

export const aggregateId = (region: string, period: string) => `${region}:${period}`;
