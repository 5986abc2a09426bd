import { describe, expect, it } from 'vitest';
import {
  checkRun,
  compareOutcomes,
  type JournalEntry,
  type Outcome,
  outcomeOf,
  type RunRecords,
} from '../../../deploy/local/chaos-outcome.js';
import { Decimal } from '../../../shared/money.js';
import type {
  DeadLetter,
  LedgerPosting,
  PublicDisclosure,
  ReconciliationResult,
} from '../../../shared/records.js';

// Hand-built outcomes: every figure below is written out here, none is computed by the code under test.

const base: Outcome = {
  balances: { 'FUND_BANK|533100|2025': '180.00', 'PREMIUM_INCOME|533100|2025': '-180.00' },
  items: { 'HOSPITAL_MONTH:533100:H1:2025-01': 'MATCHED 900.00 900.00' },
  disclosures: { '533100:2025': { premiumIncome: '180', visits: null, insuredPersons: 12 } },
  counts: {
    published: 4,
    inputs: 4,
    notices: 1,
    ownPostings: 2,
    deadLetters: { 'settlement-ingest:NOT_AVRO': 1 },
    repeatedPostingIds: [],
    postings: 3,
    journalCopies: 0,
    deadLetterCopies: 0,
  },
  notAccountedOnce: [],
  chainProblems: [],
};

const changed = (patch: (o: Outcome) => Outcome) => patch(structuredClone(base));

describe('comparing a faulted run with the fault-free one', () => {
  it('finds nothing when they are the same', () => {
    expect(compareOutcomes(base, structuredClone(base))).toEqual([]);
  });

  it.each<[string, Outcome, RegExp]>([
    [
      'a balance',
      changed((o) => ({ ...o, balances: { ...o.balances, 'FUND_BANK|533100|2025': '180.01' } })),
      /^balance FUND_BANK\|533100\|2025$/,
    ],
    [
      'a missing balance',
      changed((o) => ({ ...o, balances: { 'FUND_BANK|533100|2025': '180.00' } })),
      /^balance PREMIUM_INCOME/,
    ],
    [
      'an item status',
      changed((o) => ({ ...o, items: { 'HOSPITAL_MONTH:533100:H1:2025-01': 'DISCREPANCY 900.00 900.00' } })),
      /^item HOSPITAL_MONTH/,
    ],
    [
      'an item amount',
      changed((o) => ({ ...o, items: { 'HOSPITAL_MONTH:533100:H1:2025-01': 'MATCHED 900.00 899.99' } })),
      /^item HOSPITAL_MONTH/,
    ],
    [
      'an extra item',
      changed((o) => ({ ...o, items: { ...o.items, 'MANUAL_CLAIM:533100:C1': 'OPEN 1.00 0.00' } })),
      /^item MANUAL_CLAIM/,
    ],
    [
      'a disclosure figure',
      changed((o) => ({
        ...o,
        disclosures: { '533100:2025': { premiumIncome: '179', visits: null, insuredPersons: 12 } },
      })),
      /^disclosure 533100:2025 premiumIncome$/,
    ],
    [
      'a withheld count that is now shown',
      changed((o) => ({
        ...o,
        disclosures: { '533100:2025': { premiumIncome: '180', visits: 3, insuredPersons: 12 } },
      })),
      /^disclosure 533100:2025 visits$/,
    ],
    [
      'the number of messages published',
      changed((o) => ({ ...o, counts: { ...o.counts, published: 5, inputs: 5 } })),
      /^count (published|inputs)$/,
    ],
    [
      'messages lost before the hub saw them',
      changed((o) => ({ ...o, counts: { ...o.counts, inputs: 3 } })),
      /^(count inputs|faulted run: the input topics hold what was published)$/,
    ],
    [
      'the number of own postings',
      changed((o) => ({ ...o, counts: { ...o.counts, ownPostings: 3 } })),
      /^count ownPostings$/,
    ],
    ['the notices', changed((o) => ({ ...o, counts: { ...o.counts, notices: 0 } })), /^count notices$/],
    [
      'the dead letters of one code',
      changed((o) => ({ ...o, counts: { ...o.counts, deadLetters: { 'settlement-ingest:NOT_AVRO': 2 } } })),
      /^count deadLetters settlement-ingest:NOT_AVRO$/,
    ],
    [
      'a dead letter of another code',
      changed((o) => ({
        ...o,
        counts: { ...o.counts, deadLetters: { ...o.counts.deadLetters, 'accounting:DUPLICATE_EVENT': 1 } },
      })),
      /^count deadLetters accounting:DUPLICATE_EVENT$/,
    ],
    [
      'a posting id twice',
      changed((o) => ({ ...o, counts: { ...o.counts, repeatedPostingIds: ['P-1'] } })),
      /^faulted run: posting ids on the ledger more than once$/,
    ],
    [
      'an input not accounted once',
      changed((o) => ({ ...o, notAccountedOnce: ['t:0:3 (lost)'] })),
      /^faulted run: every input message ends as one/,
    ],
    [
      'a chain that does not verify',
      changed((o) => ({ ...o, chainProblems: ['533100 #2: hash does not match'] })),
      /^faulted run: the disclosure chain verifies$/,
    ],
  ])('reports %s', (_what, actual, pattern) => {
    const differences = compareOutcomes(base, actual);
    expect(differences.length).toBeGreaterThan(0);
    for (const d of differences) expect(d.what).toMatch(pattern);
  });

  it('says what was expected and what came', () => {
    const [difference] = compareOutcomes(
      base,
      changed((o) => ({ ...o, counts: { ...o.counts, ownPostings: 5 } })),
    );
    expect(difference).toEqual({ what: 'count ownPostings', expected: '2', actual: '5' });
  });

  it('does not compare what depends on arrival order: revisions, journal copies, dead letters written twice', () => {
    const actual = changed((o) => ({
      ...o,
      counts: { ...o.counts, postings: 9, journalCopies: 2, deadLetterCopies: 1 },
    }));
    expect(compareOutcomes(base, actual)).toEqual([]);
  });

  it('also checks the fault-free run on its own', () => {
    const broken = changed((o) => ({ ...o, chainProblems: ['bad signature'] }));
    expect(compareOutcomes(broken, broken).map((d) => d.what)).toEqual([
      'fault-free run: the disclosure chain verifies',
      'faulted run: the disclosure chain verifies',
    ]);
  });
});

// ─── From the records of a run ───────────────────────────────────────────────────────────────────

const JOURNAL = 'ns.fund.journal.v1';
const SETTLEMENTS = 'ns.hospital.settlement.v1';
const PREMIUMS = 'ns.tax.premium.v1';

function posting(id: string, journalOffset: number, revision: number, amount: string): LedgerPosting {
  return {
    postingId: id,
    sourceEventId: id,
    sourceTopic: JOURNAL,
    sourcePartition: 0,
    sourceOffset: journalOffset,
    regionCode: '533100',
    insuranceYear: 2025,
    postingDate: '2025-03-01',
    kind: 'PREMIUM_COLLECTED',
    lines: [
      { account: 'FUND_BANK', direction: 'DEBIT', amount: new Decimal(amount) },
      { account: 'PREMIUM_INCOME', direction: 'CREDIT', amount: new Decimal(amount) },
    ],
    memberPseudonym: null,
    hospitalCode: null,
    serviceDate: null,
    claimedAmount: null,
    dueAmount: null,
    varianceAmount: null,
    policyVersion: null,
    description: null,
    sequence: 1,
    revision,
    relatedPostingId: null,
    causeEventId: null,
    causeDate: null,
    settlementIds: [],
    receivedOn: null,
  } as unknown as LedgerPosting;
}

const letter = (service: string, code: string, topic: string, offset: number) =>
  ({ service, errorCode: code, topic, partition: 0, offset }) as unknown as DeadLetter;

const entry = (offset: number, origin: [string, number], notice = false): JournalEntry => ({
  partition: 0,
  offset,
  origin: { topic: origin[0], partition: 0, offset: origin[1] },
  notice,
});

const result = (itemId: string, kind: string, status: string, expected: string, actual: string) =>
  ({
    itemId,
    kind,
    status,
    expected: new Decimal(expected),
    actual: new Decimal(actual),
  }) as unknown as ReconciliationResult;

/**
 * The premium topic: premiums at offsets 0 and 1 (journal 0 and 1, both posted), a notice at 2. The
 * settlement topic: offset 0 not Avro (dead-lettered by ingest), offset 1 journalled at 3 and refused by
 * accounting. Five inputs, each ending once.
 */
const records = (over: Partial<RunRecords> = {}): RunRecords => ({
  ledger: [posting('P-1', 0, 0, '180.00'), posting('P-2', 1, 0, '120.00'), posting('P-2-R1', 1, 1, '0.00')],
  results: [
    result('HOSPITAL_MONTH:533100:H1:2025-01', 'HOSPITAL_MONTH', 'OPEN', '900.00', '0.00'),
    result('HOSPITAL_MONTH:533100:H1:2025-01', 'HOSPITAL_MONTH', 'MATCHED', '900.00', '900.00'),
    result('MEMBER_YEAR:533100:m_1:2025', 'MEMBER_YEAR', 'CLOSED', '10.00', '12.00'),
    result('MEMBER_YEAR:533100:m_2:2025', 'MEMBER_YEAR', 'OPEN', '5.00', '0.00'),
  ],
  disclosures: [],
  deadLetters: [
    letter('settlement-ingest', 'NOT_AVRO', SETTLEMENTS, 0),
    letter('accounting', 'UNKNOWN_SETTLEMENT', JOURNAL, 3),
  ],
  journalTopic: JOURNAL,
  journal: [
    entry(0, [PREMIUMS, 0]),
    entry(1, [PREMIUMS, 1]),
    entry(2, [PREMIUMS, 2], true),
    entry(3, [SETTLEMENTS, 1]),
  ],
  inputs: {
    [PREMIUMS]: [0, 1, 2].map((offset) => ({ partition: 0, offset })),
    [SETTLEMENTS]: [0, 1].map((offset) => ({ partition: 0, offset })),
  },
  published: 5,
  chainProblems: [],
  ...over,
});

describe('the outcome of a run', () => {
  it('sums the balances, keeps the latest item results and accounts every input once', () => {
    const outcome = outcomeOf(records());
    expect(outcome.balances).toEqual({
      'FUND_BANK|533100|2025': '300.00',
      'PREMIUM_INCOME|533100|2025': '-300.00',
    });
    expect(outcome.items).toEqual({
      'HOSPITAL_MONTH:533100:H1:2025-01': 'MATCHED 900.00 900.00',
      'MEMBER_YEAR:533100:m_2:2025': 'OPEN 5.00 0.00',
    });
    expect(outcome.counts).toMatchObject({ inputs: 5, notices: 1, ownPostings: 2, postings: 3 });
    expect(outcome.counts.deadLetters).toEqual({
      'accounting:UNKNOWN_SETTLEMENT': 1,
      'settlement-ingest:NOT_AVRO': 1,
    });
    expect(outcome.notAccountedOnce).toEqual([]);
    expect(checkRun(outcome, 'run')).toEqual([]);
  });

  it('treats an account that came back to 0.00 as one never used (a claim held, then released)', () => {
    // Held: 500.00 into COVER_PENDING_SUSPENSE; released: the same 500.00 out again, in another posting.
    const held = posting('P-9', 0, 0, '500.00');
    const release = posting('P-9r', 0, 1, '500.00');
    const ledger = [
      ...records().ledger,
      { ...held, lines: [held.lines[0], { ...held.lines[1], account: 'COVER_PENDING_SUSPENSE' }] },
      {
        ...release,
        lines: [
          { ...release.lines[0], account: 'COVER_PENDING_SUSPENSE' },
          { ...release.lines[1], account: 'FUND_BANK' },
        ],
      },
    ] as LedgerPosting[];
    const outcome = outcomeOf(records({ ledger }));
    expect(Object.keys(outcome.balances)).not.toContain('COVER_PENDING_SUSPENSE|533100|2025');
    expect(outcome.balances['FUND_BANK|533100|2025']).toBe('300.00');
  });

  it('finds a lost input and one booked twice', () => {
    const lost = outcomeOf(records({ ledger: [posting('P-1', 0, 0, '180.00')] }));
    expect(lost.notAccountedOnce).toEqual([`${PREMIUMS}:0:1 (lost)`]);
    const twice = outcomeOf(
      records({
        deadLetters: [...records().deadLetters, letter('premium-ingest', 'ID_CHECKSUM', PREMIUMS, 0)],
      }),
    );
    expect(twice.notAccountedOnce).toEqual([`${PREMIUMS}:0:0 (2 times)`]);
  });

  it('counts a posting read twice, in the balances too', () => {
    const outcome = outcomeOf(records({ ledger: [...records().ledger, posting('P-1', 0, 0, '180.00')] }));
    expect(outcome.counts.repeatedPostingIds).toEqual(['P-1']);
    expect(outcome.balances['FUND_BANK|533100|2025']).toBe('480.00');
    expect(checkRun(outcome, 'run').map((d) => d.what)).toEqual([
      'run: posting ids on the ledger more than once',
    ]);
  });

  it('sets a journal copy and its duplicate dead letter aside, and a dead letter written twice', () => {
    const outcome = outcomeOf(
      records({
        journal: [...records().journal, entry(4, [PREMIUMS, 1])],
        deadLetters: [
          ...records().deadLetters,
          letter('accounting', 'DUPLICATE_EVENT', JOURNAL, 4),
          letter('settlement-ingest', 'NOT_AVRO', SETTLEMENTS, 0),
        ],
      }),
    );
    expect(outcome.counts).toMatchObject({ journalCopies: 1, deadLetterCopies: 1 });
    expect(outcome.counts.deadLetters).toEqual({
      'accounting:UNKNOWN_SETTLEMENT': 1,
      'settlement-ingest:NOT_AVRO': 1,
    });
    expect(outcome.notAccountedOnce).toEqual([]);
  });

  it('takes the figures of the latest disclosure of a period, without its chain fields', () => {
    const disclosure = (sequence: number, premiumIncome: string) =>
      ({
        regionCode: '533100',
        periodLabel: '2025',
        sequence,
        hash: `h${sequence}`,
        signature: 's',
        premiumIncome: new Decimal(premiumIncome),
        visits: null,
      }) as unknown as PublicDisclosure;
    const outcome = outcomeOf(records({ disclosures: [disclosure(1, '100'), disclosure(2, '180.5')] }));
    expect(outcome.disclosures).toEqual({
      '533100:2025': { regionCode: '533100', periodLabel: '2025', premiumIncome: '180.5', visits: null },
    });
  });
});
