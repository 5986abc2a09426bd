import { type Command, Option } from 'commander';
import type { Admin, Kafka } from 'kafkajs';
import { type HubConfig, loadEndpoints } from '../../shared/config.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { readToEnd } from '../../shared/read-topic.js';
import type { DeadLetter, ReconciliationResult } from '../../shared/records.js';
import { createRedis, type RedisClient } from '../../shared/redis.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { announcedInstances } from '../../shared/runner/announce.js';
import { DEAD_LETTER_HEADERS } from '../../shared/runner/dead-letter-headers.js';
import type { Service } from '../../shared/runner/service.js';
import { type TopicSpec, type Topics, topicsFor } from '../../shared/topics.js';
import { servicesFor } from '../catalogue.js';
import { EXIT, exitWith } from './options.js';
import {
  type Discrepancy,
  formatStatus,
  formatStatusMetrics,
  type InstanceHealth,
  oldestOpenDiscrepancy,
  type ServiceStatus,
  statusFindings,
} from './status-report.js';

/** Each service's consumer group name and the topic it reads, from the services' own definitions. */
export const serviceInputs = (topics: Topics): ReadonlyArray<readonly [string, TopicSpec]> =>
  servicesFor(topics).map((service) => [service.name, service.input] as const);

export interface GroupLag {
  readonly service: string;
  readonly topic: string;
  readonly end: number;
  readonly committed: number;
  readonly lag: number;
  /** False when the topic does not exist yet (`hub topics create` has not run in this namespace). */
  readonly topicExists: boolean;
}

/**
 * Consumer lag of every service: end offsets minus committed offsets, summed over partitions. Without a
 * config, HUB_NAMESPACE's: only deploy/local/demo.ts still calls it so (deprecated).
 */
export async function serviceLag(
  kafka: ReturnType<typeof createKafka>,
  config: HubConfig,
): Promise<GroupLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const rows: GroupLag[] = [];
    const existing = new Set(await admin.listTopics());
    for (const [service, topic] of serviceInputs(topicsFor(config))) {
      if (!existing.has(topic.name)) {
        rows.push({ service, topic: topic.name, end: 0, committed: 0, lag: 0, topicExists: false });
        continue;
      }
      const ends = await admin.fetchTopicOffsets(topic.name);
      const committed = await admin.fetchOffsets({
        groupId: `${config.namespace}.${service}`,
        topics: [topic.name],
      });
      const done = new Map(
        committed[0]?.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]) ?? [],
      );
      let end = 0;
      let at = 0;
      for (const p of ends) {
        end += Number(p.high);
        // A committed offset can sit past the last record: transaction markers take offsets too.
        at += Math.min(Number(p.high), done.get(p.partition) ?? 0);
      }
      rows.push({ service, topic: topic.name, end, committed: at, lag: end - at, topicExists: true });
    }
    return rows;
  } finally {
    await admin.disconnect();
  }
}

export function registerStatus(program: Command, config: HubConfig): void {
  program
    .command('status')
    .description(
      "per service: consumer lag in messages and in seconds (the oldest unprocessed record's age), each announced instance alive and ready, dead letters by code; and the oldest open reconciliation discrepancy with its age bucket. Exits 1 when a service has no input topic or no instance alive and ready",
    )
    .addOption(
      new Option('--format <format>', "text for people, prometheus for node_exporter's textfile collector")
        .choices(['text', 'prometheus'])
        .default('text'),
    )
    .action(exitWith((options: { format?: string }) => runStatus(config, options)));
}

export async function runStatus(config: HubConfig, options: { format?: string } = {}): Promise<number> {
  const endpoints = loadEndpoints();
  const kafka = createKafka(endpoints, 'hub-cli', createLogger('hub-cli', 'error'));
  const redis = createRedis(endpoints);
  redis.on('error', () => {});
  try {
    const report = await gatherStatus(
      config,
      kafka,
      redis,
      new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl),
    );
    const format = options.format === 'prometheus' ? formatStatusMetrics : formatStatus;
    process.stdout.write(format(config.namespace, report.services, report.discrepancy));
    return statusFindings(report.services).length === 0 ? EXIT.done : EXIT.finding;
  } finally {
    redis.disconnect();
  }
}

/** Everything `hub status` shows, read from Kafka, the registry, Redis and the instances' health endpoints. */
export async function gatherStatus(
  config: HubConfig,
  kafka: Kafka,
  redis: RedisClient,
  codec: TopicCodec,
  now: () => Date = () => new Date(),
): Promise<{ services: ServiceStatus[]; discrepancy: Discrepancy | null }> {
  const topics = topicsFor(config);
  const services = servicesFor(topics);
  const admin = kafka.admin();
  await admin.connect();
  let lags: PartitionLag[];
  let existing: Set<string>;
  try {
    existing = new Set(await admin.listTopics());
    lags = await partitionLags(admin, existing, config.namespace, services);
  } finally {
    await admin.disconnect();
  }
  const readable = [...services.map((s) => s.deadLetters), topics.reconciliation].filter((t) =>
    existing.has(t.name),
  );
  await codec.prepare(readable);
  const [oldest, letters, instances] = await Promise.all([
    firstRecords(
      kafka,
      lags.filter((l) => l.committed < l.high),
    ),
    readDeadLettersAndResults(kafka, codec, readable, topics.reconciliation),
    Promise.all(services.map((s) => instanceHealth(redis, config.namespace, s.name, now()))).catch(
      (error: Error) => `the announcements in Redis could not be read (${error.message})`,
    ),
  ]);
  const at = now().getTime();
  const statuses = services.map((service, i): ServiceStatus => {
    const mine = lags.filter((l) => l.topic === service.input.name);
    const ages = mine
      .map((l) => oldest.get(`${l.topic}/${l.partition}`))
      .filter((t): t is number => t !== undefined)
      .map((t) => Math.max(0, (at - t) / 1000));
    return {
      service: service.name,
      topic: service.input.name,
      topicExists: existing.has(service.input.name),
      end: mine.reduce((n, l) => n + l.high, 0),
      lag: mine.reduce((n, l) => n + (l.high - l.committed), 0),
      lagSeconds: ages.length === 0 ? null : Math.max(...ages),
      instances: typeof instances === 'string' ? instances : (instances[i] ?? []),
      deadLetters: letters.deadLetters.get(service.deadLetters.name) ?? {},
    };
  });
  return { services: statuses, discrepancy: oldestOpenDiscrepancy(letters.results, now()) };
}

interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly high: number;
  /** The group's committed offset, capped at high (transaction markers take offsets too); low when none. */
  readonly committed: number;
}

async function partitionLags(
  admin: Admin,
  existing: ReadonlySet<string>,
  namespace: string,
  services: readonly Pick<Service<unknown>, 'name' | 'input'>[],
): Promise<PartitionLag[]> {
  const out: PartitionLag[] = [];
  for (const { name: service, input: topic } of services) {
    if (!existing.has(topic.name)) continue;
    const ends = await admin.fetchTopicOffsets(topic.name);
    const [committed] = await admin.fetchOffsets({
      groupId: `${namespace}.${service}`,
      topics: [topic.name],
    });
    for (const p of ends) {
      const done = Number(committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
      const high = Number(p.high);
      out.push({
        topic: topic.name,
        partition: p.partition,
        high,
        committed: Math.min(high, done < 0 ? Number(p.low) : done),
      });
    }
  }
  return out;
}

/** How long `hub status` waits for a partition's oldest unprocessed record (only markers may be left). */
const FIRST_RECORD_WAIT_MS = 8_000;

/** The timestamp of the first record at or after each position, by "topic/partition". */
async function firstRecords(kafka: Kafka, positions: readonly PartitionLag[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (positions.length === 0) return found;
  const wanted = new Map(positions.map((p) => [`${p.topic}/${p.partition}`, BigInt(p.committed)]));
  const consumer = kafka.consumer({
    groupId: readerGroup('hub-status-lag'),
    readUncommitted: false,
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(positions.map((p) => p.topic))], fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const p of positions)
        consumer.seek({ topic: p.topic, partition: p.partition, offset: String(p.committed) });
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FIRST_RECORD_WAIT_MS);
      void consumer.run({
        eachBatch: async ({ batch }) => {
          const key = `${batch.topic}/${batch.partition}`;
          const from = wanted.get(key);
          if (from === undefined || found.has(key)) return;
          const first = batch.messages.find((m) => BigInt(m.offset) >= from);
          if (first === undefined) return;
          found.set(key, Number(first.timestamp));
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          if (found.size === wanted.size) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return found;
}

/**
 * Dead letters by code (from the hub's `__hub.errors.code` header, or the Avro record for one written
 * before the headers were), and every reconciliation result: each topic read to its end at the start.
 */
async function readDeadLettersAndResults(
  kafka: Kafka,
  codec: TopicCodec,
  topics: readonly TopicSpec[],
  reconciliation: TopicSpec,
): Promise<{ deadLetters: Map<string, Record<string, number>>; results: ReconciliationResult[] }> {
  const deadLetters = new Map<string, Record<string, number>>();
  const results: ReconciliationResult[] = [];
  const byName = new Map(topics.map((t) => [t.name, t]));
  await readToEnd(
    kafka,
    topics.map((t) => t.name),
    async (batch) => {
      const topic = byName.get(batch.topic) as TopicSpec;
      for (const message of batch.messages) {
        if (topic === reconciliation) {
          const decoded = await codec.decode(topic, message.value);
          if (decoded.ok) results.push(decoded.value.value as ReconciliationResult);
          continue;
        }
        const code =
          message.headers?.[DEAD_LETTER_HEADERS.code]?.toString() ??
          (await codeOf(codec, topic, message.value));
        const counts = deadLetters.get(batch.topic) ?? {};
        counts[code] = (counts[code] ?? 0) + 1;
        deadLetters.set(batch.topic, counts);
      }
    },
    { groupPrefix: 'hub-status-read' },
  );
  return { deadLetters, results };
}

async function codeOf(codec: TopicCodec, topic: TopicSpec, value: Buffer | null): Promise<string> {
  const decoded = await codec.decode(topic, value);
  return decoded.ok ? (decoded.value.value as DeadLetter).errorCode : 'UNREADABLE';
}

/** Each announced instance of a service, asked at its /healthz and /readyz (one second each). */
async function instanceHealth(
  redis: RedisClient,
  namespace: string,
  service: string,
  now: Date,
): Promise<InstanceHealth[]> {
  const announced = await announcedInstances(redis, namespace, service);
  return Promise.all(
    announced.map(async (a): Promise<InstanceHealth> => {
      const answers = async (path: string) => {
        try {
          const response = await fetch(`http://${a.address}${path}`, { signal: AbortSignal.timeout(1_000) });
          await response.arrayBuffer();
          return response.status === 200;
        } catch {
          return false;
        }
      };
      const [alive, ready] = await Promise.all([answers('/healthz'), answers('/readyz')]);
      return { instance: a.instance, address: a.address, alive, ready, stale: a.expiresAt < now.getTime() };
    }),
  );
}

const readerGroup = (prefix: string) =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
