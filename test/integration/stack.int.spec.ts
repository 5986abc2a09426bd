import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeUntil, createTopics, stack, testKafka, testRedis, uniqueName } from '../support/stack.js';

// Proves the stack is real: the registry, a broker's transactions and Redis scripting all work as the hub needs.

const kafka = testKafka('stack-int');
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
});

const paymentV1 = {
  type: 'record',
  name: 'StackProbePayment',
  namespace: 'cn.medfund.hub.test',
  fields: [
    { name: 'paymentId', type: 'string' },
    { name: 'amountFen', type: 'long' },
  ],
};

describe('schema registry (Confluent-compatible API)', () => {
  it('round-trips an Avro record: register, encode, produce, consume, decode', async () => {
    const registry = new SchemaRegistry({ host: stack().schemaRegistryUrl });
    const topic = uniqueName('avro');
    await createTopics(admin, [topic]);
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(paymentV1) },
      { subject: `${topic}-value`, compatibility: COMPATIBILITY.BACKWARD },
    );
    expect(id).toBeGreaterThan(0);

    const producer = kafka.producer();
    await producer.connect();
    const value = await registry.encode(id, { paymentId: 'P-1', amountFen: 123450 });
    await producer.send({ topic, messages: [{ key: 'P-1', value }] });
    await producer.disconnect();

    const [message] = await consumeUntil(
      kafka.consumer({ groupId: uniqueName('g') }),
      topic,
      (r) => r.length >= 1,
    );
    expect(message?.value?.readUInt8(0)).toBe(0); // Confluent wire format: magic byte, then the schema id
    expect(message?.value?.readInt32BE(1)).toBe(id);
    expect(await registry.decode(message?.value as Buffer)).toEqual({ paymentId: 'P-1', amountFen: 123450 });
  });

  it('accepts a BACKWARD-compatible change and refuses one that breaks BACKWARD compatibility', async () => {
    const registry = new SchemaRegistry({ host: stack().schemaRegistryUrl });
    const subject = `${uniqueName('compat')}-value`;
    const register = (schema: object) =>
      registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY.BACKWARD },
      );
    await register(paymentV1);
    const withOptionalNote = {
      ...paymentV1,
      fields: [...paymentV1.fields, { name: 'note', type: ['null', 'string'], default: null }],
    };
    await expect(register(withOptionalNote)).resolves.toHaveProperty('id');
    const withRequiredField = {
      ...paymentV1,
      fields: [...paymentV1.fields, { name: 'payerType', type: 'string' }],
    };
    await expect(register(withRequiredField)).rejects.toThrow(/incompatible|compatib/i);
  });
});

describe('Kafka transactions (kafkajs 2.2.4 against this broker)', () => {
  it('commits produced records and consumed offsets atomically, and hides aborted records from read_committed', async () => {
    const input = uniqueName('tx-in');
    const output = uniqueName('tx-out');
    const groupId = uniqueName('tx-group');
    await createTopics(admin, [input, output]);

    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await plain.disconnect();

    const producer = kafka.producer({
      transactionalId: uniqueName('tx-id'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();

    // Read-process-write: the outputs and the input offset go in one transaction.
    const consumer = kafka.consumer({ groupId });
    const committed = await new Promise<number>((resolve, reject) => {
      void (async () => {
        await consumer.connect();
        await consumer.subscribe({ topic: input, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            try {
              const tx = await producer.transaction();
              await tx.send({
                topic: output,
                messages: batch.messages.map((m) => ({ value: `processed:${m.value?.toString()}` })),
              });
              const next = (BigInt(batch.lastOffset()) + 1n).toString();
              await tx.sendOffsets({
                consumerGroupId: groupId,
                topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
              });
              await tx.commit();
              if (batch.lastOffset() === '2') resolve(Number(next));
            } catch (error) {
              reject(error);
            }
          },
        });
      })().catch(reject);
    });
    // Outside eachBatch: disconnecting inside it would wait for the batch that is waiting for it.
    await consumer.disconnect();
    expect(committed).toBe(3);

    // An aborted transaction, then a committed one: read_committed must see only the latter.
    const aborted = await producer.transaction();
    await aborted.send({ topic: output, messages: [{ value: 'aborted' }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic: output, messages: [{ value: 'after-abort' }] });
    await last.commit();
    await producer.disconnect();

    const seen = await consumeUntil(
      kafka.consumer({ groupId: uniqueName('reader'), readUncommitted: false }),
      output,
      (r) => r.some((m) => m.value?.toString() === 'after-abort'),
    );
    expect(seen.map((m) => m.value?.toString())).toEqual([
      'processed:a',
      'processed:b',
      'processed:c',
      'after-abort',
    ]);

    // Transaction markers are written asynchronously after commit: the offset becomes visible shortly.
    await expect
      .poll(async () => (await admin.fetchOffsets({ groupId, topics: [input] }))[0]?.partitions[0]?.offset, {
        timeout: 10_000,
      })
      .toBe('3');
  });
});

describe('Redis', () => {
  it('runs a Lua script that updates state atomically and returns its result', async () => {
    const redis = testRedis();
    const key = uniqueName('lua');
    // Adds to a counter once per event id: a replayed event id returns the remembered result.
    const script = `
      local seen = redis.call('HGET', KEYS[1], 'event:' .. ARGV[1])
      if seen then return {0, seen} end
      local total = redis.call('HINCRBY', KEYS[1], 'total', ARGV[2])
      redis.call('HSET', KEYS[1], 'event:' .. ARGV[1], total)
      return {1, tostring(total)}`;
    try {
      expect(await redis.eval(script, 1, key, 'e1', '150')).toEqual([1, '150']);
      expect(await redis.eval(script, 1, key, 'e2', '50')).toEqual([1, '200']);
      expect(await redis.eval(script, 1, key, 'e1', '150')).toEqual([0, '150']);
      expect(await redis.hget(key, 'total')).toBe('200');
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });
});
