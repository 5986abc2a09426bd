import { HubError, invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { isMemberPseudonym } from '../../shared/identity.js';
import { formatMoney, type Money, parseMoneyText, ZERO } from '../../shared/money.js';
import { parseLocalDate } from '../../shared/policy/dates.js';
import type { LedgerAccount, LedgerPosting } from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import type { Decision, IngestService, StateView, StateWrite } from '../../shared/runner/service.js';
import { stateKeys } from '../../shared/state-keys.js';
import { TOPICS } from '../../shared/topics.js';
import { type Period, periodsContaining } from './periods.js';

/**
 * Disclosure aggregation (design.md §3 "Disclosure publisher"): folds every ledger posting into the
 * running totals of its region for the month, quarter and year that contain its recognition date
 * (the period of its recognition date: the posting date, or 1 January of the cover year for a premium
 * collected in advance). Pure; the runner applies the writes
 * once per postingId. Totals are read, added and written back, so the aggregation must run as ONE
 * consumer (see README: two instances would race on the same region hash).
 */

/** The running totals of one region and period, as kept in `disclosureAggregate(region, period)`. */
export interface PeriodAggregate {
  /** Net PREMIUM_INCOME (collections minus corrections down). */
  readonly premiumIncome: Money;
  /** Net DIRECT_CLAIMS_EXPENSE: the supplement due by policy on direct settlements, net of reversals. */
  readonly claimsPaidDirect: Money;
  /** Amount paid to members on manual reimbursements (the posting's claimedAmount). */
  readonly claimsPaidManual: Money;
  /** Net OPERATING_COST_EXPENSE (costs minus credit notes). */
  readonly operatingCost: Money;
  /** Paid visits: settlements with due > 0, minus their reversals, plus manual reimbursements. */
  readonly visits: number;
  readonly manualClaimsDecided: number;
  /** Manual claims paid within 20 working days and by the 31 March deadline (Dehong art. 16). */
  readonly manualClaimsWithinSla: number;
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
  postings: 0,
};

const MONEY_FIELDS = ['premiumIncome', 'claimsPaidDirect', 'claimsPaidManual', 'operatingCost'] as const;
const COUNT_FIELDS = ['visits', 'manualClaimsDecided', 'manualClaimsWithinSla', 'postings'] as const;

/** The hash that lists a region's periods with aggregates: field = period label, value = its kind. */
export const PERIOD_INDEX = 'periods';
export const periodIndexKey = (region: string) => stateKeys.disclosureAggregate(region, PERIOD_INDEX);

/** Member kinds kept in `disclosureMembers`. */
export const MEMBER_KINDS = {
  /** Per insurance year: field = pseudonym, "1" covered / "0" not, as the member's latest premium posting says. */
  insured: 'insured',
  /** Per period: field = pseudonym, the member's net benefit (direct due + manual paid) posted in the period. */
  beneficiaries: 'beneficiaries',
} as const;

/** Reads an aggregate hash; a field that is not money or a count is a bug or tampering, not input. */
export function readAggregate(hash: Readonly<Record<string, string>>, key = 'aggregate'): PeriodAggregate {
  const money = (field: string): Money => readAggregateMoney(hash[field], `${key}.${field}`);
  const count = (field: string): number => {
    const text = hash[field];
    if (text === undefined) return 0;
    if (!/^-?\d+$/.test(text)) throw new HubError(`${key}.${field}: '${text}' is not a count`);
    return Number(text);
  };
  const out: Record<string, Money | number> = {};
  for (const field of MONEY_FIELDS) out[field] = money(field);
  for (const field of COUNT_FIELDS) out[field] = count(field);
  return out as unknown as PeriodAggregate;
}

function readAggregateMoney(text: string | undefined, where: string): Money {
  if (text === undefined) return ZERO;
  const value = parseMoneyText(text);
  if (value === undefined) throw new HubError(`${where}: '${text}' is not money`);
  return value;
}

/** Money with a canonical zero ("0.00", never "-0.00"), so equal totals are equal text. */
const moneyText = (amount: Money): string => formatMoney(amount.isZero() ? ZERO : amount);

export function aggregateFields(aggregate: PeriodAggregate): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const field of MONEY_FIELDS) fields[field] = moneyText(aggregate[field]);
  for (const field of COUNT_FIELDS) fields[field] = String(aggregate[field]);
  return fields;
}

export function addAggregates(a: PeriodAggregate, b: PeriodAggregate): PeriodAggregate {
  return {
    premiumIncome: a.premiumIncome.plus(b.premiumIncome),
    claimsPaidDirect: a.claimsPaidDirect.plus(b.claimsPaidDirect),
    claimsPaidManual: a.claimsPaidManual.plus(b.claimsPaidManual),
    operatingCost: a.operatingCost.plus(b.operatingCost),
    visits: a.visits + b.visits,
    manualClaimsDecided: a.manualClaimsDecided + b.manualClaimsDecided,
    manualClaimsWithinSla: a.manualClaimsWithinSla + b.manualClaimsWithinSla,
    postings: a.postings + b.postings,
  };
}

/** What one posting adds: to the period totals, to a member's benefit, to a member's cover. */
export interface PostingContribution {
  readonly totals: PeriodAggregate;
  /** The member's benefit (signed) for beneficiary counting; null when the posting pays no member. */
  readonly benefit: Money | null;
  /** The member's cover for the posting's insurance year; null for non-premium postings. */
  readonly cover: { readonly year: number; readonly covered: boolean } | null;
}

/** Debits minus credits of one account in a posting. */
function netDebit(posting: LedgerPosting, account: LedgerAccount): Money {
  let net: Money = ZERO;
  for (const line of posting.lines) {
    if (line.account !== account) continue;
    net = line.direction === 'DEBIT' ? net.plus(line.amount) : net.minus(line.amount);
  }
  return net;
}

// premium-ingest's not-covered reasons (ledger-posting.avsc flags); no such flag = covered.
const NOT_COVERED_FLAGS = new Set(['LATE', 'PARTIAL', 'EARLY', 'NOT_PAID']);
// payout-ingest's Dehong art. 16 misses: a claim with either is not within the service level.
const SLA_MISSED_FLAGS = new Set(['SLA_BREACHED', 'PAST_DEADLINE']);

const totals = (partial: Partial<PeriodAggregate>): PeriodAggregate => ({
  ...EMPTY_AGGREGATE,
  ...partial,
  postings: 1,
});

export function contributionOf(posting: LedgerPosting): PostingContribution {
  const flags = posting.flags ?? [];
  const kind = posting.kind;
  switch (kind) {
    case 'PREMIUM_COLLECTED':
    case 'PREMIUM_CORRECTED':
      return {
        totals: totals({ premiumIncome: netDebit(posting, 'PREMIUM_INCOME').negated() }),
        benefit: null,
        cover: {
          year: posting.insuranceYear,
          covered: !flags.some((flag) => NOT_COVERED_FLAGS.has(flag)),
        },
      };
    case 'SETTLEMENT_APPLIED':
    case 'SETTLEMENT_REVERSED': {
      const due = netDebit(posting, 'DIRECT_CLAIMS_EXPENSE');
      // A visit counts when the fund pays something; its reversal takes it back (due < 0).
      const visits = due.gt(ZERO) ? 1 : due.lt(ZERO) ? -1 : 0;
      return { totals: totals({ claimsPaidDirect: due, visits }), benefit: due, cover: null };
    }
    case 'MANUAL_REIMBURSEMENT': {
      const paid = posting.claimedAmount ?? ZERO;
      const withinSla = !flags.some((flag) => SLA_MISSED_FLAGS.has(flag));
      return {
        totals: totals({
          claimsPaidManual: paid,
          visits: paid.gt(ZERO) ? 1 : 0,
          manualClaimsDecided: 1,
          manualClaimsWithinSla: withinSla ? 1 : 0,
        }),
        benefit: paid,
        cover: null,
      };
    }
    case 'OPERATING_COST':
      return {
        totals: totals({ operatingCost: netDebit(posting, 'OPERATING_COST_EXPENSE') }),
        benefit: null,
        cover: null,
      };
    // Cash to hospitals for settlements already counted, and year-end transfers: no new figure.
    case 'HOSPITAL_MONTH_SETTLED':
    case 'SURPLUS_CARRIED_FORWARD':
      return { totals: EMPTY_AGGREGATE, benefit: null, cover: null };
    default: {
      const unknown: never = kind;
      throw new RangeError(`unknown posting kind ${String(unknown)}`);
    }
  }
}

const REGION_CODE = /^\d{6}$/;

export function parseLedgerPosting(decoded: DecodedValue): Result<LedgerPosting> {
  if (decoded.record !== 'ledger-posting') {
    return refuse(
      invalidInput(
        'UNEXPECTED_RECORD',
        'value',
        'the fund ledger topic carries ledger-posting',
        decoded.record,
      ),
    );
  }
  const posting = decoded.value;
  if (!REGION_CODE.test(posting.regionCode)) {
    return refuse(
      invalidInput('REGION_FORMAT', 'regionCode', 'a 6-digit region code', posting.regionCode.slice(0, 20)),
    );
  }
  if (parseLocalDate(posting.postingDate) === undefined) {
    return refuse(invalidInput('INVALID_DATE', 'postingDate', 'a calendar date', posting.postingDate));
  }
  // A malformed pseudonym could be a national ID that slipped through: refused, and never echoed.
  if (posting.memberPseudonym !== null && !isMemberPseudonym(posting.memberPseudonym)) {
    return refuse(invalidInput('PSEUDONYM_FORMAT', 'memberPseudonym', '"m_" + 32 lowercase hex characters'));
  }
  return ok(posting);
}

/**
 * The date a posting counts from. Premiums collected before their cover year (Kaifeng art. 8 collects
 * July–December for the next year) are income received in advance (预收保费): they count from 1 January
 * of the cover year, so a year's disclosure sets that year's premiums against that year's claims.
 * Everything else counts on its posting date.
 */
export function recognitionDate(posting: LedgerPosting): string {
  const premium = posting.kind === 'PREMIUM_COLLECTED' || posting.kind === 'PREMIUM_CORRECTED';
  const coverYearStart = `${String(posting.insuranceYear).padStart(4, '0')}-01-01`;
  return premium && posting.postingDate < coverYearStart ? coverYearStart : posting.postingDate;
}

export const postingEventId = (posting: LedgerPosting): string => posting.postingId;

const aggregateKey = (posting: LedgerPosting, period: Period) =>
  stateKeys.disclosureAggregate(posting.regionCode, period.label);
const beneficiariesKey = (posting: LedgerPosting, period: Period) =>
  stateKeys.disclosureMembers(posting.regionCode, period.label, MEMBER_KINDS.beneficiaries);

/** Reads the three period totals, and the beneficiary hashes when the posting pays a member. */
export function postingStateKeys(posting: LedgerPosting): readonly string[] {
  const periods = periodsContaining(recognitionDate(posting));
  const keys = periods.map((period) => aggregateKey(posting, period));
  if (posting.memberPseudonym !== null && contributionOf(posting).benefit !== null)
    keys.push(...periods.map((period) => beneficiariesKey(posting, period)));
  return keys;
}

export function decidePosting(posting: LedgerPosting, state: StateView): Result<Decision> {
  const contribution = contributionOf(posting);
  if (contribution.totals.postings === 0) return ok({ outputs: [], writes: [] });
  const writes: StateWrite[] = [];
  const periods = periodsContaining(recognitionDate(posting));
  const member = posting.memberPseudonym;
  for (const period of periods) {
    const key = aggregateKey(posting, period);
    const next = addAggregates(readAggregate(state.hash(key), key), contribution.totals);
    writes.push({ key, fields: aggregateFields(next) });
    if (member !== null && contribution.benefit !== null) {
      const membersKey = beneficiariesKey(posting, period);
      const previous = readAggregateMoney(state.hash(membersKey)[member], `${membersKey}.${member}`);
      writes.push({ key: membersKey, fields: { [member]: moneyText(previous.plus(contribution.benefit)) } });
    }
  }
  writes.push({
    key: periodIndexKey(posting.regionCode),
    fields: Object.fromEntries(periods.map((period) => [period.label, period.kind])),
  });
  // Written blind (last posting wins): a member's premium postings are ordered on one ledger partition.
  if (member !== null && contribution.cover !== null) {
    writes.push({
      key: stateKeys.disclosureMembers(
        posting.regionCode,
        String(contribution.cover.year),
        MEMBER_KINDS.insured,
      ),
      fields: { [member]: contribution.cover.covered ? '1' : '0' },
    });
  }
  return ok({ outputs: [], writes });
}

/** The aggregation as the runner sees it: fund ledger in, Redis aggregates out, nothing published. */
export const disclosureAggregation: IngestService<LedgerPosting> = {
  name: 'disclosure',
  input: TOPICS.ledger,
  deadLetters: TOPICS.disclosureDeadLetters,
  outputs: [],
  parse: (decoded) => parseLedgerPosting(decoded),
  eventId: postingEventId,
  stateKeys: postingStateKeys,
  decide: (posting, state) => decidePosting(posting, state),
};
