import type { Admin, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { transactionalProducer } from '../../shared/kafka.js';
import type { TopicSpec } from '../../shared/topics.js';

/**
 * The ceiling of any kafkajs exactly-once pipeline on this broker: consume the topic, and for each chunk
 * of a batch (as the runner chunks, `maxChunk` records) produce the same bytes to an output topic in one
 * transaction with the consumed offsets (`sendOffsets`), one transactional producer per input partition
 * (as the runner fences per partition). No decoding, no logic, no Redis. Returns records per second from
 * the consumer's start to the last commit.
 */
export async function eosPassthroughRate(
  kafka: Kafka,
  admin: Admin,
  input: TopicSpec,
  events: number,
  maxChunk: number,
  namespace: string,
): Promise<number> {
  const output = `${namespace}.bench-passthrough`;
  await admin.createTopics({
    topics: [{ topic: output, numPartitions: input.partitions }],
    waitForLeaders: true,
  });
  const groupId = `${namespace}.bench-passthrough`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  const producers = new Map<number, Producer>();
  const producerFor = async (partition: number): Promise<Producer> => {
    let producer = producers.get(partition);
    if (!producer) {
      producer = kafka.producer(transactionalProducer(`${groupId}.${partition}`));
      await producer.connect();
      producers.set(partition, producer);
    }
    return producer;
  };
  await consumer.connect();
  await consumer.subscribe({ topic: input.name, fromBeginning: true });
  let committed = 0;
  const start = Date.now();
  await new Promise<void>((resolve, reject) => {
    void consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          const producer = await producerFor(batch.partition);
          for (let i = 0; i < batch.messages.length; i += maxChunk) {
            const chunk = batch.messages.slice(i, i + maxChunk);
            const last = chunk[chunk.length - 1] as KafkaMessage;
            const txn = await producer.transaction();
            try {
              await txn.send({
                topic: output,
                messages: chunk.map((m) => ({ key: m.key, value: m.value, partition: batch.partition })),
              });
              await txn.sendOffsets({
                consumerGroupId: groupId,
                topics: [
                  {
                    topic: batch.topic,
                    partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }],
                  },
                ],
              });
              await txn.commit();
            } catch (error) {
              await txn.abort().catch(() => {});
              throw error;
            }
            resolveOffset(last.offset);
            committed += chunk.length;
            await heartbeat();
            if (committed >= events) resolve();
          }
        },
      })
      .catch(reject);
  });
  const rate = events / ((Date.now() - start) / 1000);
  await consumer.disconnect();
  await Promise.all([...producers.values()].map((p) => p.disconnect()));
  await admin.deleteTopics({ topics: [output] }).catch(() => {});
  return rate;
}
