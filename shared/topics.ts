import type { HubConfig } from './config.js';
import { type InvalidInput, invalidInput } from './errors.js';
import type { SchemaName } from './records.js';

/**
 * Every topic the hub uses: its name, what its value carries, its key, partitions and config.
 * `npx hub topics create` creates them (idempotently) and registers each value schema under
 * `<topic>-value` with its compatibility (BACKWARD, or FULL for the agencies' input topics). A topic that carries an event and its reversal holds
 * both record types (an Avro union), so the two stay in order in one partition.
 */
export interface TopicSpec {
  readonly name: string;
  /** The value schema: one record, or a union of these records in this order. */
  readonly records: readonly SchemaName[];
  /** What the producer puts in the key, and why. */
  readonly key: string;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
  /**
   * BACKWARD for what the hub writes (its consumers upgrade first). FULL (BACKWARD and FORWARD) for the
   * input topics, whose producers are outside agencies that upgrade on their own: a producer that
   * drops a required field would otherwise have every new record dead-lettered by the hub.
   */
  readonly compatibility: 'BACKWARD' | 'FULL';
  readonly doc: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
// Dead letters wait for an operator to look, fix and redrive: a whole insurance year plus the 31 March deadline.
const DEAD_LETTER_RETENTION = { 'cleanup.policy': 'delete', 'retention.ms': String(400 * DAY_MS) };
// The ledger is the system of record: append-only, never compacted, never expired.
const FOREVER = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };

// A changelog holds each field's latest text: compaction keeps it bounded by the state, not the history.
const COMPACTED = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(DAY_MS) };

/** The catalogue of one hub: every name carries its namespace. Build it once, from the start-up config. */
export function topicsFor(config: HubConfig) {
  const { namespace } = config;
  /**
   * The input topics carry national IDs. Once a message is on the journal (pseudonymised, kept forever)
   * the hub never reads it again, so they are kept only as long as an operator may want to look back.
   * A refused message waits in its dead-letter topic instead.
   */
  const inputRetention = {
    'cleanup.policy': 'delete',
    'retention.ms': String(config.inputRetentionDays * DAY_MS),
  };
  const deadLetters = (service: string): TopicSpec => ({
    name: `${namespace}.${service}.dead-letter.v1`,
    records: ['dead-letter'],
    key: 'the original key',
    partitions: 1,
    config: DEAD_LETTER_RETENTION,
    compatibility: 'BACKWARD',
    doc: `input ${service} refused, with the original bytes and the precise reason`,
  });
  /** A stateful service's state on Kafka, one partition per input partition (shared/runner/changelog.ts). */
  const changelog = (service: string, input: { partitions: number }): TopicSpec => ({
    name: `${namespace}.${service}.changelog.v1`,
    records: ['state-change'],
    key: '[entity, field] as JSON: compaction keeps the latest text of each field; a deleted field is a tombstone',
    partitions: input.partitions,
    config: COMPACTED,
    compatibility: 'BACKWARD',
    doc: `${service}'s Redis state, field by field, written in the transaction of each chunk: what \`hub rebuild\` restores Redis from`,
  });
  const inputs = { journal: { partitions: 6 }, ledger: { partitions: 6 }, hospitalMonth: { partitions: 6 } };
  return {
    taxPremium: {
      name: `${namespace}.tax.premium.v1`,
      records: ['premium-collected', 'premium-correction', 'premium-collection-closed'],
      key: "the member's national ID (input topics only; it orders a member's payments and corrections); the region code for an end-of-collection notice",
      partitions: 6,
      config: inputRetention,
      compatibility: 'FULL',
      doc: 'tax authority → fund: premium collections (征缴) and their corrections (冲正)',
    },
    hospitalSettlement: {
      name: `${namespace}.hospital.settlement.v1`,
      records: ['hospital-settlement', 'hospital-settlement-reversal'],
      key: "the member's national ID (input topics only; it orders a member's settlements and reversals)",
      partitions: 6,
      config: inputRetention,
      compatibility: 'FULL',
      doc: 'hospitals → fund: direct settlements at the window and their reversals (退费/冲销)',
    },
    insurerPayout: {
      name: `${namespace}.insurer.payout.v1`,
      records: ['insurer-monthly-settlement', 'manual-reimbursement', 'operating-cost'],
      key: 'hospital code for monthly settlements, national ID for manual claims, region for operating costs',
      partitions: 6,
      config: inputRetention,
      compatibility: 'FULL',
      doc: 'insurer → fund: monthly settlements with hospitals, manual reimbursements, operating costs',
    },
    journal: {
      name: `${namespace}.fund.journal.v1`,
      records: [
        'journal-premium-collected',
        'journal-premium-corrected',
        'journal-collection-closed',
        'journal-settlement',
        'journal-settlement-reversal',
        'journal-manual-claim',
        'journal-hospital-payout',
        'journal-operating-cost',
      ],
      key: "member pseudonym for a member's facts (so each member's facts are decided in one order), else hospital code, else region code; an end-of-collection notice is copied to every partition",
      partitions: inputs.journal.partitions,
      config: FOREVER,
      compatibility: 'BACKWARD',
      doc: 'accepted facts from the three input topics, pseudonymised: what accounting decides from, in one order per member (kept forever: Redis state is rebuilt from it)',
    },
    ledger: {
      name: `${namespace}.fund.ledger.v1`,
      records: ['ledger-posting'],
      key: 'member pseudonym when the posting concerns a member, else hospital code, else region code',
      partitions: inputs.ledger.partitions,
      config: FOREVER,
      compatibility: 'BACKWARD',
      doc: "the fund's double-entry ledger: the system of record",
    },
    reconciliation: {
      name: `${namespace}.reconciliation.v1`,
      records: ['reconciliation-result'],
      key: 'item id: every update of an item lands in one partition, in order',
      partitions: 3,
      config: { 'cleanup.policy': 'delete', 'retention.ms': String(800 * DAY_MS) },
      compatibility: 'BACKWARD',
      doc: 'reconciliation results and open items, for operations staff',
    },
    hospitalMonth: {
      name: `${namespace}.reconciler.hospital-month.v1`,
      records: ['hospital-month-change'],
      key: 'hospital code: a hospital-month is reconciled in one partition, whichever members its claims came from',
      partitions: inputs.hospitalMonth.partitions,
      config: FOREVER,
      compatibility: 'BACKWARD',
      doc: "the ledger's hospital-month figures re-keyed by hospital (reconciler → hospital-reconciler)",
    },
    disclosure: {
      name: `${namespace}.disclosure.v1`,
      records: ['public-disclosure'],
      key: 'region code: one hash chain per region',
      partitions: 1,
      config: FOREVER,
      compatibility: 'BACKWARD',
      doc: 'signed, hash-chained public disclosures',
    },
    premiumDeadLetters: deadLetters('premium-ingest'),
    settlementDeadLetters: deadLetters('settlement-ingest'),
    payoutDeadLetters: deadLetters('payout-ingest'),
    accountingDeadLetters: deadLetters('accounting'),
    reconcilerDeadLetters: deadLetters('reconciler'),
    hospitalReconcilerDeadLetters: deadLetters('hospital-reconciler'),
    disclosureDeadLetters: deadLetters('disclosure'),
    accountingChangelog: changelog('accounting', inputs.journal),
    reconcilerChangelog: changelog('reconciler', inputs.ledger),
    hospitalReconcilerChangelog: changelog('hospital-reconciler', inputs.hospitalMonth),
    disclosureChangelog: changelog('disclosure', inputs.ledger),
  } as const satisfies Record<string, TopicSpec>;
}

/** The catalogue's shape: one TopicSpec per id, the same ids in every namespace. */
export type Topics = ReturnType<typeof topicsFor>;

export type TopicId = keyof Topics;

/** Every topic of the catalogue, in its order. */
export const allTopics = (topics: Topics): readonly TopicSpec[] => Object.values(topics);

export const subjectFor = (topic: TopicSpec): string => `${topic.name}-value`;

/** A record the topic does not carry (or not to this consumer): refused on the record's value. */
export function unexpectedRecord(topic: TopicSpec, record: string | undefined): InvalidInput {
  return invalidInput(
    'UNEXPECTED_RECORD',
    'value',
    `${topic.name} carries ${topic.records.join(', ')}`,
    record,
  );
}
