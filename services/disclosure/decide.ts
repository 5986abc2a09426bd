import { invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { isMemberPseudonym } from '../../shared/identity.js';
import { ledgerKey } from '../../shared/ledger.js';
import { type Money, ZERO } from '../../shared/money.js';
import { firstDayOfYear, parseLocalDate } from '../../shared/policy/dates.js';
import type { LedgerAccount, LedgerPosting } from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import {
  type Decided,
  decided,
  type EntityRef,
  type EntityStore,
  entity,
} from '../../shared/runner/service.js';
import { type Topics, unexpectedRecord } from '../../shared/topics.js';
import {
  addAggregates,
  aggregateId,
  KEY_SEQUENCE,
  MEMBER_PART,
  PERIOD_AGGREGATE,
  PERIOD_INDEX,
  type PeriodAggregate,
} from './aggregate.js';
import { type Period, periodsContaining } from './periods.js';

/**
 * Disclosure aggregation (ledger → running totals), pure: folds every ledger posting into its region's
 * totals for the month, quarter and year of its recognition date. Each ledger partition keeps its own
 * totals (a member's postings all lie in the member's partition, so distinct members are counted where
 * they are), and the publisher adds the partitions up. A posting is applied once: every posting carries
 * its number among the postings of its key, region and year (ledger-posting.avsc `sequence`), and a copy
 * at or below the last number applied is skipped.
 */

// ─── What a posting adds ───────────────────────────────────────────────────────────────────────────

/** Debits minus credits of one account in a posting. */
function netDebit(posting: LedgerPosting, account: LedgerAccount): Money {
  let net: Money = ZERO;
  for (const line of posting.lines) {
    if (line.account !== account) continue;
    net = line.direction === 'DEBIT' ? net.plus(line.amount) : net.minus(line.amount);
  }
  return net;
}

// premium postings' not-covered reasons (ledger-posting.avsc flags); no such flag = covered.
const NOT_COVERED_FLAGS = new Set(['LATE', 'PARTIAL', 'EARLY', 'NOT_PAID']);
// A manual claim with either of these was not within Dehong art. 16's service level.
const SLA_MISSED_FLAGS = new Set(['SLA_BREACHED', 'PAST_DEADLINE']);

const DIRECT_KINDS = new Set([
  'SETTLEMENT_APPLIED',
  'SETTLEMENT_REVERSED',
  'SETTLEMENT_HELD',
  'SETTLEMENT_RELEASED',
  'SETTLEMENT_REDECIDED',
]);
const MANUAL_KINDS = new Set([
  'MANUAL_REIMBURSEMENT',
  'MANUAL_REIMBURSEMENT_HELD',
  'MANUAL_REIMBURSEMENT_RELEASED',
  'MANUAL_REIMBURSEMENT_REDECIDED',
]);

const sign = (amount: Money): number => (amount.gt(ZERO) ? 1 : amount.lt(ZERO) ? -1 : 0);

/** What one posting adds to its periods' totals, and to the member's benefit (signed) in them. */
export interface PostingContribution {
  readonly totals: Partial<PeriodAggregate>;
  readonly benefit: Money | null;
  /** The member's cover for the posting's insurance year, from a premium posting. */
  readonly covered: boolean | null;
}

const NOTHING: PostingContribution = { totals: {}, benefit: null, covered: null };

export function contributionOf(posting: LedgerPosting): PostingContribution {
  const flags = posting.flags ?? [];
  if (posting.kind === 'PREMIUM_COLLECTED' || posting.kind === 'PREMIUM_CORRECTED') {
    return {
      totals: { premiumIncome: netDebit(posting, 'PREMIUM_INCOME').negated(), postings: 1 },
      benefit: null,
      covered: !flags.some((flag) => NOT_COVERED_FLAGS.has(flag)),
    };
  }
  if (DIRECT_KINDS.has(posting.kind)) {
    // A booking changes what the claim expenses: a visit counts while the fund pays something for it
    // (a reversal's negative due takes it back), whichever booking makes it so.
    const change = netDebit(posting, 'DIRECT_CLAIMS_EXPENSE');
    const now = posting.dueAmount ?? ZERO;
    const before = now.minus(change);
    return {
      totals: { claimsPaidDirect: change, visits: sign(now) - sign(before), postings: 1 },
      benefit: change,
      covered: null,
    };
  }
  if (MANUAL_KINDS.has(posting.kind)) {
    // What was paid to the member counts once, when the claim arrives; a later booking only moves suspense.
    if (posting.revision !== 0) return { ...NOTHING, totals: { postings: 1 } };
    const paid = posting.claimedAmount ?? ZERO;
    return {
      totals: {
        claimsPaidManual: paid,
        visits: paid.gt(ZERO) ? 1 : 0,
        manualClaimsDecided: 1,
        manualClaimsWithinSla: flags.some((flag) => SLA_MISSED_FLAGS.has(flag)) ? 0 : 1,
        postings: 1,
      },
      benefit: paid,
      covered: null,
    };
  }
  if (posting.kind === 'OPERATING_COST') {
    return {
      totals: { operatingCost: netDebit(posting, 'OPERATING_COST_EXPENSE'), postings: 1 },
      benefit: null,
      covered: null,
    };
  }
  // Cash to hospitals for settlements already counted, and year-end transfers: no new figure.
  return NOTHING;
}

/**
 * The date a posting counts from. Premiums collected before their cover year (Kaifeng art. 8 collects
 * July–December for the next year) are income received in advance (预收保费): they count from 1 January
 * of the cover year. Everything else counts on its posting date, which for every booking of a claim is
 * the claim's own date.
 */
export function recognitionDate(posting: LedgerPosting): string {
  const premium = posting.kind === 'PREMIUM_COLLECTED' || posting.kind === 'PREMIUM_CORRECTED';
  const coverYearStart = firstDayOfYear(posting.insuranceYear);
  return premium && posting.postingDate < coverYearStart ? coverYearStart : posting.postingDate;
}

const REGION_CODE = /^\d{6}$/;

export function parseLedgerPosting(decoded: DecodedValue, topics: Topics): Result<LedgerPosting> {
  if (decoded.record !== 'ledger-posting') {
    return refuse(unexpectedRecord(topics.ledger, decoded.record));
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

// ─── Decide ────────────────────────────────────────────────────────────────────────────────────────

const memberId = (p: LedgerPosting) => `${p.regionCode}:${p.insuranceYear}:${p.memberPseudonym}`;
const keyId = (p: LedgerPosting) => `${ledgerKey(p)}:${p.regionCode}:${p.insuranceYear}`;

function periodsOf(posting: LedgerPosting): readonly [Period, Period, Period] {
  return periodsContaining(recognitionDate(posting));
}

export function aggregationEntitiesOf(posting: LedgerPosting): readonly EntityRef[] {
  const refs: EntityRef[] = periodsOf(posting).map((p) =>
    entity(PERIOD_AGGREGATE, aggregateId(posting.regionCode, p.label)),
  );
  refs.push(entity(PERIOD_INDEX, posting.regionCode));
  // The insured count lives on the insurance year's total, which may not be a period of the posting (premiums paid in advance).
  refs.push(entity(PERIOD_AGGREGATE, aggregateId(posting.regionCode, String(posting.insuranceYear))));
  refs.push(
    posting.memberPseudonym !== null
      ? entity(MEMBER_PART, memberId(posting))
      : entity(KEY_SEQUENCE, keyId(posting)),
  );
  return refs;
}

export function decideAggregation(posting: LedgerPosting, store: EntityStore): Result<Decided> {
  const contribution = contributionOf(posting);
  if (contribution.totals.postings === undefined) return ok(decided([]));
  const member = posting.memberPseudonym !== null;
  // Postings of a key, region and year are numbered by accounting: a copy or a replay is seen and skipped.
  const part = member ? store.get(MEMBER_PART, memberId(posting)) : undefined;
  const lastSequence = part?.sequence ?? store.get(KEY_SEQUENCE, keyId(posting));
  if (posting.sequence !== 0 && posting.sequence <= lastSequence) return ok(decided([]));

  const periods = periodsOf(posting);
  const add = (label: string, totals: Partial<PeriodAggregate>) => {
    const id = aggregateId(posting.regionCode, label);
    store.put(PERIOD_AGGREGATE, id, addAggregates(store.get(PERIOD_AGGREGATE, id), totals));
  };
  for (const period of periods) add(period.label, contribution.totals);

  const index = store.get(PERIOD_INDEX, posting.regionCode);
  if (periods.some((p) => !index.has(p.label))) {
    store.put(
      PERIOD_INDEX,
      posting.regionCode,
      new Map([...index, ...periods.map((p) => [p.label, p.kind] as const)]),
    );
  }

  if (part === undefined) {
    store.put(KEY_SEQUENCE, keyId(posting), Math.max(lastSequence, posting.sequence));
    return ok(decided([]));
  }
  let benefits = part.benefits;
  if (contribution.benefit !== null && !contribution.benefit.isZero()) {
    const next = new Map(benefits);
    for (const period of periods) {
      const before = benefits.get(period.label) ?? ZERO;
      const after = before.plus(contribution.benefit);
      next.set(period.label, after);
      const change = (after.gt(ZERO) ? 1 : 0) - (before.gt(ZERO) ? 1 : 0);
      if (change !== 0) add(period.label, { beneficiaries: change });
    }
    benefits = next;
  }
  let covered = part.covered;
  if (contribution.covered !== null && contribution.covered !== part.covered) {
    const change = (contribution.covered ? 1 : 0) - (part.covered === true ? 1 : 0);
    if (change !== 0) add(String(posting.insuranceYear), { insured: change });
    covered = contribution.covered;
  }
  store.put(MEMBER_PART, memberId(posting), {
    sequence: Math.max(part.sequence, posting.sequence),
    covered,
    benefits,
  });
  return ok(decided([]));
}
