import {
  type Consumer,
  Kafka,
  type LogEntry,
  logLevel,
  type Message,
  Partitioners,
  type PartitionMetadata,
  type ProducerConfig,
  type RecordMetadata,
  type RetryOptions,
  type TopicMessages,
  type Transaction,
} from 'kafkajs';
import type { Endpoints } from './config.js';
import { cacheKafkajsCoordinators } from './kafka-coordinators.js';
import type { Logger } from './logger.js';
import { kafkajsSecurity } from './security.js';

// Every kafkajs client of a hub process keeps its coordinators for a moment (kafka-coordinators.ts).
cacheKafkajsCoordinators();

/**
 * Broker answers that kafkajs retries by itself and that are part of normal operation: a transaction's
 * markers still being written, a coordinator loading or moving after a restart, a group rebalancing,
 * a partition's leader moving. Keyed by the broker's error name; the value is the text kafkajs puts in
 * its log line (node_modules/kafkajs/src/protocol/error.js).
 */
export const EXPECTED_BROKER_ANSWERS: Readonly<Record<string, string>> = {
  CONCURRENT_TRANSACTIONS:
    'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
  COORDINATOR_LOAD_IN_PROGRESS: "The coordinator is loading and hence can't process requests",
  COORDINATOR_NOT_AVAILABLE: 'coordinator is not available',
  NOT_COORDINATOR: 'This is not the correct coordinator',
  REBALANCE_IN_PROGRESS: 'The group is rebalancing, so a rejoin is needed',
  UNKNOWN_MEMBER_ID: 'The coordinator is not aware of this member',
  ILLEGAL_GENERATION: 'Specified group generation id is not valid',
  NOT_LEADER_FOR_PARTITION: 'This server is not the leader for that topic-partition',
  LEADER_NOT_AVAILABLE: 'There is no leader for this topic-partition',
  UNSTABLE_OFFSET_COMMIT: 'There are unstable offsets that need to be cleared',
  REQUEST_TIMED_OUT: 'The request timed out',
};

/** The expected broker answer a text (an error's message, a log line) carries, if any. */
export function expectedBrokerAnswer(text: string): string | undefined {
  for (const [answer, words] of Object.entries(EXPECTED_BROKER_ANSWERS))
    if (text.includes(words)) return answer;
  return undefined;
}

/** A broker that is away for a while (restarting): kafkajs reconnects by itself. Logged at warn. */
const BROKER_AWAY = [
  'Connection error:',
  'Connection timeout',
  'Closed connection',
  'Failed to connect to seed broker',
  'Failed to connect to broker, reconnecting',
  'The server disconnected before a response was received',
];

/**
 * kafkajs warns when an idempotent producer's retries are bounded. The runner's transactional producer
 * bounds them on purpose: when kafkajs gives up, the runner aborts the transaction, renews the producer
 * and retries the whole chunk (runner.ts), so no record is committed twice.
 */
const SETTLED_WARNINGS = ['Limiting retries for the idempotent producer may invalidate EoS guarantees'];

export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogVerdict {
  readonly level: LogLevelName;
  /** Set for an expected, retried answer: what the metric counts it as. */
  readonly expected?: string;
}

const NAMES: Readonly<Record<number, LogLevelName>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * The level a kafkajs log line is written at. kafkajs logs every retried broker answer at error;
 * those that are expected go to debug (a broker's answer) or warn (a broker away), counted by `expected`.
 */
export function kafkaLogVerdict(level: logLevel, message: string, error?: unknown): KafkaLogVerdict {
  const named = NAMES[level] ?? 'info';
  if (level !== logLevel.ERROR && level !== logLevel.WARN) return { level: named };
  const text = `${message} ${typeof error === 'string' ? error : ''}`;
  if (SETTLED_WARNINGS.some((w) => text.includes(w))) return { level: 'debug' };
  const answer = expectedBrokerAnswer(text);
  if (answer !== undefined) return { level: 'debug', expected: answer };
  if (BROKER_AWAY.some((w) => text.includes(w))) return { level: 'warn', expected: 'BROKER_AWAY' };
  if (text.startsWith('Restarting the consumer in')) return { level: 'warn', expected: 'CONSUMER_RESTART' };
  return { level: named };
}

/**
 * The hub's kafkajs client: its log lines go through our pino logger as structured events, at the level
 * `kafkaLogVerdict` gives; `onExpected` counts the expected, retried answers (a service's metric).
 * Every producer partitions with kafkajs's DefaultPartitioner (Java's murmur2), said explicitly.
 */
export function createKafka(
  endpoints: Endpoints,
  clientId: string,
  logger: Logger,
  onExpected?: (answer: string) => void,
  retry: RetryOptions = SERVICE_RETRY,
): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new HubKafka({
    clientId,
    brokers: endpoints.kafkaBrokers,
    ...kafkajsSecurity(endpoints.security?.kafka),
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const verdict = kafkaLogVerdict(level, message, rest.error);
        if (verdict.expected !== undefined) onExpected?.(verdict.expected);
        log[verdict.level]({ ...rest, ...(verdict.expected ? { expected: verdict.expected } : {}) }, message);
      },
    retry,
  });
}

/** A service's client: eight retries from 200 ms, enough to ride out a broker restarting. */
const SERVICE_RETRY: RetryOptions = { initialRetryTime: 200, retries: 8 };

/**
 * A one-off command that waits on its answers (`hub rebuild`): the first retry after 20 ms, not 200 ms
 * (a group coordinator just left by the stopped service answers once with a retriable error, and 200 ms
 * was a third of a rebuild's time), and more retries, so a broker away is ridden out as long.
 */
export const COMMAND_RETRY: RetryOptions = { initialRetryTime: 20, retries: 12 };

/**
 * Leaves and deletes the group of a consumer that read once (a rebuild's replay, the disclosure chain read
 * back), so no empty group stays behind on the broker. Never throws: the reading is over either way.
 */
export async function closeOneTimeReader(kafka: Kafka, consumer: Consumer, groupId: string): Promise<void> {
  await consumer.disconnect().catch(() => {});
  const admin = kafka.admin();
  await admin
    .connect()
    .then(() => admin.deleteGroups([groupId]))
    .catch(() => {})
    .finally(() => admin.disconnect().catch(() => {}));
}

/** A Kafka client whose producers use the DefaultPartitioner unless told otherwise. */
class HubKafka extends Kafka {
  override producer(config?: ProducerConfig): ReturnType<Kafka['producer']> {
    return super.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
  }
}

/**
 * A transaction's messages, one group per topic partition, in their order within it. A message without
 * a partition gets the one kafkajs's DefaultPartitioner gives it (the key's murmur2 hash, as the Java
 * client), so grouping changes no message's partition.
 */
export function groupByPartition(
  topicMessages: readonly TopicMessages[],
  partitionsOf: (topic: string) => number,
): Array<{ topic: string; partition: number; messages: Message[] }> {
  const partitioner = Partitioners.DefaultPartitioner();
  const groups = new Map<string, { topic: string; partition: number; messages: Message[] }>();
  for (const { topic, messages } of topicMessages) {
    const count = partitionsOf(topic);
    const partitionMetadata: PartitionMetadata[] = Array.from({ length: count }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [],
      isr: [],
    }));
    for (const message of messages) {
      const partition = message.partition ?? partitioner({ topic, partitionMetadata, message });
      const key = `${topic}\u0000${partition}`;
      const group = groups.get(key) ?? { topic, partition, messages: [] };
      group.messages.push({ ...message, partition });
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

/**
 * The settings of a transactional producer, the runner's and the benchmark's alike: idempotent, one
 * request in flight, and a short first backoff. The broker answers CONCURRENT_TRANSACTIONS to a
 * transaction's first AddPartitionsToTxn while the previous transaction's markers are still being
 * written, a few milliseconds after its commit returned: on a busy partition that is nearly every
 * transaction. kafkajs's default first backoff (300 ms) would cap a partition near three transactions a
 * second. 2 ms was tried (one-record transaction 25 -> 15 ms at p50 with the coordinator cache), but the
 * first CI run with it saw the broker-restart test (faults.int.spec.ts) write 10 postings twice, so
 * the backoff stays at the 10 ms that every earlier CI run passed with, until the cause is known.
 */
export const transactionalProducer = (transactionalId: string): ProducerConfig => ({
  transactionalId,
  idempotent: true,
  maxInFlightRequests: 1,
  transactionTimeout: 60_000,
  retry: { initialRetryTime: 10, maxRetryTime: 2_000, retries: 30 },
});

/**
 * Sends a transaction's messages with one `send` per topic partition instead of one `sendBatch`.
 * kafkajs 2.2 sends a batch to every partition leader in parallel and, when one of those requests
 * fails (AddPartitionsToTxn answers CONCURRENT_TRANSACTIONS while the previous transaction's markers
 * are written, or while a parallel AddPartitionsToTxn of the same transaction is), retries the whole
 * batch at once: a leader whose produce was still in flight gets its records again, with new sequence
 * numbers, and both copies commit with the transaction. Seen on the 3-node cluster as journal records,
 * postings and input events written twice without any fault. A send that covers one partition reaches
 * one broker, so its retry repeats only what that broker refused. The sends run side by side, and all
 * are settled before an error is raised: an abort must not overtake a produce still on its way.
 */
export async function sendEachPartitionApart(
  transaction: Pick<Transaction, 'send'>,
  topicMessages: readonly TopicMessages[],
  partitionsOf: (topic: string) => number,
): Promise<RecordMetadata[]> {
  const sends = groupByPartition(topicMessages, partitionsOf).map((group) =>
    transaction.send({ topic: group.topic, messages: group.messages }),
  );
  const settled = await Promise.allSettled(sends);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
}
