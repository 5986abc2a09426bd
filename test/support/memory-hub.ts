import { createHash } from 'node:crypto';
import { hubServices } from '../../services/catalogue.js';
import { aggregateId, PERIOD_AGGREGATE, type PeriodAggregate } from '../../services/disclosure/aggregate.js';
import { decodeRecord, encodeRecord } from '../../shared/avro.js';
import { invalidInput } from '../../shared/errors.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { formatMoney, type Money, ZERO } from '../../shared/money.js';
import { chinaDateOf } from '../../shared/policy/dates.js';
import type {
  LedgerPosting,
  ReconciliationResult,
  RecordBySchemaName,
  SchemaName,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import type { EntityKind, EntityPeek, EntityStore, Output, Service } from '../../shared/runner/service.js';
import type { TopicSpec } from '../../shared/topics.js';
import { DEFAULT_TOPICS as TOPICS } from './config.js';

/**
 * The whole hub in memory, for unit tests: every service's own parse and decide, each partition with a
 * store that keeps entities as their codecs write them, records routed to partitions by key as Kafka
 * would, and an explicit order in which each stage consumes its input. No Kafka, registry or Redis.
 */

/** A record as an agency publishes it, or bytes that are not Avro. */
export type InputEvent =
  | {
      readonly topic: TopicSpec;
      readonly key: string;
      readonly record: SchemaName;
      readonly value: unknown;
      readonly timestamp?: number;
    }
  | { readonly topic: TopicSpec; readonly key: string; readonly bytes: Buffer; readonly timestamp?: number };

interface Message {
  readonly key: string;
  readonly decoded: DecodedValue | undefined;
  readonly offset: number;
  readonly timestamp: number;
  /** The published input event it comes from (its position in the events given). */
  readonly index: number;
}

interface Published {
  readonly output: Output;
  readonly index: number;
}

/** One stage: a service, its input partitions, a store per partition, and what it refused. */
class Stage<I> {
  readonly partitions: Message[][];
  private readonly positions: number[];
  readonly stores: PartitionStore[];
  readonly refused: Array<{ code: string; field: string; index: number }> = [];
  readonly outputs: Published[] = [];

  constructor(
    readonly service: Service<I>,
    partitions: number,
  ) {
    this.partitions = Array.from({ length: partitions }, () => []);
    this.positions = Array.from({ length: partitions }, () => 0);
    this.stores = Array.from({ length: partitions }, () => new PartitionStore());
  }

  append(partition: number, message: Omit<Message, 'offset'>): void {
    const log = this.partitions[partition] as Message[];
    log.push({ ...message, offset: log.length });
  }

  pending(partition: number): number {
    return (this.partitions[partition] as Message[]).length - (this.positions[partition] as number);
  }

  /** Consumes up to `count` messages of one partition; returns what the decisions published. */
  consume(partition: number, count = Number.POSITIVE_INFINITY): Published[] {
    const log = this.partitions[partition] as Message[];
    const published: Published[] = [];
    while (count-- > 0 && (this.positions[partition] as number) < log.length) {
      const message = log[this.positions[partition] as number] as Message;
      this.positions[partition] = (this.positions[partition] as number) + 1;
      for (const output of this.decide(partition, message)) published.push({ output, index: message.index });
    }
    this.outputs.push(...published);
    return published;
  }

  private decide(partition: number, message: Message): Output[] {
    const source = { topic: this.service.input.name, partition, offset: String(message.offset) };
    const refuse = (e: { code: string; field: string }) => {
      this.refused.push({ code: e.code, field: e.field, index: message.index });
      return [];
    };
    if (message.decoded === undefined) return refuse(invalidInput('NOT_AVRO', 'value', 'not Avro'));
    const receivedOn = chinaDateOf(message.timestamp);
    const parsed = this.service.parse(message.decoded, {
      pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
      receivedOn,
      source,
      timestamp: message.timestamp,
    });
    if (!parsed.ok) return refuse(parsed.error);
    const store = this.stores[partition] as PartitionStore;
    const work = store.begin();
    const decision = this.service.decide(parsed.value, work, {
      source,
      receivedOn,
      partitionsOf: (topic) => partitionsOf(topic),
    });
    if (!decision.ok) return refuse(decision.error);
    const outputs = decision.value.outputs();
    store.commit(work);
    return [...outputs];
  }
}

/** Entities of one partition, each kept as the hash fields its kind encodes (so every value round-trips). */
class PartitionStore implements EntityPeek {
  readonly hashes = new Map<string, Record<string, string>>();

  private key(kind: EntityKind<unknown>, id: string) {
    return `${kind.name}:${id}`;
  }

  peek<T>(kind: EntityKind<T>, id: string): T | undefined {
    const fields = this.hashes.get(this.key(kind as EntityKind<unknown>, id));
    return fields === undefined ? undefined : kind.decode(fields, id);
  }

  begin(): EntityStore & { staged: Map<string, Record<string, string>> } {
    const staged = new Map<string, Record<string, string>>();
    return {
      staged,
      get: <T>(kind: EntityKind<T>, id: string): T => {
        const key = this.key(kind as EntityKind<unknown>, id);
        const fields = staged.get(key) ?? this.hashes.get(key);
        return fields === undefined ? kind.empty(id) : kind.decode(fields, id);
      },
      put: <T>(kind: EntityKind<T>, id: string, value: T) => {
        staged.set(this.key(kind as EntityKind<unknown>, id), kind.encode(value));
      },
    };
  }

  commit(work: { staged: Map<string, Record<string, string>> }): void {
    for (const [key, fields] of work.staged) this.hashes.set(key, fields);
  }
}

const PARTITIONS = new Map<string, number>([
  [TOPICS.taxPremium.name, 3],
  [TOPICS.hospitalSettlement.name, 3],
  [TOPICS.insurerPayout.name, 3],
  [TOPICS.journal.name, 4],
  [TOPICS.ledger.name, 4],
  [TOPICS.hospitalMonth.name, 3],
]);
const partitionsOf = (topic: TopicSpec) => PARTITIONS.get(topic.name) ?? 1;

/** Same key, same partition, as Kafka's partitioner does (the hash itself does not matter here). */
function partitionFor(topic: TopicSpec, key: string): number {
  return createHash('md5').update(key).digest().readUInt32BE(0) % partitionsOf(topic);
}

/**
 * The order the ingest services consume their inputs in: a list of [topic, partition] steps, each
 * consuming one message. `publication` follows the events as published; the others put one source far
 * ahead of the others.
 */
export type IngestOrder = 'publication' | 'premiums-first' | 'premiums-last' | 'random';

export interface MemoryHubRun {
  readonly ledger: readonly LedgerPosting[];
  /** The ledger with the published event each posting comes from (a release: the event that caused it). */
  readonly ledgerFrom: ReadonlyArray<{ readonly index: number; readonly posting: LedgerPosting }>;
  readonly results: readonly ReconciliationResult[];
  readonly deadLetters: ReadonlyArray<{ service: string; code: string; field: string; index: number }>;
  /** Journal records written by the ingest services, notices once per partition. */
  readonly journalRecords: number;
  /** Region totals per period label, added over the ledger partitions. */
  totals(region: string, label: string): PeriodAggregate;
}

export function runMemoryHub(events: readonly InputEvent[], order: IngestOrder, seed = 1): MemoryHubRun {
  const services = hubServices(TOPICS);
  const ingest = new Map<string, Stage<unknown>>([
    [TOPICS.taxPremium.name, new Stage(services.premiumIngest as Service<unknown>, 3)],
    [TOPICS.hospitalSettlement.name, new Stage(services.settlementIngest as Service<unknown>, 3)],
    [TOPICS.insurerPayout.name, new Stage(services.payoutIngest as Service<unknown>, 3)],
  ]);
  const accountingStage = new Stage(services.accounting as Service<unknown>, partitionsOf(TOPICS.journal));
  const reconcilerStage = new Stage(services.reconciler as Service<unknown>, partitionsOf(TOPICS.ledger));
  const aggregationStage = new Stage(
    services.disclosureAggregation as Service<unknown>,
    partitionsOf(TOPICS.ledger),
  );
  const hospitalStage = new Stage(
    services.hospitalReconciler as Service<unknown>,
    partitionsOf(TOPICS.hospitalMonth),
  );

  // Publication: each input record lands in its topic's partition, in publication order.
  const published: Array<[string, number]> = [];
  events.forEach((event, i) => {
    const stage = ingest.get(event.topic.name) as Stage<unknown>;
    const partition = partitionFor(event.topic, event.key);
    const decoded =
      'bytes' in event
        ? undefined
        : ({
            record: event.record,
            value: decodeRecord(event.record, encodeRecord(event.record, event.value as never)),
            schemaId: 1,
          } as DecodedValue);
    stage.append(partition, {
      key: event.key,
      decoded,
      timestamp: event.timestamp ?? Date.UTC(2025, 0, 1) + i * 1000,
      index: i,
    });
    published.push([event.topic.name, partition]);
  });

  let journalRecords = 0;
  const route = (published: readonly Published[]) => {
    for (const { output, index } of published) {
      // Through Avro, as over Kafka: a record its schema cannot carry fails here.
      const value = {
        record: output.record,
        value: decodeRecord(output.record, encodeRecord(output.record, output.value as never)),
        schemaId: 1,
      } as DecodedValue;
      const to = (stage: Stage<unknown>, topic: TopicSpec) =>
        stage.append(output.partition ?? partitionFor(topic, output.key), {
          key: output.key,
          decoded: value,
          timestamp: 0,
          index,
        });
      switch (output.topic.name) {
        case TOPICS.journal.name:
          journalRecords += 1;
          to(accountingStage, TOPICS.journal);
          break;
        case TOPICS.ledger.name:
          to(reconcilerStage, TOPICS.ledger);
          to(aggregationStage, TOPICS.ledger);
          break;
        case TOPICS.hospitalMonth.name:
          to(hospitalStage, TOPICS.hospitalMonth);
          break;
        default:
          break;
      }
    }
  };

  // The ingest services' order; downstream stages then run to the end (their books do not depend on it).
  const rng = mulberry32(seed);
  const steps: Array<[string, number]> = [];
  if (order === 'publication') steps.push(...published);
  else {
    const byTopic = (topic: TopicSpec) => published.filter(([t]) => t === topic.name);
    if (order === 'premiums-first')
      steps.push(
        ...byTopic(TOPICS.taxPremium),
        ...byTopic(TOPICS.hospitalSettlement),
        ...byTopic(TOPICS.insurerPayout),
      );
    else if (order === 'premiums-last')
      steps.push(
        ...byTopic(TOPICS.hospitalSettlement),
        ...byTopic(TOPICS.insurerPayout),
        ...byTopic(TOPICS.taxPremium),
      );
    else steps.push(...shuffleKeepingPartitionOrder(published, rng));
  }
  for (const [topic, partition] of steps) {
    const stage = ingest.get(topic) as Stage<unknown>;
    route(stage.consume(partition, 1));
    // Accounting keeps pace with the journal as it comes, in each partition's order.
    for (let p = 0; p < accountingStage.partitions.length; p++) route(accountingStage.consume(p));
  }
  for (let p = 0; p < reconcilerStage.partitions.length; p++) route(reconcilerStage.consume(p));
  for (let p = 0; p < aggregationStage.partitions.length; p++) aggregationStage.consume(p);
  for (let p = 0; p < hospitalStage.partitions.length; p++) route(hospitalStage.consume(p));

  const ledgerFrom = accountingStage.outputs
    .filter((o) => o.output.record === 'ledger-posting')
    .map((o) => ({ index: o.index, posting: o.output.value as LedgerPosting }));
  const results = [...reconcilerStage.outputs, ...hospitalStage.outputs]
    .filter((o) => o.output.record === 'reconciliation-result')
    .map((o) => o.output.value as ReconciliationResult);
  const deadLetters = [
    ...ingest.values(),
    accountingStage,
    reconcilerStage,
    hospitalStage,
    aggregationStage,
  ].flatMap((stage) =>
    stage.refused.map((r) => ({ service: stage.service.name, code: r.code, field: r.field, index: r.index })),
  );
  return {
    ledger: ledgerFrom.map((l) => l.posting),
    ledgerFrom,
    results,
    deadLetters,
    journalRecords,
    totals: (region, label) =>
      aggregationStage.stores.reduce((sum, store) => {
        const found = store.peek(PERIOD_AGGREGATE, aggregateId(region, label));
        return found === undefined ? sum : addTotals(sum, found);
      }, EMPTY),
  };
}

const EMPTY: PeriodAggregate = PERIOD_AGGREGATE.empty('');
function addTotals(a: PeriodAggregate, b: PeriodAggregate): PeriodAggregate {
  const out: Record<string, Money | number> = {};
  for (const [k, v] of Object.entries(a)) {
    const w = (b as unknown as Record<string, Money | number>)[k];
    out[k] = typeof v === 'number' ? v + (w as number) : (v as Money).plus(w as Money);
  }
  return out as unknown as PeriodAggregate;
}

/** A random merge of the partitions' steps that keeps each partition's own order (the only order Kafka keeps). */
function shuffleKeepingPartitionOrder(
  steps: ReadonlyArray<[string, number]>,
  rng: () => number,
): Array<[string, number]> {
  const queues = new Map<string, Array<[string, number]>>();
  for (const step of steps) {
    const id = `${step[0]}/${step[1]}`;
    queues.set(id, [...(queues.get(id) ?? []), step]);
  }
  const out: Array<[string, number]> = [];
  const live = [...queues.values()];
  while (live.length > 0) {
    const i = Math.floor(rng() * live.length);
    const queue = live[i] as Array<[string, number]>;
    out.push(queue.shift() as [string, number]);
    if (queue.length === 0) live.splice(i, 1);
  }
  return out;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ─── What two runs are compared on ─────────────────────────────────────────────────────────────────

/** Σ debits − Σ credits per account, region and insurance year. */
export function balancesOf(ledger: readonly LedgerPosting[]): Record<string, string> {
  const by = new Map<string, Money>();
  for (const p of ledger) {
    for (const line of p.lines) {
      const key = `${p.regionCode}/${p.insuranceYear}/${line.account}`;
      const signed = line.direction === 'DEBIT' ? line.amount : line.amount.negated();
      by.set(key, (by.get(key) ?? ZERO).plus(signed));
    }
  }
  return Object.fromEntries(
    [...by]
      .filter(([, v]) => !v.isZero())
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [k, formatMoney(v)]),
  );
}

/** The latest result of every item that is not CLOSED (an item that only waited for a premium may not exist in another order). */
export function openStatuses(results: readonly ReconciliationResult[]): Record<string, string> {
  const latest = new Map<string, ReconciliationResult>();
  for (const r of results) latest.set(r.itemId, r);
  return Object.fromEntries(
    [...latest.values()]
      .filter((r) => r.status !== 'CLOSED')
      .sort((a, b) => (a.itemId < b.itemId ? -1 : 1))
      .map((r) => [
        r.itemId,
        `${r.status} expected ${formatMoney(r.expected)} actual ${formatMoney(r.actual)}`,
      ]),
  );
}

export type { RecordBySchemaName };
