/**
 * Publishes a simulated year: Avro in the Confluent wire format (TopicCodec, schemas registered once),
 * keys as each topic documents them, through one idempotent producer, in publication order, at most
 * 500 messages per send and each send acknowledged before the next, so a settlement is on the broker
 * before the insurer's monthly settlement that lists it.
 */
import type { Message, Producer } from 'kafkajs';
import type { Endpoints } from '../../shared/config.js';
import { HubError } from '../../shared/errors.js';
import { createKafka } from '../../shared/kafka.js';
import type { Logger } from '../../shared/logger.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import type { TopicSpec, Topics } from '../../shared/topics.js';
import { isRawEvent, type SimEvent } from './generate.js';

/** The most messages one send carries (kafkajs sends one request per broker per call). */
export const MAX_BATCH = 500;

/** The topics the simulator writes to: the agencies' input topics. */
export const simulatedTopics = (topics: Topics): readonly TopicSpec[] => [
  topics.taxPremium,
  topics.hospitalSettlement,
  topics.insurerPayout,
];

export interface PublishReport {
  readonly published: number;
  readonly sends: number;
  readonly seconds: number;
  readonly byTopic: Readonly<Record<string, number>>;
}

export interface PublishOptions {
  /** Messages per send, 1–500. */
  readonly batchSize?: number;
  /** Called after each acknowledged send with the number of events published so far. */
  readonly onProgress?: (published: number) => void;
  /**
   * Called before the first event of a run on another topic, once the previous run is acknowledged.
   * `hub simulate --in-order` waits here until the services have caught up, so independent services
   * see the year in publication order, as they would over a real year (a whole year compressed into
   * seconds otherwise lets a settlement overtake the premium published just before it).
   */
  readonly beforeTopicChange?: () => Promise<void>;
}

/**
 * Sends the events in order. Message timestamps are left to the producer (the time of publishing): the
 * input topics' retention counts from the timestamp, and a year-old business time would expire at once.
 */
export async function publishEvents(
  producer: Pick<Producer, 'sendBatch'>,
  encode: (event: SimEvent) => Buffer,
  events: readonly SimEvent[],
  options: PublishOptions = {},
): Promise<PublishReport> {
  const batchSize = options.batchSize ?? MAX_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw new RangeError(`batch size must be 1–${MAX_BATCH}, got ${batchSize}`);
  }
  const started = performance.now();
  const byTopic: Record<string, number> = {};
  let sends = 0;
  // With beforeTopicChange, a send never spans a change of topic.
  const batches = options.beforeTopicChange ? runsOf(events, batchSize) : chunksOf(events, batchSize);
  let published = 0;
  let lastTopic: string | undefined;
  for (const batch of batches) {
    const topic = batch[0]?.topic.name;
    if (options.beforeTopicChange && lastTopic !== undefined && topic !== lastTopic)
      await options.beforeTopicChange();
    lastTopic = topic;
    const topicMessages = new Map<string, Message[]>();
    for (const event of batch) {
      const messages = topicMessages.get(event.topic.name) ?? [];
      messages.push({ key: event.key, value: encode(event) });
      topicMessages.set(event.topic.name, messages);
      byTopic[event.topic.name] = (byTopic[event.topic.name] ?? 0) + 1;
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...topicMessages].map(([topic, messages]) => ({ topic, messages })),
    });
    sends += 1;
    published += batch.length;
    options.onProgress?.(published);
  }
  return { published: events.length, sends, seconds: (performance.now() - started) / 1000, byTopic };
}

function chunksOf(events: readonly SimEvent[], size: number): SimEvent[][] {
  const chunks: SimEvent[][] = [];
  for (let start = 0; start < events.length; start += size) chunks.push(events.slice(start, start + size));
  return chunks;
}

/** Chunks that never mix topics: consecutive events on one topic, at most `size` at a time. */
function runsOf(events: readonly SimEvent[], size: number): SimEvent[][] {
  const runs: SimEvent[][] = [];
  for (const event of events) {
    const last = runs[runs.length - 1];
    if (last && last.length < size && last[0]?.topic.name === event.topic.name) last.push(event);
    else runs.push([event]);
  }
  return runs;
}

export interface SimulationTarget {
  readonly endpoints: Endpoints;
  /** The hub's catalogue: its input topics must exist, and their schemas are registered. */
  readonly topics: Topics;
  /** For kafkajs's own log lines. */
  readonly logger: Logger;
}

/** Connects, checks the topics exist, registers the value schemas and publishes the events. */
export async function publishSimulation(
  events: readonly SimEvent[],
  target: SimulationTarget,
  options: PublishOptions = {},
): Promise<PublishReport> {
  let sent = 0;
  try {
    return await connectAndPublish(events, target, {
      ...options,
      onProgress: (published) => {
        sent = published;
        options.onProgress?.(published);
      },
    });
  } catch (error) {
    if (error instanceof HubError) throw error;
    // kafkajs gives up after its retries: one line for the operator, with how far it got.
    throw new HubError(
      `publishing to ${target.endpoints.kafkaBrokers.join(',')} failed after ${sent} of ${events.length} events: ${(error as Error).message}`,
      { retriable: true, cause: error },
    );
  }
}

async function connectAndPublish(
  events: readonly SimEvent[],
  target: SimulationTarget,
  options: PublishOptions,
): Promise<PublishReport> {
  const kafka = createKafka(target.endpoints, 'hub-simulate', target.logger);
  const admin = kafka.admin();
  await admin.connect();
  let existing: Set<string>;
  try {
    existing = new Set(await admin.listTopics());
  } finally {
    await admin.disconnect();
  }
  const inputs = simulatedTopics(target.topics);
  const missing = inputs.filter((topic) => !existing.has(topic.name)).map((topic) => topic.name);
  if (missing.length > 0) {
    throw new HubError(`topic(s) ${missing.join(', ')} do not exist: run \`hub topics create\` first`);
  }

  const codec = new TopicCodec(createRegistry(target.endpoints), target.endpoints.schemaRegistryUrl);
  await codec.prepare(inputs);
  const encode = (event: SimEvent): Buffer =>
    isRawEvent(event) ? event.bytes : codec.encode(event.topic, event.record, event.value as never);

  // Idempotent: a retried send is written once; one request in flight keeps each partition in order.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    return await publishEvents(producer, encode, events, options);
  } finally {
    await producer.disconnect();
  }
}
