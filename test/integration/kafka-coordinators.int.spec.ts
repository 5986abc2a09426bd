import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Importing the hub's Kafka module installs the coordinator cache, as in every hub process.
import { transactionalProducer } from '../../shared/kafka.js';
import { COORDINATOR_CACHE_MS } from '../../shared/kafka-coordinators.js';
import { kafkajsSecurity } from '../../shared/security.js';
import { consumeUntil, createTopics, stack, testKafka, uniqueName } from '../support/stack.js';

// shared/kafka-coordinators.ts: kafkajs asks for the coordinator before every coordinator request (four
// times a transaction); with the cache it asks about once a COORDINATOR_CACHE_MS per coordinator, and the
// transactions still commit their records and offsets.

/** Requests this client sent, by kafkajs's name for them (its debug log says "Request <Name>(key: ...)"). */
const requests: string[] = [];
const kafka = new Kafka({
  clientId: 'coordinator-cache-int',
  brokers: stack().kafkaBrokers,
  ...kafkajsSecurity(stack().security?.kafka),
  logLevel: logLevel.DEBUG,
  logCreator:
    () =>
    ({ log }) => {
      const sent = /^Request (\w+)\(/.exec(log.message);
      if (sent?.[1]) requests.push(sent[1]);
    },
});
const admin = testKafka('coordinator-cache-admin').admin();

beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
});

describe('the kafkajs coordinator cache', () => {
  it('looks a coordinator up about once a second instead of four times a transaction, and commits every transaction', async () => {
    const output = uniqueName('coord-out');
    const input = uniqueName('coord-in');
    const groupId = uniqueName('coord-group');
    await createTopics(admin, [output, input]);
    const producer = kafka.producer(transactionalProducer(uniqueName('coord-tx')));
    await producer.connect();
    const transactions = 20;
    const lookUps = () => requests.filter((name) => name === 'GroupCoordinator').length;
    let before = 0;
    let started = 0;
    try {
      for (let i = 0; i < transactions; i++) {
        if (i === 1) {
          // The first transaction initialises the producer id; count from the second on.
          before = lookUps();
          started = performance.now();
        }
        const transaction = await producer.transaction();
        await transaction.send({ topic: output, messages: [{ value: `record-${i}` }] });
        await transaction.sendOffsets({
          consumerGroupId: groupId,
          topics: [{ topic: input, partitions: [{ partition: 0, offset: String(i + 1) }] }],
        });
        await transaction.commit();
      }
      const elapsed = performance.now() - started;
      const made = lookUps() - before;
      // Two coordinators (the transaction's and the group's), each looked up at most once per cache period.
      const allowed = 2 * (Math.ceil(elapsed / COORDINATOR_CACHE_MS) + 1);
      expect(made, `${made} lookups in ${elapsed.toFixed(0)} ms`).toBeLessThanOrEqual(allowed);
      // Without the cache: four a transaction.
      expect(made).toBeLessThan(4 * (transactions - 1));

      // Once the entry is older than the cache period, the next transaction asks again.
      await sleep(COORDINATOR_CACHE_MS + 100);
      const beforeExpiry = lookUps();
      const late = await producer.transaction();
      await late.send({ topic: output, messages: [{ value: `record-${transactions}` }] });
      await late.commit();
      expect(lookUps()).toBeGreaterThan(beforeExpiry);
    } finally {
      await producer.disconnect();
    }

    const seen = await consumeUntil(
      testKafka('coordinator-cache-reader').consumer({ groupId: uniqueName('coord-reader') }),
      output,
      (received) => received.length >= transactions + 1,
    );
    expect(seen.map((m) => m.value?.toString())).toEqual(
      Array.from({ length: transactions + 1 }, (_, i) => `record-${i}`),
    );
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [input] });
    expect(offsets?.partitions).toEqual([
      expect.objectContaining({ partition: 0, offset: String(transactions) }),
    ]);
  });
});
