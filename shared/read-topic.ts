import type { Batch, Kafka } from 'kafkajs';
import { HubError } from './errors.js';
import type { RecordBySchemaName, SchemaName } from './records.js';
import type { TopicCodec } from './registry.js';
import type { TopicSpec } from './topics.js';

export interface ReadOptions {
  /** How long reading may go without a batch before what is left counts as markers only (default 3 s). */
  readonly idleMs?: number;
  readonly groupPrefix?: string;
  /** The hub's namespace, which a missing topic's message names for `hub topics create`. */
  readonly namespace?: string;
}

/**
 * Reads a topic from the beginning to its current end (read_committed) and decodes every record.
 * The end is each partition's high watermark at the start; a partition whose remaining offsets are
 * only transaction markers is done once the consumer stops receiving (idleMs).
 */
export async function readTopic<N extends SchemaName>(
  kafka: Kafka,
  codec: TopicCodec,
  topic: TopicSpec,
  options: ReadOptions = {},
): Promise<RecordBySchemaName[N][]> {
  const values: RecordBySchemaName[N][] = [];
  const failures: string[] = [];
  await readToEnd(
    kafka,
    [topic.name],
    async (batch) => {
      for (const message of batch.messages) {
        const decoded = await codec.decode(topic, message.value);
        if (decoded.ok) values.push(decoded.value.value as RecordBySchemaName[N]);
        else failures.push(`${batch.partition}/${message.offset}: ${decoded.error.code}`);
      }
    },
    options,
  );
  if (failures.length > 0)
    throw new Error(`undecodable records on ${topic.name}: ${failures.slice(0, 5).join(', ')}`);
  return values;
}

/**
 * Reads topics from the beginning to their ends at the start (read_committed), one group join for all,
 * handing each batch to `each`. A topic that does not exist is refused at once, naming the command to run.
 */
export async function readToEnd(
  kafka: Kafka,
  topics: readonly string[],
  each: (batch: Batch) => Promise<void>,
  options: ReadOptions = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, number>();
  try {
    // kafkajs retries an unknown topic for 30 s and then throws a stack trace: say it at once.
    const existing = new Set(await admin.listTopics());
    for (const topic of topics) {
      if (!existing.has(topic)) {
        const namespace = options.namespace === undefined ? '' : ` (namespace ${options.namespace})`;
        throw new HubError(`topic ${topic} does not exist: run \`npx hub topics create\`${namespace}`);
      }
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (Number(p.high) > 0) remaining.set(`${topic}/${p.partition}`, Number(p.high) - 1);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (remaining.size === 0) return;

  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix ?? 'hub-reader'}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    readUncommitted: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  const idleMs = options.idleMs ?? 3000;
  let lastSeen = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (remaining.size === 0 || Date.now() - lastSeen > idleMs) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        lastSeen = Date.now();
        await each(batch);
        const key = `${batch.topic}/${batch.partition}`;
        const end = remaining.get(key);
        if (end !== undefined && Number(batch.lastOffset()) >= end) remaining.delete(key);
      },
    });
  });
  await consumer.disconnect();
}
