import { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidInput, ok, refuse } from '../../shared/errors.js';
import { balancedPosting, credit, debit } from '../../shared/ledger.js';
import { Decimal, formatMoney } from '../../shared/money.js';
import { NAMESPACE } from '../../shared/namespace.js';
import type { DeadLetter, LedgerPosting, PremiumCollected } from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import type { RunningService } from '../../shared/runner/runner.js';
import type { IngestService } from '../../shared/runner/service.js';
import type { TopicSpec } from '../../shared/topics.js';
import {
  consumeUntil,
  createTopics,
  stack,
  startInProcess,
  testKafka,
  uniqueName,
} from '../support/stack.js';

// The runner against the real stack, with a deliberately small service so the runner's own
// guarantees are what is tested: outputs and offsets in one transaction, state applied once,
// duplicates and poison input to the dead-letter topic, nothing lost.

const kafka = testKafka('runner-int');
let admin: Admin;
let redis: Redis;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  redis = new Redis(stack().redisUrl);
});

afterAll(async () => {
  await admin.disconnect();
  redis.disconnect();
});

function topicsFor(prefix: string) {
  const spec = (name: string, records: TopicSpec['records']): TopicSpec => ({
    name: uniqueName(`${prefix}.${name}`),
    records,
    key: 'test',
    partitions: 1,
    config: {},
    compatibility: 'BACKWARD',
    doc: 'test',
  });
  return {
    input: spec('in', ['premium-collected']),
    ledger: spec('ledger', ['ledger-posting']),
    deadLetters: spec('dlq', ['dead-letter']),
  };
}

/** Sums premiums per member in Redis and posts each one: enough to see state, outputs and refusals. */
function premiumCounter(
  topics: ReturnType<typeof topicsFor>,
  statePrefix: string,
): IngestService<PremiumCollected> {
  return {
    name: uniqueName('premium-counter'),
    input: topics.input,
    deadLetters: topics.deadLetters,
    outputs: [topics.ledger],
    parse: (decoded) =>
      decoded.record !== 'premium-collected'
        ? refuse(invalidInput('UNEXPECTED_RECORD', 'value', 'premium-collected only'))
        : decoded.value.amount.lte(0)
          ? refuse(
              invalidInput(
                'AMOUNT_NOT_POSITIVE',
                'amount',
                'a premium is positive',
                formatMoney(decoded.value.amount),
              ),
            )
          : ok(decoded.value),
    eventId: (input) => input.eventId,
    stateKeys: (input) => [`${statePrefix}:${input.taxVoucherNo}`],
    decide: (input, state, context) => {
      const key = `${statePrefix}:${input.taxVoucherNo}`;
      const total = new Decimal(state.hash(key).total ?? '0').plus(input.amount);
      const posting = balancedPosting({
        postingId: `PREMIUM_COLLECTED:${input.eventId}`,
        sourceEventId: input.eventId,
        sourceTopic: context.source.topic,
        sourcePartition: context.source.partition,
        sourceOffset: Number(context.source.offset),
        regionCode: input.regionCode,
        insuranceYear: input.coverYear,
        postingDate: input.paidOn,
        kind: 'PREMIUM_COLLECTED',
        lines: [debit('FUND_BANK', input.amount), credit('PREMIUM_INCOME', input.amount)],
        memberPseudonym: null,
        hospitalCode: null,
        serviceDate: null,
        claimedAmount: null,
        dueAmount: null,
        policyVersion: null,
        description: `total ${formatMoney(total)}`,
      });
      return ok({
        outputs: [{ topic: topics.ledger, key: input.regionCode, record: 'ledger-posting', value: posting }],
        writes: [{ key, fields: { total: formatMoney(total) } }],
      });
    },
  };
}

function premium(eventId: string, amount: string, voucher = 'V-1'): PremiumCollected {
  return {
    eventId,
    regionCode: '533100',
    nationalId: '11010519491231002X',
    payerType: 'UNIT_WITHHOLDING' as PremiumCollected['payerType'],
    employerCode: null,
    coverYear: 2025,
    amount: new Decimal(amount),
    paidOn: '2025-03-01',
    basicEnrolmentDate: null,
    taxVoucherNo: voucher,
  };
}

async function start(service: IngestService<PremiumCollected>): Promise<RunningService> {
  return startInProcess(service, { instanceId: 'test' });
}

describe('the shared runner', () => {
  it('posts every event once, dead-letters duplicates and poison input, and counts in = out', async () => {
    const topics = topicsFor('runner');
    await createTopics(admin, [topics.input.name, topics.ledger.name, topics.deadLetters.name]);
    const codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
    await codec.prepare([topics.input, topics.ledger, topics.deadLetters]);
    const statePrefix = uniqueName('state');

    const producer = kafka.producer();
    await producer.connect();
    const encode = (p: PremiumCollected) => codec.encode(topics.input, 'premium-collected', p);
    await producer.send({
      topic: topics.input.name,
      messages: [
        { key: 'm1', value: encode(premium('E1', '100.00')) },
        { key: 'm1', value: encode(premium('E2', '20.50')) },
        { key: 'm1', value: encode(premium('E1', '100.00')) }, // a producer retry: same event id
        { key: 'm1', value: Buffer.from('not avro at all') },
        { key: 'm1', value: Buffer.from([0, 0, 0x7f, 0xff, 0xff, 1, 2, 3]) }, // unknown schema id
        { key: 'm1', value: encode(premium('E3', '0.00')) }, // refused by the service's rule
        { key: 'm1', value: encode(premium('E4', '9.49')) },
      ],
    });
    await producer.disconnect();

    const service = await start(premiumCounter(topics, statePrefix));
    try {
      const ledger = await consumeUntil(
        kafka.consumer({ groupId: uniqueName('read') }),
        topics.ledger.name,
        (r) => r.length >= 3,
      );
      const dead = await consumeUntil(
        kafka.consumer({ groupId: uniqueName('read') }),
        topics.deadLetters.name,
        (r) => r.length >= 4,
      );
      const postings = await Promise.all(
        ledger.map(async (m) => (await codec.decode(topics.ledger, m.value)).ok),
      );
      expect(postings).toEqual([true, true, true]);
      const ids = await Promise.all(
        ledger.map(async (m) => {
          const decoded = await codec.decode(topics.ledger, m.value);
          return decoded.ok ? (decoded.value.value as LedgerPosting).postingId : 'undecodable';
        }),
      );
      expect(ids).toEqual(['PREMIUM_COLLECTED:E1', 'PREMIUM_COLLECTED:E2', 'PREMIUM_COLLECTED:E4']);

      const letters = await Promise.all(
        dead.map(async (m) => {
          const decoded = await codec.decode(topics.deadLetters, m.value);
          return decoded.ok ? (decoded.value.value as DeadLetter) : undefined;
        }),
      );
      expect(letters.map((l) => [l?.errorCode, l?.field, l?.offset])).toEqual([
        ['DUPLICATE_EVENT', 'eventId', 2],
        ['NOT_AVRO', 'value', 3],
        ['UNKNOWN_SCHEMA_ID', 'value', 4],
        ['AMOUNT_NOT_POSITIVE', 'amount', 5],
      ]);
      expect(letters[1]?.originalValue.toString()).toBe('not avro at all');
      // Seven in: three postings and four dead letters, nothing lost, nothing twice.
      expect(ledger.length + dead.length).toBe(7);
      expect(await redis.hget(`${statePrefix}:V-1`, 'total')).toBe('129.99');

      const metrics = await (await fetch(`http://127.0.0.1:${service.healthPort}/metrics`)).text();
      expect(metrics).toMatch(/hub_messages_in_total\{[^}]*\} 7/);
      expect((await fetch(`http://127.0.0.1:${service.healthPort}/healthz`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });

  it('replays a chunk whose state was applied but whose transaction never committed, emitting the same records once', async () => {
    const topics = topicsFor('replay');
    await createTopics(admin, [topics.input.name, topics.ledger.name, topics.deadLetters.name]);
    const codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
    await codec.prepare([topics.input, topics.ledger, topics.deadLetters]);
    const statePrefix = uniqueName('state');
    const base = premiumCounter(topics, statePrefix);

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.input.name,
      messages: [
        { key: 'm', value: codec.encode(topics.input, 'premium-collected', premium('R1', '50.00', 'V-R')) },
      ],
    });
    await producer.disconnect();

    // First run applies the state, the memo and the transaction.
    const first = await start(base);
    const ledger = await consumeUntil(
      kafka.consumer({ groupId: uniqueName('read') }),
      topics.ledger.name,
      (r) => r.length >= 1,
    );
    await first.stop();
    expect(ledger).toHaveLength(1);

    // Rewind the committed offset: the message is read again exactly as after a crash between the
    // state script and the commit (in a real crash the first transaction is aborted, so only the
    // replay's copy is ever visible; here both are, which lets us compare them byte for byte).
    await admin.setOffsets({
      groupId: `${NAMESPACE}.${base.name}`,
      topic: topics.input.name,
      partitions: [{ partition: 0, offset: '0' }],
    });
    const second = await start(base);
    try {
      const all = await consumeUntil(
        kafka.consumer({ groupId: uniqueName('read') }),
        topics.ledger.name,
        (r) => r.length >= 2,
        20_000,
      );
      expect(all.map((m) => m.value?.toString('base64'))).toEqual([
        ledger[0]?.value?.toString('base64'),
        ledger[0]?.value?.toString('base64'),
      ]);
      // The event id's memo points at the same offset, so the replay re-emitted the remembered posting
      // (in the same transaction a dead letter would have been in), not a DUPLICATE_EVENT, and the
      // state was not added to twice.
      const again = await consumeUntil(
        kafka.consumer({ groupId: uniqueName('read') }),
        topics.deadLetters.name,
        (r) => r.length >= 1,
        2000,
      );
      expect(again).toHaveLength(0);
      expect(await redis.hget(`${statePrefix}:V-R`, 'total')).toBe('50.00');
    } finally {
      await second.stop();
    }
  });
});
