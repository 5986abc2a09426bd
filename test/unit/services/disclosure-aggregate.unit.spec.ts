import { describe, expect, it } from 'vitest';
import {
  disclosureAggregation,
  MEMBER_KINDS,
  periodIndexKey,
  readAggregate,
  recognitionDate,
} from '../../../services/disclosure/aggregate.js';
import {
  comparePeriods,
  type Period,
  parsePeriod,
  periodsContaining,
} from '../../../services/disclosure/periods.js';
import { Decimal } from '../../../shared/money.js';
import type { LedgerLine, LedgerPosting, PostingKind } from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import type { DecideContext, StateView } from '../../../shared/runner/service.js';
import { stateKeys } from '../../../shared/state-keys.js';
import { avroSamples } from '../../fixtures/avro-samples.js';

const DEHONG = '533100';
const A = `m_${'a'.repeat(32)}`;
const B = `m_${'b'.repeat(32)}`;
const C = `m_${'c'.repeat(32)}`;
const yuan = (text: string) => new Decimal(text);
const context: DecideContext = {
  source: { topic: 'medfund.fund.ledger.v1', partition: 0, offset: '1' },
  receivedOn: '2025-12-31',
};

const line = (
  account: LedgerLine['account'],
  direction: LedgerLine['direction'],
  amount: string,
): LedgerLine => ({
  account,
  direction,
  amount: yuan(amount),
});

let serial = 0;
function posting(
  kind: PostingKind,
  postingDate: string,
  lines: LedgerLine[],
  overrides: Partial<LedgerPosting> = {},
): LedgerPosting {
  serial += 1;
  return {
    ...avroSamples['ledger-posting'],
    postingId: `${kind}:EV-${serial}`,
    sourceEventId: `EV-${serial}`,
    regionCode: DEHONG,
    insuranceYear: Number(postingDate.slice(0, 4)),
    postingDate,
    kind,
    lines,
    memberPseudonym: null,
    hospitalCode: null,
    claimedAmount: null,
    dueAmount: null,
    varianceAmount: null,
    flags: [],
    ...overrides,
  };
}

const premium = (member: string, date: string, amount: string, flags: string[] = []) =>
  posting(
    'PREMIUM_COLLECTED',
    date,
    [line('FUND_BANK', 'DEBIT', amount), line('PREMIUM_INCOME', 'CREDIT', amount)],
    { memberPseudonym: member, flags },
  );
const premiumCorrection = (member: string, date: string, difference: string, flags: string[] = []) => {
  const amount = yuan(difference).abs().toFixed(2);
  const up = !difference.startsWith('-');
  return posting(
    'PREMIUM_CORRECTED',
    date,
    up
      ? [line('FUND_BANK', 'DEBIT', amount), line('PREMIUM_INCOME', 'CREDIT', amount)]
      : [line('PREMIUM_INCOME', 'DEBIT', amount), line('FUND_BANK', 'CREDIT', amount)],
    { memberPseudonym: member, flags },
  );
};
const settlement = (member: string, date: string, due: string) =>
  posting(
    'SETTLEMENT_APPLIED',
    date,
    [line('DIRECT_CLAIMS_EXPENSE', 'DEBIT', due), line('HOSPITAL_PAYABLE', 'CREDIT', due)],
    { memberPseudonym: member, hospitalCode: 'H53310200003', dueAmount: yuan(due), claimedAmount: yuan(due) },
  );
const reversal = (member: string, date: string, due: string) =>
  posting(
    'SETTLEMENT_REVERSED',
    date,
    [line('HOSPITAL_PAYABLE', 'DEBIT', due), line('DIRECT_CLAIMS_EXPENSE', 'CREDIT', due)],
    {
      memberPseudonym: member,
      hospitalCode: 'H53310200003',
      dueAmount: yuan(due).negated(),
      claimedAmount: yuan(due).negated(),
    },
  );
const manual = (member: string, date: string, paid: string, due: string, flags: string[] = []) =>
  posting(
    'MANUAL_REIMBURSEMENT',
    date,
    [
      line('MANUAL_CLAIMS_EXPENSE', 'DEBIT', due),
      line('FUND_BANK', 'CREDIT', paid),
      line('CLAIM_VARIANCE_SUSPENSE', 'DEBIT', yuan(paid).minus(yuan(due)).toFixed(2)),
    ],
    { memberPseudonym: member, claimedAmount: yuan(paid), dueAmount: yuan(due), flags },
  );
const operatingCost = (date: string, amount: string) =>
  posting(
    'OPERATING_COST',
    date,
    amount.startsWith('-')
      ? [
          line('FUND_BANK', 'DEBIT', amount.slice(1)),
          line('OPERATING_COST_EXPENSE', 'CREDIT', amount.slice(1)),
        ]
      : [line('OPERATING_COST_EXPENSE', 'DEBIT', amount), line('FUND_BANK', 'CREDIT', amount)],
  );
const hospitalMonth = (date: string, amount: string) =>
  posting(
    'HOSPITAL_MONTH_SETTLED',
    date,
    [line('HOSPITAL_PAYABLE', 'DEBIT', amount), line('FUND_BANK', 'CREDIT', amount)],
    { hospitalCode: 'H53310200003' },
  );

type Hashes = Map<string, Record<string, string>>;

/** What the runner does, without Redis: parse, read the named keys, decide, HSET the writes. */
function applyAll(postings: readonly LedgerPosting[], hashes: Hashes = new Map()): Hashes {
  const view: StateView = { hash: (key) => hashes.get(key) ?? {} };
  for (const value of postings) {
    const decoded: DecodedValue = { record: 'ledger-posting', value, schemaId: 1 };
    const parsed = disclosureAggregation.parse(decoded, {
      pseudonymKey: Buffer.alloc(32) as never,
      receivedOn: '2025-12-31',
    });
    if (!parsed.ok) throw new Error(parsed.error.code);
    const decision = disclosureAggregation.decide(parsed.value, view, context);
    if (!decision.ok) throw new Error(decision.error.code);
    expect(decision.value.outputs).toEqual([]);
    for (const write of decision.value.writes)
      hashes.set(write.key, { ...(hashes.get(write.key) ?? {}), ...write.fields });
  }
  return hashes;
}

const aggregateOf = (hashes: Hashes, period: string) =>
  hashes.get(stateKeys.disclosureAggregate(DEHONG, period)) ?? {};

// A year in Dehong, by hand: the expected sums are written out in each test.
const year = () => [
  premium(A, '2025-03-10', '1000.00'),
  premium(B, '2025-03-15', '500.00', ['PARTIAL']),
  premiumCorrection(B, '2025-04-02', '500.00'),
  premiumCorrection(A, '2025-05-01', '-200.00', ['PARTIAL']),
  settlement(A, '2025-03-20', '9000.00'),
  settlement(B, '2025-03-25', '0.00'),
  reversal(A, '2025-04-05', '9000.00'),
  manual(C, '2025-03-28', '1200.00', '1000.00', ['SLA_BREACHED']),
  manual(C, '2025-03-29', '800.00', '800.00'),
  operatingCost('2025-03-31', '500.00'),
  operatingCost('2025-06-30', '-100.00'),
  hospitalMonth('2025-04-10', '9000.00'),
];

describe('disclosure aggregation: ledger postings → period totals', () => {
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

  it('sums March by hand: premiums, direct due, manual paid, operating cost, paid visits, SLA', () => {
    const hashes = applyAll(year());
    expect(aggregateOf(hashes, '2025-03')).toEqual({
      premiumIncome: '1500.00', // 1000 + 500
      claimsPaidDirect: '9000.00', // 9000 + 0
      claimsPaidManual: '2000.00', // paid 1200 + 800, not due
      operatingCost: '500.00',
      visits: '3', // settlement with due > 0, two manual claims; the due-0 settlement is no paid visit
      manualClaimsDecided: '2',
      manualClaimsWithinSla: '1',
      postings: '7',
    });
    expect(aggregateOf(hashes, '2025-Q1')).toEqual(aggregateOf(hashes, '2025-03'));
  });

  it('takes corrections, reversals and credit notes back in the period they are posted', () => {
    const hashes = applyAll(year());
    expect(aggregateOf(hashes, '2025-04')).toMatchObject({
      premiumIncome: '500.00',
      claimsPaidDirect: '-9000.00',
      visits: '-1',
      postings: '2', // the hospital's monthly settlement adds nothing
    });
    expect(aggregateOf(hashes, '2025-Q2')).toMatchObject({
      premiumIncome: '300.00', // +500 − 200
      claimsPaidDirect: '-9000.00',
      operatingCost: '-100.00',
      visits: '-1',
    });
    expect(aggregateOf(hashes, '2025')).toEqual({
      premiumIncome: '1800.00',
      claimsPaidDirect: '0.00',
      claimsPaidManual: '2000.00',
      operatingCost: '400.00',
      visits: '2',
      manualClaimsDecided: '2',
      manualClaimsWithinSla: '1',
      postings: '11',
    });
    expect(hashes.has(stateKeys.disclosureAggregate(DEHONG, '2025-10'))).toBe(false);
  });

  it('keeps each member’s net benefit per period: a reversed claim makes no beneficiary', () => {
    const hashes = applyAll(year());
    const members = (period: string) =>
      hashes.get(stateKeys.disclosureMembers(DEHONG, period, MEMBER_KINDS.beneficiaries));
    expect(members('2025-03')).toEqual({ [A]: '9000.00', [B]: '0.00', [C]: '2000.00' });
    expect(members('2025-04')).toEqual({ [A]: '-9000.00' });
    expect(members('2025')).toEqual({ [A]: '0.00', [B]: '0.00', [C]: '2000.00' });
  });

  it('marks insured members per insurance year from their latest premium posting', () => {
    const hashes = applyAll(year());
    expect(hashes.get(stateKeys.disclosureMembers(DEHONG, '2025', MEMBER_KINDS.insured))).toEqual({
      [A]: '0', // corrected down to a partial payment
      [B]: '1', // completed by the correction up
    });
    // Kaifeng-style: paid in 2024 for cover year 2025 is 2025's insured and 2025's income (预收保费).
    const early = applyAll([{ ...premium(C, '2024-11-01', '300.00'), insuranceYear: 2025 }]);
    expect(early.get(stateKeys.disclosureMembers(DEHONG, '2025', MEMBER_KINDS.insured))).toEqual({
      [C]: '1',
    });
    expect(aggregateOf(early, '2025')).toMatchObject({ premiumIncome: '300.00' });
    expect(aggregateOf(early, '2025-01')).toMatchObject({ premiumIncome: '300.00' });
    expect(aggregateOf(early, '2024')).toEqual({});
  });

  it('indexes the periods that have aggregates', () => {
    const hashes = applyAll(year());
    expect(hashes.get(periodIndexKey(DEHONG))).toEqual({
      '2025-03': 'MONTH',
      '2025-04': 'MONTH',
      '2025-05': 'MONTH',
      '2025-06': 'MONTH',
      '2025-Q1': 'QUARTER',
      '2025-Q2': 'QUARTER',
      '2025': 'YEAR',
    });
  });

  it('is deterministic and order-independent for the totals', () => {
    const postings = year();
    const forward = applyAll(postings);
    const backward = applyAll([...postings].reverse());
    for (const period of ['2025', '2025-Q1', '2025-Q2', '2025-03'])
      expect(aggregateOf(backward, period)).toEqual(aggregateOf(forward, period));
    expect(applyAll(postings)).toEqual(forward);
  });

  it('reads the state keys it writes to, and names no key for a posting that adds nothing', () => {
    const claim = settlement(A, '2025-03-20', '10.00');
    expect(disclosureAggregation.stateKeys(claim)).toEqual([
      stateKeys.disclosureAggregate(DEHONG, '2025-03'),
      stateKeys.disclosureAggregate(DEHONG, '2025-Q1'),
      stateKeys.disclosureAggregate(DEHONG, '2025'),
      stateKeys.disclosureMembers(DEHONG, '2025-03', 'beneficiaries'),
      stateKeys.disclosureMembers(DEHONG, '2025-Q1', 'beneficiaries'),
      stateKeys.disclosureMembers(DEHONG, '2025', 'beneficiaries'),
    ]);
    expect(disclosureAggregation.eventId(claim)).toBe(claim.postingId);
    const view: StateView = { hash: () => ({}) };
    const nothing = disclosureAggregation.decide(hospitalMonth('2025-04-10', '1.00'), view, context);
    expect(nothing).toEqual({ ok: true, value: { outputs: [], writes: [] } });
  });

  it('refuses other records and malformed pseudonyms, never echoing the value', () => {
    const parse = (value: DecodedValue) =>
      disclosureAggregation.parse(value, {
        pseudonymKey: Buffer.alloc(32) as never,
        receivedOn: '2025-01-01',
      });
    const other = parse({ record: 'operating-cost', value: avroSamples['operating-cost'], schemaId: 2 });
    expect(other.ok ? null : other.error.code).toBe('UNEXPECTED_RECORD');
    const leaked = parse({
      record: 'ledger-posting',
      value: { ...premium(A, '2025-01-01', '1.00'), memberPseudonym: '11010519491231002X' },
      schemaId: 1,
    });
    expect(leaked.ok ? null : leaked.error).toMatchObject({
      code: 'PSEUDONYM_FORMAT',
      field: 'memberPseudonym',
    });
    expect(JSON.stringify(leaked)).not.toContain('11010519491231002X');
  });

  it('reads back what it writes', () => {
    const hashes = applyAll(year());
    const totals = readAggregate(aggregateOf(hashes, '2025'));
    expect(totals.premiumIncome.toFixed(2)).toBe('1800.00');
    expect(totals.visits).toBe(2);
    expect(() => readAggregate({ premiumIncome: 'lots' })).toThrow(/not money/);
  });
});

describe('premiums received in advance (预收保费)', () => {
  it('Kaifeng art. 8: a premium collected in 2024 for 2025 counts from 1 January 2025', () => {
    const base = { kind: 'PREMIUM_COLLECTED', insuranceYear: 2025 } as const;
    expect(recognitionDate({ ...base, postingDate: '2024-09-15' } as LedgerPosting)).toBe('2025-01-01');
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
