import type { Admin, Kafka } from 'kafkajs';
import { transactionalProducer } from '../../shared/kafka.js';

export interface TransactionTimes {
  /** Median and 90th percentile, ms, of each step and of the whole transaction. */
  readonly send: Percentiles;
  readonly sendOffsets: Percentiles;
  readonly commit: Percentiles;
  readonly total: Percentiles;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
}

/**
 * The floor of any exactly-once stage's latency on this broker: one kafkajs transaction of one record,
 * as the runner commits a chunk (send, sendOffsets, commit, with the runner's producer settings), one
 * after the other on one transactional id. A record passes two such stages before the ledger.
 */
export async function transactionTimes(
  kafka: Kafka,
  admin: Admin,
  namespace: string,
  rounds = 60,
): Promise<TransactionTimes> {
  const topic = `${namespace}.bench-transaction`;
  const input = `${topic}-input`;
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 1 },
      { topic: input, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  const producer = kafka.producer(transactionalProducer(`${topic}.0`));
  await producer.connect();
  const steps = {
    send: [] as number[],
    sendOffsets: [] as number[],
    commit: [] as number[],
    total: [] as number[],
  };
  const warmUp = 10;
  try {
    for (let i = 0; i < rounds + warmUp; i++) {
      const started = performance.now();
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ value: Buffer.alloc(300), partition: 0 }] });
      const sent = performance.now();
      await transaction.sendOffsets({
        consumerGroupId: `${topic}.group`,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: String(i + 1) }] }],
      });
      const offsets = performance.now();
      await transaction.commit();
      const committed = performance.now();
      if (i < warmUp) continue;
      steps.send.push(sent - started);
      steps.sendOffsets.push(offsets - sent);
      steps.commit.push(committed - offsets);
      steps.total.push(committed - started);
    }
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic, input] }).catch(() => {});
  }
  const of = (values: number[]): Percentiles => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) =>
      Number((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0).toFixed(1));
    return { p50: at(0.5), p90: at(0.9) };
  };
  return {
    send: of(steps.send),
    sendOffsets: of(steps.sendOffsets),
    commit: of(steps.commit),
    total: of(steps.total),
  };
}
