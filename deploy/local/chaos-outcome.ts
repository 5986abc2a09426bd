import { Decimal, formatMoney } from '../../shared/money.js';
import type {
  DeadLetter,
  LedgerPosting,
  PublicDisclosure,
  ReconciliationResult,
} from '../../shared/records.js';

/**
 * What a processed year comes to, as plain JSON, and the comparison of two of them: pure, so the chaos
 * run's verdict is tested on hand-built outcomes. The fault-free run's outcome is the oracle of the
 * faulted run's.
 */

export interface Outcome {
  /** `account|region|year` → the balance, debits minus credits, over every posting read (copies too). */
  readonly balances: Readonly<Record<string, string>>;
  /**
   * Reconciliation item id → `status expected actual` of its latest result: hospital-month and
   * manual-claim items, and member-year items left open. A closed member-year item's amounts are a
   * snapshot of when it closed, which depends on the order the services saw the year in, even without
   * faults; the year test compares the same set.
   */
  readonly items: Readonly<Record<string, string>>;
  /** `region:period` → the figures of its latest disclosure (without the chain fields). */
  readonly disclosures: Readonly<Record<string, Readonly<Record<string, string | number | boolean | null>>>>;
  readonly counts: Counts;
  /** Input messages (`topic:partition:offset`) that did not end as exactly one posting, dead letter or notice. */
  readonly notAccountedOnce: readonly string[];
  /** What `hub disclosure verify` said: [] when the chain verifies. */
  readonly chainProblems: readonly string[];
}

export interface Counts {
  /** Messages the run published to the three input topics. */
  readonly published: number;
  /** Messages on the three input topics (read committed): must be as many as were published. */
  readonly inputs: number;
  /** Of them, end-of-collection notices (copied to every journal partition, booked as no posting). */
  readonly notices: number;
  /** Ledger postings that are an event's own (revision 0). */
  readonly ownPostings: number;
  /** `service:code` → distinct dead letters of the ingest services and accounting, journal copies' aside. */
  readonly deadLetters: Readonly<Record<string, number>>;
  /** Posting ids read more than once. */
  readonly repeatedPostingIds: readonly string[];
  /** Shown, not compared: every posting read with its later revisions (releases depend on arrival order). */
  readonly postings: number;
  /**
   * Shown, not compared: journal records that repeat another's input (an ingest chunk written again, e.g.
   * after a retried transaction or when its instance lost its partitions: kafkajs has no KIP-447
   * fencing). Accounting books an event once; a dead letter such a copy gets is set aside here.
   */
  readonly journalCopies: number;
  /** Shown, not compared: dead letters read twice for the same record (the same bytes written again). */
  readonly deadLetterCopies: number;
}

/** Where one journal record came from, and whether it is an end-of-collection notice. */
export interface JournalEntry {
  readonly partition: number;
  readonly offset: number;
  readonly origin: { readonly topic: string; readonly partition: number; readonly offset: number };
  readonly notice: boolean;
}

export interface Difference {
  readonly what: string;
  readonly expected: string;
  readonly actual: string;
}

const CHAIN_FIELDS = new Set([
  'sequence',
  'correction',
  'supersedesSequence',
  'changes',
  'publishedAt',
  'previousHash',
  'hash',
  'signingKeyId',
  'signature',
]);

export interface RunRecords {
  readonly ledger: readonly LedgerPosting[];
  readonly results: readonly ReconciliationResult[];
  readonly disclosures: readonly PublicDisclosure[];
  /** Dead letters of the three ingest services (their input's coordinates) and of accounting (the journal's). */
  readonly deadLetters: readonly DeadLetter[];
  readonly journalTopic: string;
  readonly journal: readonly JournalEntry[];
  /** Input topic → where each committed input message is. */
  readonly inputs: Readonly<
    Record<string, readonly { readonly partition: number; readonly offset: number }[]>
  >;
  /** How many messages the run published to the input topics. */
  readonly published: number;
  readonly chainProblems: readonly string[];
}

/** Builds an outcome from what a run's topics hold. */
export function outcomeOf(input: RunRecords): Outcome {
  const balances = new Map<string, Decimal>();
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const posting of input.ledger) {
    if (seen.has(posting.postingId)) repeated.add(posting.postingId);
    seen.add(posting.postingId);
    for (const line of posting.lines) {
      const key = `${line.account}|${posting.regionCode}|${posting.insuranceYear}`;
      const signed = line.direction === 'DEBIT' ? line.amount : line.amount.negated();
      balances.set(key, (balances.get(key) ?? new Decimal(0)).plus(signed));
    }
  }
  const items = new Map<string, ReconciliationResult>();
  for (const result of input.results) items.set(result.itemId, result);
  const disclosures = new Map<string, PublicDisclosure>();
  for (const d of input.disclosures) disclosures.set(`${d.regionCode}:${d.periodLabel}`, d);

  // Every input message's fate: its ingest dead letter, or its journal record's posting or dead letter.
  const coords = (topic: string, partition: number, offset: number) => `${topic}:${partition}:${offset}`;
  const originOf = new Map<string, string>();
  const firstJournalOf = new Map<string, string>();
  const copies = new Set<string>();
  const fates = new Map<string, number>();
  const addFate = (key: string | undefined) => {
    if (key !== undefined) fates.set(key, (fates.get(key) ?? 0) + 1);
  };
  let notices = 0;
  for (const entry of input.journal) {
    const here = coords(input.journalTopic, entry.partition, entry.offset);
    const origin = coords(entry.origin.topic, entry.origin.partition, entry.origin.offset);
    originOf.set(here, origin);
    if (entry.notice) {
      // One notice, copied to every journal partition by design: one fate.
      if (!firstJournalOf.has(origin)) {
        notices += 1;
        addFate(origin);
      }
      firstJournalOf.set(origin, here);
      continue;
    }
    if (firstJournalOf.has(origin)) copies.add(here);
    else firstJournalOf.set(origin, here);
  }
  const deadLetters: Record<string, number> = {};
  const letters = new Set<string>();
  let deadLetterCopies = 0;
  for (const letter of input.deadLetters) {
    const at = coords(letter.topic, letter.partition, letter.offset);
    const id = `${letter.service}:${letter.errorCode}:${at}`;
    if (letters.has(id)) {
      deadLetterCopies += 1;
      continue;
    }
    letters.add(id);
    if (copies.has(at)) continue;
    const key = `${letter.service}:${letter.errorCode}`;
    deadLetters[key] = (deadLetters[key] ?? 0) + 1;
    addFate(letter.topic === input.journalTopic ? (originOf.get(at) ?? at) : at);
  }
  const own = input.ledger.filter((p) => p.revision === 0);
  const ownSeen = new Set<string>();
  for (const posting of own) {
    if (ownSeen.has(posting.postingId)) continue;
    ownSeen.add(posting.postingId);
    const at = coords(posting.sourceTopic, posting.sourcePartition, posting.sourceOffset);
    addFate(originOf.get(at) ?? at);
  }
  const notAccountedOnce: string[] = [];
  let inputs = 0;
  for (const [topic, messages] of Object.entries(input.inputs)) {
    for (const { partition, offset } of messages) {
      inputs += 1;
      const key = coords(topic, partition, offset);
      const n = fates.get(key) ?? 0;
      if (n !== 1) notAccountedOnce.push(`${key} (${n === 0 ? 'lost' : `${n} times`})`);
    }
  }

  return {
    // A suspense account that held a claim and released it ends at 0.00, one never used is absent:
    // whether a claim waited for its premium depends on the processing order, the books do not.
    balances: sortedRecord([...balances].filter(([, v]) => !v.isZero()).map(([k, v]) => [k, formatMoney(v)])),
    items: sortedRecord(
      [...items]
        .filter(([, r]) => r.kind !== 'MEMBER_YEAR' || r.status !== 'CLOSED')
        .map(([id, r]) => [id, `${r.status} ${formatMoney(r.expected)} ${formatMoney(r.actual)}`]),
    ),
    disclosures: sortedRecord([...disclosures].map(([k, d]) => [k, figuresOf(d)])),
    counts: {
      published: input.published,
      inputs,
      notices,
      ownPostings: own.length,
      deadLetters: sortedRecord(Object.entries(deadLetters)),
      repeatedPostingIds: [...repeated].sort(),
      postings: input.ledger.length,
      journalCopies: copies.size,
      deadLetterCopies,
    },
    notAccountedOnce,
    chainProblems: [...input.chainProblems],
  };
}

function figuresOf(d: PublicDisclosure): Record<string, string | number | boolean | null> {
  const figures: Record<string, string | number | boolean | null> = {};
  for (const [field, value] of Object.entries(d)) {
    if (CHAIN_FIELDS.has(field)) continue;
    figures[field] =
      value === null || typeof value === 'number' || typeof value === 'boolean'
        ? value
        : Decimal.isDecimal(value)
          ? (value as Decimal).toFixed()
          : String(value);
  }
  return figures;
}

function sortedRecord<T>(entries: [string, T][]): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What must hold of any one run: every input accounted once, no posting twice, the chain verifies. */
export function checkRun(outcome: Outcome, label: string): Difference[] {
  const differences: Difference[] = [];
  if (outcome.counts.inputs !== outcome.counts.published) {
    differences.push({
      what: `${label}: the input topics hold what was published`,
      expected: String(outcome.counts.published),
      actual: String(outcome.counts.inputs),
    });
  }
  if (outcome.notAccountedOnce.length > 0) {
    differences.push({
      what: `${label}: every input message ends as one posting, one dead letter or a notice`,
      expected: 'all of them',
      actual: `${outcome.notAccountedOnce.length} not: ${outcome.notAccountedOnce.slice(0, 3).join(', ')}`,
    });
  }
  const repeated = outcome.counts.repeatedPostingIds;
  if (repeated.length > 0) {
    differences.push({
      what: `${label}: posting ids on the ledger more than once`,
      expected: 'none',
      actual: `${repeated.length} (${repeated.slice(0, 3).join(', ')})`,
    });
  }
  if (outcome.chainProblems.length > 0) {
    differences.push({
      what: `${label}: the disclosure chain verifies`,
      expected: 'no problems',
      actual: outcome.chainProblems.slice(0, 3).join('; '),
    });
  }
  return differences;
}

/** Every difference between the fault-free outcome and the faulted one, field by field. */
export function compareOutcomes(expected: Outcome, actual: Outcome): Difference[] {
  const differences: Difference[] = [];
  const text = (value: unknown) => (value === undefined ? '(missing)' : JSON.stringify(value));
  const compareRecords = (
    what: string,
    a: Readonly<Record<string, unknown>>,
    b: Readonly<Record<string, unknown>>,
  ) => {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const left = a[key];
      const right = b[key];
      if (isPlainRecord(left) && isPlainRecord(right)) compareRecords(`${what} ${key}`, left, right);
      else if (text(left) !== text(right))
        differences.push({ what: `${what} ${key}`, expected: text(left), actual: text(right) });
    }
  };
  compareRecords('balance', expected.balances, actual.balances);
  compareRecords('item', expected.items, actual.items);
  compareRecords('disclosure', expected.disclosures, actual.disclosures);
  const compared = (c: Counts) => ({
    published: c.published,
    inputs: c.inputs,
    notices: c.notices,
    ownPostings: c.ownPostings,
    deadLetters: c.deadLetters,
  });
  compareRecords('count', compared(expected.counts), compared(actual.counts));
  // What must hold of each run first: a long list of figures that follow from it comes after.
  return [...checkRun(expected, 'fault-free run'), ...checkRun(actual, 'faulted run'), ...differences];
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
