import type { Kafka } from 'kafkajs';
import { HubError } from './errors.js';
import { NAMESPACE } from './namespace.js';
import type { RecordBySchemaName, SchemaName } from './records.js';
import type { TopicCodec } from './registry.js';
import type { TopicSpec } from './topics.js';

/**
 * Reads a topic from the beginning to its current end (read_committed) and decodes every record.
 * The end is each partition's high watermark at the start; a partition whose remaining offsets are
 * only transaction markers is done once the consumer stops receiving (idleMs).
 */
export async function readTopic<N extends SchemaName>(
  kafka: Kafka,
  codec: TopicCodec,
  topic: TopicSpec,
  options: { idleMs?: number; groupPrefix?: string } = {},
): Promise<RecordBySchemaName[N][]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Awaited<ReturnType<typeof admin.fetchTopicOffsets>>;
  try {
    // kafkajs retries an unknown topic for 30 s and then throws a stack trace: say it at once.
    if (!(await admin.listTopics()).includes(topic.name)) {
      throw new HubError(
        `topic ${topic.name} does not exist: run \`npx hub topics create\` (namespace ${NAMESPACE})`,
      );
    }
    ends = await admin.fetchTopicOffsets(topic.name);
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map(
    ends.filter((p) => Number(p.high) > 0).map((p) => [p.partition, Number(p.high) - 1]),
  );
  const values: RecordBySchemaName[N][] = [];
  if (remaining.size === 0) return values;

  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix ?? 'hub-reader'}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    readUncommitted: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  const idleMs = options.idleMs ?? 3000;
  let lastSeen = Date.now();
  const failures: string[] = [];
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
        for (const message of batch.messages) {
          const decoded = await codec.decode(topic, message.value);
          if (decoded.ok) values.push(decoded.value.value as RecordBySchemaName[N]);
          else failures.push(`${batch.partition}/${message.offset}: ${decoded.error.code}`);
        }
        const end = remaining.get(batch.partition);
        if (end !== undefined && Number(batch.lastOffset()) >= end) remaining.delete(batch.partition);
      },
    });
  });
  await consumer.disconnect();
  if (failures.length > 0)
    throw new Error(`undecodable records on ${topic.name}: ${failures.slice(0, 5).join(', ')}`);
  return values;
}
