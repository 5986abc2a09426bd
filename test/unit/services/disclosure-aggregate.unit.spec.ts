import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disclosureAggregationService } from '../../../services/disclosure/adapter.js';
import {
  addAggregates,
  aggregateFields,
  aggregateId,
  EMPTY_AGGREGATE,
  MEMBER_PART,
  PERIOD_AGGREGATE,
  PERIOD_INDEX,
  type PeriodAggregate,
  readAggregate,
} from '../../../services/disclosure/aggregate.js';
import { contributionOf, recognitionDate } from '../../../services/disclosure/decide.js';
import {
  comparePeriods,
  type Period,
  parsePeriod,
  periodsContaining,
} from '../../../services/disclosure/periods.js';
import { CorruptStateError } from '../../../shared/errors.js';
import { Decimal } from '../../../shared/money.js';
import type { LedgerPosting } from '../../../shared/records.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';
import {
  Books,
  correction,
  DEHONG,
  hospitalPayout,
  KAIFENG,
  MemoryStore,
  manualClaim,
  member,
  namedStore,
  notice,
  operatingCost,
  premium,
  reversal,
  settlement,
} from './journal.js';

const disclosureAggregation = disclosureAggregationService(TOPICS);

// The disclosure's running totals (Dehong art. 24: 月, 季, 年), fed the postings accounting writes (the
// Books harness) in ledger order. Every total below is added up by hand from the postings listed.

const yuan = (text: string) => new Decimal(text);
const at = (date: string, time = '12:00') => new Date(`${date}T${time}:00+08:00`);

/** Dehong: the basic cap reached in the settlement, 10 000.00 over it × 0.90 = 9 000.00 due, as claimed. */
const ISSUE = { basic: '150000.00', overCap: '10000.00', claimed: '9000.00' };

// ─── A year in Dehong (2025), with one Kaifeng premium collected in advance ────────────────────────
//
// A (member 1): premium 180.00 on 10 Mar; S-A1 (20 Mar) due 9 000.00; reversed on 5 Apr.
// B (member 2): S-B1 (10 Feb) held: no premium yet; premium 180.00 on 15 Mar releases it at 9 000.00,
//               counted on 10 Feb, the settlement's day.
// C (member 3): premium 180.00 on 20 Jan; manual claims C1 paid 1 200.00 on 28 Mar (received 10 Feb:
//               more than 20 working days, SLA missed) and C2 paid 800.00 on 31 Mar (7 working days).
// E (member 5): premium 180.00 on 5 Jan, corrected to 100.00 on 1 Feb (partial: not covered), back to
//               180.00 on 15 Feb (covered).
// F (member 7): premium 180.00 on 10 Jan; S-F2 (10 Mar: 50 000.00 + 8 000.00 over the cap) arrives first,
//               nothing due below the basic cap; S-F1 (10 Feb, basic 120 000.00) arrives after it, and S-F2
//               is re-decided: 120 000.00 + 50 000.00 ≥ 150 000.00, 8 000.00 × 0.90 = 7 200.00 due.
// Operating cost 500.00 for March (31 Mar), a credit note of 100.00 on 30 Jun; the insurer pays the
// hospital 9 000.00 on 10 Apr (cash for claims already counted: no figure).
// Kaifeng (member 6): 120.00 collected on 1 Nov 2024 for cover year 2025 (Kaifeng art. 8).

const S_A1 = settlement('S-A1', 1, ISSUE, { serviceDate: '2025-03-20', settledAt: at('2025-03-20') });
const S_B1 = settlement('S-B1', 2, ISSUE, { serviceDate: '2025-02-10', settledAt: at('2025-02-10') });
const YEAR = [
  premium(3, { eventId: 'TAX-C', paidOn: '2025-01-20' }),
  premium(5, { eventId: 'TAX-E', paidOn: '2025-01-05' }),
  premium(7, { eventId: 'TAX-F', paidOn: '2025-01-10' }),
  S_B1,
  correction(5, 'TAX-E', { eventId: 'TAXC-E1', correctedAmount: yuan('100.00'), correctedOn: '2025-02-01' }),
  correction(5, 'TAX-E', { eventId: 'TAXC-E2', correctedAmount: yuan('180.00'), correctedOn: '2025-02-15' }),
  settlement(
    'S-F2',
    7,
    { basic: '50000.00', overCap: '8000.00', claimed: '7200.00' },
    { serviceDate: '2025-03-10', settledAt: at('2025-03-10') },
  ),
  settlement(
    'S-F1',
    7,
    { basic: '120000.00', overCap: '0.00', claimed: '0.00' },
    { serviceDate: '2025-02-10', settledAt: at('2025-02-10') },
  ),
  premium(1, { eventId: 'TAX-A', paidOn: '2025-03-10' }),
  S_A1,
  premium(2, { eventId: 'TAX-B', paidOn: '2025-03-15' }),
  manualClaim(
    'C1',
    3,
    { basic: '150000.00', overCap: '1111.11', paid: '1200.00' },
    { serviceDate: '2025-02-01', receivedOn: '2025-02-10', paidOn: '2025-03-28' },
  ),
  manualClaim(
    'C2',
    3,
    { basic: '0.00', overCap: '888.89', paid: '800.00' },
    { serviceDate: '2025-03-01', receivedOn: '2025-03-20', paidOn: '2025-03-31' },
  ),
  operatingCost('OPC-1', '500.00'),
  reversal('R-A1', S_A1, { reversedAt: at('2025-04-05') }),
  hospitalPayout('P1', '9000.00', ['S-B1'], { paidOn: '2025-04-10' }),
  operatingCost('OPC-2', '-100.00', { period: '2025-06', recordedOn: '2025-06-30' }),
  premium(6, {
    eventId: 'TAX-K',
    regionCode: KAIFENG,
    coverYear: 2025,
    paidOn: '2024-11-01',
    amount: yuan('120.00'),
    payerType: 'UNIT_WITHHOLDING',
  }),
];

function ledgerOf(...facts: Parameters<Books['apply']>): LedgerPosting[] {
  const books = new Books();
  books.apply(...facts);
  expect(books.refused).toEqual([]);
  return books.postings;
}

/** One ledger partition's aggregation: parse, decide against the entities it names, nothing published. */
class Aggregation {
  readonly store = new MemoryStore();

  apply(...postings: readonly LedgerPosting[]): this {
    for (const value of postings) {
      const parsed = disclosureAggregation.parse(
        { record: 'ledger-posting', value, schemaId: 1 },
        {} as never,
      );
      if (!parsed.ok) throw new Error(`${parsed.error.code} ${parsed.error.field}`);
      const decided = disclosureAggregation.decide(
        parsed.value,
        namedStore(disclosureAggregation, this.store, parsed.value),
        {} as never,
      );
      if (!decided.ok) throw new Error(decided.error.code);
      expect(decided.value.outputs()).toEqual([]);
    }
    return this;
  }

  aggregate(region: string, label: string): PeriodAggregate | undefined {
    return this.store.peek(PERIOD_AGGREGATE, aggregateId(region, label));
  }

  /** The totals as their Redis fields (money with 2 decimals, counts as integers); {} when none. */
  totals(label: string, region = DEHONG): Record<string, string> {
    const found = this.aggregate(region, label);
    return found === undefined ? {} : aggregateFields(found);
  }
}

const totals = (o: Partial<Record<keyof PeriodAggregate, string>>): Record<string, string> => ({
  premiumIncome: '0.00',
  claimsPaidDirect: '0.00',
  claimsPaidManual: '0.00',
  operatingCost: '0.00',
  visits: '0',
  manualClaimsDecided: '0',
  manualClaimsWithinSla: '0',
  beneficiaries: '0',
  insured: '0',
  postings: '0',
  ...o,
});

const ledger = ledgerOf(...YEAR);
const year = () => new Aggregation().apply(...ledger);

// ─── Periods ───────────────────────────────────────────────────────────────────────────────────────

describe('disclosure periods (Dehong art. 24: monthly, quarterly, yearly)', () => {
  it('labels the month, quarter and year that contain a posting date', () => {
    expect(periodsContaining('2025-03-31').map((p) => p.label)).toEqual(['2025-03', '2025-Q1', '2025']);
    expect(periodsContaining('2025-10-01').map((p) => [p.label, p.start, p.end])).toEqual([
      ['2025-10', '2025-10-01', '2025-10-31'],
      ['2025-Q4', '2025-10-01', '2025-12-31'],
      ['2025', '2025-01-01', '2025-12-31'],
    ]);
    expect(parsePeriod('2024-02')?.end).toBe('2024-02-29');
    expect(parsePeriod('2025-13')).toBeUndefined();
    expect(parsePeriod('2025-Q5')).toBeUndefined();
    const sorted = ['2025-02', '2025-Q1', '2025', '2024']
      .map((l) => parsePeriod(l) as Period)
      .sort(comparePeriods);
    expect(sorted.map((p) => p.label)).toEqual(['2024', '2025', '2025-Q1', '2025-02']);
  });

  it('Kaifeng art. 8: a premium collected in 2024 for 2025 is received in advance and counts from 1 January 2025', () => {
    const base = { kind: 'PREMIUM_COLLECTED', insuranceYear: 2025 } as const;
    expect(recognitionDate({ ...base, postingDate: '2024-09-15' } as LedgerPosting)).toBe('2025-01-01');
    expect(
      recognitionDate({ ...base, kind: 'PREMIUM_CORRECTED', postingDate: '2024-10-02' } as LedgerPosting),
    ).toBe('2025-01-01');
    expect(recognitionDate({ ...base, postingDate: '2025-03-01' } as LedgerPosting)).toBe('2025-03-01');
    expect(
      recognitionDate({
        kind: 'OPERATING_COST',
        insuranceYear: 2025,
        postingDate: '2024-12-31',
      } as LedgerPosting),
    ).toBe('2024-12-31');
  });
});

// ─── What one posting adds ─────────────────────────────────────────────────────────────────────────

describe('what one posting adds', () => {
  const contributions = (postings: readonly LedgerPosting[]) =>
    postings.map((p) => {
      const c = contributionOf(p);
      return [p.postingId, c.totals.claimsPaidDirect?.toFixed(2) ?? null, c.totals.visits ?? null];
    });

  it('a visit counts when a claim’s expensed due becomes more than 0, and a reversal takes it back; a held posting adds nothing', () => {
    const s1 = settlement('S1', 1, ISSUE);
    const postings = ledgerOf(
      s1, // held: nothing expensed
      premium(1, { eventId: 'TAX-1', paidOn: '2025-03-01' }), // released: 9 000.00 expensed, a visit
      reversal('R1', s1), // −9 000.00, the visit taken back
    );

    expect(contributions(postings)).toEqual([
      ['SETTLEMENT_HELD:S1', '0.00', 0],
      ['PREMIUM_COLLECTED:TAX-1', null, null],
      ['SETTLEMENT_RELEASED:S1:1', '9000.00', 1],
      ['SETTLEMENT_REVERSED:R1', '-9000.00', -1],
    ]);
  });

  it('released as not covered, nothing is expensed and no visit is paid; a re-decision to 9 000.00 makes it one', () => {
    const postings = ledgerOf(
      settlement('S1', 1, ISSUE),
      notice({ issuedOn: '2025-04-21' }),
      premium(1, { eventId: 'TAX-1', paidOn: '2025-04-15' }),
    );

    expect(contributions(postings)).toEqual([
      ['SETTLEMENT_HELD:S1', '0.00', 0],
      ['SETTLEMENT_RELEASED:S1:1', '0.00', 0],
      ['PREMIUM_COLLECTED:TAX-1', null, null],
      ['SETTLEMENT_REDECIDED:S1:2', '9000.00', 1],
    ]);
  });

  it('a claim held again after a correction took the cover away loses its visit and its expense', () => {
    const postings = ledgerOf(
      premium(1, { eventId: 'TAX-1', paidOn: '2025-03-01' }),
      settlement('S1', 1, ISSUE),
      correction(1, 'TAX-1', { eventId: 'TAXC-1', correctedAmount: yuan('0.00'), correctedOn: '2025-03-10' }),
    );

    expect(contributions(postings).slice(1)).toEqual([
      ['SETTLEMENT_APPLIED:S1', '9000.00', 1],
      ['PREMIUM_CORRECTED:TAXC-1', null, null],
      ['SETTLEMENT_HELD:S1:1', '-9000.00', -1],
    ]);
  });

  it('a manual claim counts what was paid to the member once, when it arrives; its release adds no money', () => {
    const postings = ledgerOf(
      manualClaim('M1', 1, { basic: '150000.00', overCap: '10000.00', paid: '9000.00' }),
      premium(1, { eventId: 'TAX-1', paidOn: '2025-03-01' }),
    );
    const [held, , released] = postings as [LedgerPosting, LedgerPosting, LedgerPosting];

    expect(held.postingId).toBe('MANUAL_REIMBURSEMENT_HELD:M1');
    expect(contributionOf(held).totals).toEqual({
      claimsPaidManual: yuan('9000.00'),
      visits: 1,
      manualClaimsDecided: 1,
      manualClaimsWithinSla: 1,
      postings: 1,
    });
    expect(released.postingId).toBe('MANUAL_REIMBURSEMENT_RELEASED:M1:1');
    expect(contributionOf(released).totals).toEqual({ postings: 1 });
  });

  it('the insurer’s payment to a hospital adds no figure: its claims were counted when booked', () => {
    const [payout] = ledgerOf(hospitalPayout('P1', '9000.00', ['S1']));
    expect(contributionOf(payout as LedgerPosting)).toEqual({ totals: {}, benefit: null, covered: null });
  });
});

// ─── Totals per period ─────────────────────────────────────────────────────────────────────────────

describe('disclosure aggregation: the year’s totals per period, by hand', () => {
  it('January: three premiums, 3 × 180.00 = 540.00', () => {
    expect(year().totals('2025-01')).toEqual(totals({ premiumIncome: '540.00', postings: '3' }));
  });

  it('February: a correction down and back up nets 0.00; B’s released settlement counts on its own day', () => {
    // Postings: S-B1 held and released, the two corrections, S-F1: five. One paid visit (S-B1), one beneficiary (B).
    expect(year().totals('2025-02')).toEqual(
      totals({ claimsPaidDirect: '9000.00', visits: '1', beneficiaries: '1', postings: '5' }),
    );
  });

  it('March: premiums, direct claims net of the re-decision, manual claims paid, operating cost, SLA', () => {
    // Premiums A + B = 360.00; direct S-A1 9 000.00 + S-F2 re-decided 0.00 → 7 200.00 = 16 200.00; manual
    // paid 1 200.00 + 800.00 = 2 000.00 (what was paid, not what was due); visits S-A1, S-F2, C1, C2 = 4;
    // beneficiaries A, C, F = 3; manual claims 2, 1 within Dehong art. 16's 20 working days.
    expect(year().totals('2025-03')).toEqual(
      totals({
        premiumIncome: '360.00',
        claimsPaidDirect: '16200.00',
        claimsPaidManual: '2000.00',
        operatingCost: '500.00',
        visits: '4',
        manualClaimsDecided: '2',
        manualClaimsWithinSla: '1',
        beneficiaries: '3',
        postings: '8',
      }),
    );
  });

  it('April: the reversal takes back the claim and the visit in the period it is posted; the payout adds nothing', () => {
    expect(year().totals('2025-04')).toEqual(
      totals({ claimsPaidDirect: '-9000.00', visits: '-1', postings: '1' }),
    );
    expect(year().totals('2025-05')).toEqual({});
    expect(year().totals('2025-06')).toEqual(totals({ operatingCost: '-100.00', postings: '1' }));
  });

  it('quarters add their months; beneficiaries are members with a net benefit above 0 in the period', () => {
    // Q1: 540.00 + 0.00 + 360.00 premiums; 9 000.00 + 16 200.00 direct; beneficiaries A, B, C, F.
    expect(year().totals('2025-Q1')).toEqual(
      totals({
        premiumIncome: '900.00',
        claimsPaidDirect: '25200.00',
        claimsPaidManual: '2000.00',
        operatingCost: '500.00',
        visits: '5',
        manualClaimsDecided: '2',
        manualClaimsWithinSla: '1',
        beneficiaries: '4',
        postings: '16',
      }),
    );
    // Q2: A's −9 000.00 makes no beneficiary (nothing above 0).
    expect(year().totals('2025-Q2')).toEqual(
      totals({ claimsPaidDirect: '-9000.00', operatingCost: '-100.00', visits: '-1', postings: '2' }),
    );
  });

  it('the year: A’s reversed claim leaves no benefit; insured are members covered by their latest premium posting', () => {
    // Direct 25 200.00 − 9 000.00 = 16 200.00; operating cost 500.00 − 100.00 = 400.00; visits 5 − 1 = 4;
    // beneficiaries B, C, F = 3; insured A, B, C, E (partial, then paid in full again), F = 5.
    expect(year().totals('2025')).toEqual(
      totals({
        premiumIncome: '900.00',
        claimsPaidDirect: '16200.00',
        claimsPaidManual: '2000.00',
        operatingCost: '400.00',
        visits: '4',
        manualClaimsDecided: '2',
        manualClaimsWithinSla: '1',
        beneficiaries: '3',
        insured: '5',
        postings: '18',
      }),
    );
  });

  it('keeps each member’s net benefit per period, incrementally', () => {
    const aggregation = year();
    const part = aggregation.store.get(MEMBER_PART, `${DEHONG}:2025:${member(1)}`);
    expect(
      Object.fromEntries([...part.benefits].map(([label, amount]) => [label, amount.toFixed(2)])),
    ).toEqual({
      '2025-03': '9000.00',
      '2025-Q1': '9000.00',
      '2025': '0.00',
      '2025-04': '-9000.00',
      '2025-Q2': '-9000.00',
    });
    expect(part.covered).toBe(true);
    const e = aggregation.store.get(MEMBER_PART, `${DEHONG}:2025:${member(5)}`);
    expect(e.covered).toBe(true);
    expect(e.benefits.size).toBe(0);
  });

  it('Kaifeng art. 8: the premium collected in advance is 2025’s income and 2025’s insured, nothing in 2024', () => {
    const aggregation = year();
    const kaifeng = totals({ premiumIncome: '120.00', postings: '1' });
    expect(aggregation.totals('2025-01', KAIFENG)).toEqual(kaifeng);
    expect(aggregation.totals('2025-Q1', KAIFENG)).toEqual(kaifeng);
    expect(aggregation.totals('2025', KAIFENG)).toEqual({ ...kaifeng, insured: '1' });
    expect(aggregation.totals('2024', KAIFENG)).toEqual({});
    expect(aggregation.totals('2024-11', KAIFENG)).toEqual({});
  });

  it('indexes the periods that have totals, per region', () => {
    const aggregation = year();
    expect(Object.fromEntries(aggregation.store.get(PERIOD_INDEX, DEHONG))).toEqual({
      '2025-01': 'MONTH',
      '2025-02': 'MONTH',
      '2025-03': 'MONTH',
      '2025-04': 'MONTH',
      '2025-06': 'MONTH',
      '2025-Q1': 'QUARTER',
      '2025-Q2': 'QUARTER',
      '2025': 'YEAR',
    });
    expect(Object.fromEntries(aggregation.store.get(PERIOD_INDEX, KAIFENG))).toEqual({
      '2025-01': 'MONTH',
      '2025-Q1': 'QUARTER',
      '2025': 'YEAR',
    });
  });
});

// ─── Applied once ──────────────────────────────────────────────────────────────────────────────────

describe('disclosure aggregation: each posting is applied once, by its sequence', () => {
  const labels = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-06', '2025-Q1', '2025-Q2', '2025'];
  const snapshot = (aggregation: Aggregation) => labels.map((label) => aggregation.totals(label));

  it('the whole ledger delivered again changes no total', () => {
    const aggregation = year();
    const before = snapshot(aggregation);

    aggregation.apply(...ledger);

    expect(snapshot(aggregation)).toEqual(before);
  });

  it('a posting whose sequence is at or below the last applied for its member-year is skipped', () => {
    // F's postings: premium (1), S-F2 applied (2), S-F1 applied (3), S-F2 re-decided (4).
    const f = ledger.filter((p) => p.memberPseudonym === member(7));
    expect(f.map((p) => [p.postingId, p.sequence])).toEqual([
      ['PREMIUM_COLLECTED:TAX-F', 1],
      ['SETTLEMENT_APPLIED:S-F2', 2],
      ['SETTLEMENT_APPLIED:S-F1', 3],
      ['SETTLEMENT_REDECIDED:S-F2:1', 4],
    ]);
    const [collected, applied, , redecided] = f as [
      LedgerPosting,
      LedgerPosting,
      LedgerPosting,
      LedgerPosting,
    ];
    const aggregation = new Aggregation().apply(collected, redecided);
    const march = aggregation.totals('2025-03');
    expect(march).toEqual(
      totals({ claimsPaidDirect: '7200.00', visits: '1', beneficiaries: '1', postings: '1' }),
    );

    // Sequence 2 after 4: skipped, not even counted as a posting.
    aggregation.apply(applied, { ...redecided, postingId: 'a copy under another id' });
    expect(aggregation.totals('2025-03')).toEqual(march);
  });

  it('a region’s operating costs are numbered per region and year: a copy is skipped too', () => {
    const costs = ledger.filter((p) => p.kind === 'OPERATING_COST');
    const aggregation = new Aggregation().apply(...costs, ...costs);
    expect(aggregation.totals('2025')).toEqual(totals({ operatingCost: '400.00', postings: '2' }));
  });

  it('members may interleave in any order (each member’s postings in ledger order): the totals are the same', () => {
    // One queue per ledger key (member, hospital, region), merged at random.
    const queues = new Map<string, LedgerPosting[]>();
    for (const p of ledger) {
      const key = p.memberPseudonym ?? p.hospitalCode ?? p.regionCode;
      queues.set(key, [...(queues.get(key) ?? []), p]);
    }
    const reference = snapshot(year());
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: ledger.length, maxLength: ledger.length }), (picks) => {
        const live = [...queues.values()].map((q) => [...q]);
        const merged: LedgerPosting[] = [];
        for (const pick of picks) {
          const index = pick % live.length;
          const queue = live[index] as LedgerPosting[];
          merged.push(queue.shift() as LedgerPosting);
          if (queue.length === 0) live.splice(index, 1);
        }
        expect(snapshot(new Aggregation().apply(...merged))).toEqual(reference);
      }),
      { numRuns: 100 },
    );
  });

  it('partition-local totals add up: members split over two ledger partitions give the same region totals', () => {
    const first = new Set([member(1), member(2), member(3)]);
    const p0 = new Aggregation().apply(
      ...ledger.filter((p) => p.memberPseudonym !== null && first.has(p.memberPseudonym)),
    );
    const p1 = new Aggregation().apply(
      ...ledger.filter((p) => p.memberPseudonym === null || !first.has(p.memberPseudonym)),
    );
    const whole = year();

    for (const label of labels) {
      const sum = [p0, p1].reduce(
        (acc, part) => addAggregates(acc, part.aggregate(DEHONG, label) ?? EMPTY_AGGREGATE),
        EMPTY_AGGREGATE,
      );
      expect(aggregateFields(sum)).toEqual(whole.totals(label));
    }
  });
});

// ─── Input and state ───────────────────────────────────────────────────────────────────────────────

describe('disclosure aggregation: input and state', () => {
  it('reads the ledger and publishes nothing', () => {
    expect(disclosureAggregation.input).toBe(TOPICS.ledger);
    expect(disclosureAggregation.deadLetters).toBe(TOPICS.disclosureDeadLetters);
    expect(disclosureAggregation.outputs).toEqual([]);
  });

  it('refuses other records, bad regions and dates, and malformed pseudonyms, never echoing the value', () => {
    const parse = (value: unknown, record = 'ledger-posting') =>
      disclosureAggregation.parse({ record, value, schemaId: 1 } as never, {} as never);
    const code = (result: ReturnType<typeof parse>) =>
      result.ok ? 'accepted' : `${result.error.code} ${result.error.field}`;
    const sample = avroSamples['ledger-posting'];

    expect(code(parse(sample))).toBe('accepted');
    expect(code(parse(avroSamples['operating-cost'], 'operating-cost'))).toBe('UNEXPECTED_RECORD value');
    expect(code(parse({ ...sample, regionCode: 'DEHONG' }))).toBe('REGION_FORMAT regionCode');
    expect(code(parse({ ...sample, postingDate: '2025-02-30' }))).toBe('INVALID_DATE postingDate');
    const leaked = parse({ ...sample, memberPseudonym: '11010519491231002X' });
    expect(code(leaked)).toBe('PSEUDONYM_FORMAT memberPseudonym');
    expect(JSON.stringify(leaked)).not.toContain('11010519491231002X');
  });

  it('reads back what it writes; anything else in a total is corrupt state', () => {
    const aggregation = year();
    const fields = aggregateFields(aggregation.aggregate(DEHONG, '2025') as PeriodAggregate);
    expect(readAggregate(fields).premiumIncome.toFixed(2)).toBe('900.00');
    expect(readAggregate(fields).visits).toBe(4);
    expect(() => readAggregate({ premiumIncome: 'lots' })).toThrow(CorruptStateError);
    expect(() => readAggregate({ visits: '1.5' })).toThrow(/not a count/);
    expect(() => MEMBER_PART.decode({ s: '1', c: '1', 'b:2025': 'plenty' }, 'x')).toThrow(CorruptStateError);
  });
});
