import { randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { Endpoints, HubConfig } from '../../shared/config.js';
import { HubError } from '../../shared/errors.js';
import { closeOneTimeReader, createKafka } from '../../shared/kafka.js';
import type { Logger } from '../../shared/logger.js';
import { ZERO } from '../../shared/money.js';
import { chinaDateOf } from '../../shared/policy/dates.js';
import { loadRegions } from '../../shared/policy/regions.js';
import { addCounters, COUNTERS, countersFrom, countersId } from '../../shared/reconciliation.js';
import type { PublicDisclosure } from '../../shared/records.js';
import { createRedis, type RedisClient } from '../../shared/redis.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { entityKey } from '../../shared/runner/partition-state.js';
import type { EntityKind } from '../../shared/runner/service.js';
import { type TopicSpec, topicsFor } from '../../shared/topics.js';
import {
  addAggregates,
  aggregateId,
  EMPTY_AGGREGATE,
  PERIOD_AGGREGATE,
  PERIOD_INDEX,
  type PeriodAggregate,
  readAggregate,
} from './aggregate.js';
import { chainsFrom, nextDisclosure, RegionChain, type SigningKey, verifyChain } from './chain.js';
import {
  computeFigures,
  type DisclosureFigures,
  paramsForPeriod,
  type ReconciliationStatus,
  reconciliationStatus,
  surplusOf,
} from './figures.js';
import { comparePeriods, type Period, parsePeriod } from './periods.js';
import type { PublishedPeriods } from './settings.js';

/**
 * The disclosure publisher (I/O adapter): learns each region's chain from the disclosure topic,
 * computes figures from the Redis aggregates and appends first publications and corrections.
 *
 * One writer per chain: appends go through a transactional producer with a fixed transactional id,
 * so a second publisher (another instance, `hub disclosure publish`) fences this one. A fenced or
 * failed append marks the chains stale; the next call starts a new producer (fencing the other),
 * re-reads the topic from the beginning and only then appends, so the chain never forks.
 */

export interface PublisherOptions {
  /** The hub's namespace: its topics, the totals' Redis keys, the chain reader's group. */
  readonly config: HubConfig;
  readonly endpoints: Endpoints;
  readonly signingKey: SigningKey;
  /** HUB_DISCLOSURE_MIN_GROUP */
  readonly threshold: number;
  readonly periods: PublishedPeriods;
  readonly logger: Logger;
  /** Default the namespace's disclosure topic; tests pass their own. */
  readonly topic?: TopicSpec;
  /** Default "disclosure-publisher": every publisher of one topic shares it, so only one appends at a time. */
  readonly transactionalId?: string;
  /** Default: every region with a policy file. */
  readonly regions?: readonly string[];
  readonly clock?: () => Date;
  /** How long reading the chain may take before it counts as a failure. */
  readonly readTimeoutMs?: number;
}

/**
 * Where the totals are: the namespace of their Redis keys, and the partitions of the topics whose
 * consumers keep them, the ledger (disclosure, reconciler) and the hospital stage's input.
 */
export interface TotalsLayout {
  readonly namespace: string;
  readonly ledgerPartitions: number;
  readonly hospitalMonthPartitions: number;
}

const aggregateKey = (namespace: string, partition: number, region: string, label: string) =>
  entityKey(
    namespace,
    'disclosure',
    partition,
    PERIOD_AGGREGATE as EntityKind<unknown>,
    aggregateId(region, label),
  );
const periodIndexKey = (namespace: string, partition: number, region: string) =>
  entityKey(namespace, 'disclosure', partition, PERIOD_INDEX as EntityKind<unknown>, region);

/** Hash reads, all sent at once; each key lies in its partition's slot, so they are not one pipeline (a Redis Cluster refuses that). */
async function readHashes(redis: RedisClient, keys: readonly string[]): Promise<Record<string, string>[]> {
  try {
    return await Promise.all(keys.map((key) => redis.hgetall(key)));
  } catch (error) {
    const cause = error as Error;
    throw new HubError(`redis: ${cause.message}`, { retriable: true, cause });
  }
}

/** The periods of a region that any ledger partition has totals for. */
export async function periodLabelsOf(
  redis: RedisClient,
  region: string,
  layout: TotalsLayout,
): Promise<string[]> {
  const keys = Array.from({ length: layout.ledgerPartitions }, (_, p) =>
    periodIndexKey(layout.namespace, p, region),
  );
  const labels = new Set<string>();
  for (const index of await readHashes(redis, keys))
    for (const label of Object.keys(index)) labels.add(label);
  return [...labels];
}

/** A region's totals for one period: every ledger partition's, added up. */
async function totalsOf(
  redis: RedisClient,
  region: string,
  label: string,
  layout: TotalsLayout,
): Promise<PeriodAggregate> {
  const keys = Array.from({ length: layout.ledgerPartitions }, (_, p) =>
    aggregateKey(layout.namespace, p, region, label),
  );
  const parts = await readHashes(redis, keys);
  return parts.reduce((sum, hash, p) => addAggregates(sum, readAggregate(hash, keys[p])), EMPTY_AGGREGATE);
}

/** What the disclosure reports of reconciliation for a region-year (see reconciliationStatus). */
export async function reconciliationOf(
  redis: RedisClient,
  region: string,
  year: number,
  layout: TotalsLayout,
): Promise<ReconciliationStatus> {
  const id = countersId(region, year);
  const keys = [
    ...Array.from({ length: layout.ledgerPartitions }, (_, p) =>
      entityKey(layout.namespace, 'reconciler', p, COUNTERS as EntityKind<unknown>, id),
    ),
    ...Array.from({ length: layout.hospitalMonthPartitions }, (_, p) =>
      entityKey(layout.namespace, 'hospital-reconciler', p, COUNTERS as EntityKind<unknown>, id),
    ),
  ];
  const counters = addCounters(
    (await readHashes(redis, keys)).map((hash, i) => countersFrom(hash, keys[i] as string)),
  );
  return reconciliationStatus(counters);
}

/** Reads a region's figures for one period from every partition's totals and counters. */
export async function readFigures(
  redis: RedisClient,
  region: string,
  period: Period,
  threshold: number,
  layout: TotalsLayout,
): Promise<DisclosureFigures> {
  const aggregate = await totalsOf(redis, region, period.label, layout);
  // Members covered for the insurance year the period lies in: counted on the year's total.
  const insured =
    period.kind === 'YEAR'
      ? aggregate.insured
      : (await totalsOf(redis, region, String(period.year), layout)).insured;
  let surplusBroughtForward = ZERO;
  if (period.kind === 'YEAR') {
    const earlier = (await periodLabelsOf(redis, region, layout))
      .map(parsePeriod)
      .filter((p): p is Period => p !== undefined && p.kind === 'YEAR' && p.year < period.year);
    for (const year of earlier)
      surplusBroughtForward = surplusBroughtForward.plus(
        surplusOf(await totalsOf(redis, region, year.label, layout)),
      );
  }
  return computeFigures({
    region,
    period,
    aggregate,
    surplusBroughtForward,
    insuredPersons: insured,
    beneficiaries: aggregate.beneficiaries,
    reconciliation: await reconciliationOf(redis, region, period.year, layout),
    params: paramsForPeriod(region, period),
    threshold,
  });
}

/** Every disclosure on the topic, in order, read committed from the beginning to its current end. */
export async function readDisclosureTopic(
  kafka: Kafka,
  codec: TopicCodec,
  topic: TopicSpec,
  namespace: string,
  log: Logger,
  timeoutMs = 60_000,
): Promise<PublicDisclosure[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    const offsets = await admin.fetchTopicOffsets(topic.name);
    ends = new Map(
      offsets
        .filter((o) => BigInt(o.high) > BigInt(o.low))
        .map((o) => [o.partition, BigInt(o.high)] as const),
    );
  } finally {
    await admin.disconnect();
  }
  const records: PublicDisclosure[] = [];
  if (ends.size === 0) return records;
  const groupId = `${namespace}.disclosure-chain-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
  let failure: Error | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: topic.name, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new HubError(`reading ${topic.name} took over ${timeoutMs} ms`, { retriable: true })),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              const decoded = await codec.decode(topic, message.value);
              if (!decoded.ok || decoded.value.record !== 'public-disclosure') {
                failure = new HubError(
                  `${topic.name}/${batch.partition}@${message.offset} is not a readable public-disclosure: ${
                    decoded.ok ? decoded.value.record : decoded.error.code
                  }`,
                );
                clearTimeout(timer);
                reject(failure);
                return;
              }
              records.push(decoded.value.value);
            }
            const end = ends.get(batch.partition);
            if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) ends.delete(batch.partition);
            if (ends.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await closeOneTimeReader(kafka, consumer, groupId);
  }
  log.info({ topic: topic.name, records: records.length }, 'disclosure chain read');
  return records;
}

/** How many partitions hold totals: one state per partition of the ledger and of the hospital stage's input. */
async function totalsLayout(kafka: Kafka, config: HubConfig): Promise<TotalsLayout> {
  const { ledger, hospitalMonth } = topicsFor(config);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [ledger.name, hospitalMonth.name] });
    const count = (name: string) => metadata.topics.find((t) => t.name === name)?.partitions.length ?? 0;
    return {
      namespace: config.namespace,
      ledgerPartitions: count(ledger.name),
      hospitalMonthPartitions: count(hospitalMonth.name),
    };
  } finally {
    await admin.disconnect();
  }
}

export class DisclosurePublisher {
  private chains = new Map<string, RegionChain>();
  private producer: Producer | undefined;
  private stale = true;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly topic: TopicSpec;
  private readonly clock: () => Date;
  private readonly log: Logger;

  private constructor(
    private readonly options: PublisherOptions,
    private readonly kafka: Kafka,
    private readonly redis: RedisClient,
    private readonly codec: TopicCodec,
    private readonly layout: TotalsLayout,
  ) {
    this.topic = options.topic ?? topicsFor(options.config).disclosure;
    this.clock = options.clock ?? (() => new Date());
    this.log = options.logger.child({ component: 'disclosure-publisher' });
  }

  /** Connects, registers the schema, takes the writer role and reads every region's chain. */
  static async start(options: PublisherOptions): Promise<DisclosurePublisher> {
    const log = options.logger;
    const kafka = createKafka(options.endpoints, `disclosure-publisher-${randomUUID().slice(0, 8)}`, log);
    const redis = createRedis(options.endpoints);
    redis.on('error', (error) => log.warn({ err: error.message }, 'redis connection problem'));
    const codec = new TopicCodec(createRegistry(options.endpoints), options.endpoints.schemaRegistryUrl);
    await codec.prepare([options.topic ?? topicsFor(options.config).disclosure]);
    const publisher = new DisclosurePublisher(
      options,
      kafka,
      redis,
      codec,
      await totalsLayout(kafka, options.config),
    );
    await publisher.serialized(() => publisher.ensureWriter());
    return publisher;
  }

  /** Every disclosure known, region by region in chain order. */
  disclosures(): PublicDisclosure[] {
    return [...this.chains.values()].flatMap((chain) => chain.records);
  }

  chain(region: string): RegionChain | undefined {
    return this.chains.get(region);
  }

  isReady(): boolean {
    return !this.stale;
  }

  /** Publishes one period of one region if its figures changed (or were never published). */
  publish(region: string, periodLabel: string): Promise<PublicDisclosure | null> {
    const period = parsePeriod(periodLabel);
    if (period === undefined) return Promise.reject(new HubError(`'${periodLabel}' is not a period label`));
    return this.serialized(async () => {
      await this.ensureWriter();
      const [record] = await this.publishRegion(region, [period]);
      return record ?? null;
    });
  }

  /**
   * Publishes every changed period of every region, or of the regions given (only ended periods when
   * periods = "closed").
   */
  publishAll(regions?: readonly string[]): Promise<PublicDisclosure[]> {
    return this.serialized(async () => {
      await this.ensureWriter();
      const published: PublicDisclosure[] = [];
      for (const region of regions ?? this.regions()) {
        const periods = await this.periodsOf(region);
        published.push(...(await this.publishRegion(region, periods)));
      }
      return published;
    });
  }

  /** The periods of a region with aggregates, as configured to publish. */
  async periodsOf(region: string): Promise<Period[]> {
    // Today in China: a period is over once its last day has passed there.
    const today = chinaDateOf(this.clock());
    return (await periodLabelsOf(this.redis, region, this.layout))
      .map(parsePeriod)
      .filter((p): p is Period => p !== undefined)
      .filter((p) => this.options.periods === 'all' || p.end < today)
      .sort(comparePeriods);
  }

  async stop(): Promise<void> {
    await this.queue.catch(() => {});
    await this.producer?.disconnect().catch(() => {});
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private regions(): string[] {
    return [...(this.options.regions ?? [...loadRegions().keys()])].sort();
  }

  /** Runs one publisher operation at a time (the interval and a one-shot call may overlap). */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }

  /** (Re)takes the writer role, then reads the chains: after fencing, nothing else can append. */
  private async ensureWriter(): Promise<void> {
    if (!this.stale) return;
    await this.producer?.disconnect().catch(() => {});
    this.producer = this.kafka.producer({
      transactionalId:
        this.options.transactionalId ?? `${this.options.config.namespace}.disclosure-publisher`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await this.producer.connect();
    // kafkajs initialises the producer id (and fences an older holder) on the first transaction.
    const fence = await this.producer.transaction();
    await fence.abort();
    const records = await readDisclosureTopic(
      this.kafka,
      this.codec,
      this.topic,
      this.options.config.namespace,
      this.log,
      this.options.readTimeoutMs,
    );
    this.chains = chainsFrom(records);
    const problems = verifyChain(records, this.options.signingKey.publicKey);
    if (problems.length > 0)
      this.log.warn(
        { problems: problems.slice(0, 20), count: problems.length },
        'chain does not verify with the current key',
      );
    this.stale = false;
  }

  private async publishRegion(region: string, periods: readonly Period[]): Promise<PublicDisclosure[]> {
    const base = this.chains.get(region) ?? new RegionChain(region);
    const staged = base.clone();
    const appended: PublicDisclosure[] = [];
    const publishedAt = this.clock();
    for (const period of periods) {
      const figures = await readFigures(this.redis, region, period, this.options.threshold, this.layout);
      const record = nextDisclosure(staged, figures, publishedAt, this.options.signingKey);
      if (record === null) continue;
      staged.append(record);
      appended.push(record);
    }
    if (appended.length === 0) return [];
    const producer = this.producer;
    if (producer === undefined) throw new HubError('publisher not started');
    const transaction = await producer.transaction();
    try {
      await transaction.send({
        topic: this.topic.name,
        messages: appended.map((record) => ({
          key: region,
          value: this.codec.encode(this.topic, 'public-disclosure', record),
        })),
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => {});
      this.stale = true;
      throw new HubError(
        `appending to the ${region} chain failed; will re-read it: ${(error as Error).message}`,
        {
          retriable: true,
          cause: error,
        },
      );
    }
    this.chains.set(region, staged);
    this.log.info(
      { region, records: appended.map((r) => `${r.periodLabel}#${r.sequence}/c${r.correction}`) },
      'disclosures published',
    );
    return appended;
  }
}
