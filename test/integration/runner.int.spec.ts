import type { Redis } from 'ioredis';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidInput, ok, refuse } from '../../shared/errors.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { balancedPosting, credit, debit } from '../../shared/ledger.js';
import { createLogger } from '../../shared/logger.js';
import { Decimal, formatMoney, type Money } from '../../shared/money.js';
import { readTopic } from '../../shared/read-topic.js';
import type { DeadLetter, LedgerPosting, PremiumCollected } from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { metaKey, serviceKeyPrefix } from '../../shared/runner/partition-state.js';
import { deleteKeys, rebuildState } from '../../shared/runner/rebuild.js';
import type { RunningService } from '../../shared/runner/runner.js';
import { decided, type EntityKind, entity, type Service } from '../../shared/runner/service.js';
import type { TopicSpec } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import { createTopics, stack, startInProcess, testKafka, testRedis, uniqueName } from '../support/stack.js';

const CONFIG = testConfig();
const NAMESPACE = CONFIG.namespace;

// The runner against the real stack, with a deliberately small stateful service, so what is tested is
// the runner's own promise: outputs, dead letters and offsets in one Kafka transaction; state written
// after the commit with its watermark; a gap between the two replayed without publishing again; state
// that is missing refused until `hub rebuild`; and counts in = counts out.

const kafka = testKafka('runner-int');
let admin: Admin;
let redis: Redis;
let producer: Producer;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  redis = testRedis();
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await admin.disconnect();
  await deleteKeys(redis, `${NAMESPACE}:*`);
  redis.disconnect();
});

/** A test topic of one partition, its name unique to the run. */
const spec = (prefix: string, name: string, records: TopicSpec['records']): TopicSpec => ({
  name: uniqueName(`${prefix}.${name}`),
  records,
  key: 'test',
  partitions: 1,
  config: {},
  compatibility: 'BACKWARD',
  doc: 'test',
});

function topicsFor(prefix: string) {
  return {
    input: spec(prefix, 'in', ['premium-collected']),
    ledger: spec(prefix, 'ledger', ['ledger-posting']),
    deadLetters: spec(prefix, 'dlq', ['dead-letter']),
    changelog: spec(prefix, 'changelog', ['state-change']),
  };
}

interface MemberTotal {
  readonly total: Money;
  readonly count: number;
  readonly seen: readonly string[];
}

/** A member's running total of premiums, and the event ids it counted. */
const MEMBER_TOTAL: EntityKind<MemberTotal> = {
  name: 'member-total',
  empty: () => ({ total: new Decimal(0), count: 0, seen: [] }),
  encode: (t) => ({ total: formatMoney(t.total), count: String(t.count), seen: JSON.stringify(t.seen) }),
  decode: (f) => ({
    total: new Decimal(f.total ?? '0'),
    count: Number(f.count ?? 0),
    seen: JSON.parse(f.seen ?? '[]') as string[],
  }),
};

/** Sums premiums per member and posts each with its running count: enough to see state, outputs and refusals. */
function premiumCounter(
  topics: ReturnType<typeof topicsFor>,
  name = uniqueName('counter'),
): Service<PremiumCollected> {
  return {
    name,
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
    state: {
      changelog: topics.changelog,
      kinds: [MEMBER_TOTAL as EntityKind<unknown>],
      entitiesOf: (p) => [entity(MEMBER_TOTAL, p.taxVoucherNo)],
    },
    decide: (p, store) => {
      const before = store.get(MEMBER_TOTAL, p.taxVoucherNo);
      if (before.seen.includes(p.eventId)) {
        return refuse(invalidInput('DUPLICATE_EVENT', 'eventId', 'an event is counted once', p.eventId));
      }
      const after = {
        total: before.total.plus(p.amount),
        count: before.count + 1,
        seen: [...before.seen, p.eventId],
      };
      store.put(MEMBER_TOTAL, p.taxVoucherNo, after);
      const posting: LedgerPosting = balancedPosting({
        postingId: `PREMIUM_COLLECTED:${p.eventId}`,
        sourceEventId: p.eventId,
        sourceTopic: topics.input.name,
        sourcePartition: 0,
        sourceOffset: 0,
        regionCode: '533100',
        insuranceYear: 2025,
        postingDate: '2025-03-01',
        kind: 'PREMIUM_COLLECTED',
        lines: [debit('FUND_BANK', p.amount), credit('PREMIUM_INCOME', p.amount)],
        memberPseudonym: null,
        hospitalCode: null,
        serviceDate: null,
        claimedAmount: null,
        dueAmount: null,
        policyVersion: null,
        description: `running total ${formatMoney(after.total)}`,
        flags: [],
        sequence: after.count,
        revision: 0,
        relatedPostingId: null,
        causeEventId: null,
        causeDate: null,
        settlementIds: [],
        receivedOn: null,
      });
      return ok(
        decided([{ topic: topics.ledger, key: p.taxVoucherNo, record: 'ledger-posting', value: posting }]),
      );
    },
  };
}

const premium = (eventId: string, amount: string, member = 'V-1'): PremiumCollected => ({
  eventId,
  regionCode: '533100',
  nationalId: '533102197001011234',
  payerType: 'UNIT_SHARE',
  employerCode: null,
  coverYear: 2025,
  amount: new Decimal(amount),
  paidOn: '2025-03-01',
  basicEnrolmentDate: null,
  taxVoucherNo: member,
});

async function setUp(prefix: string) {
  const topics = topicsFor(prefix);
  await createTopics(admin, [
    topics.input.name,
    topics.ledger.name,
    topics.deadLetters.name,
    topics.changelog.name,
  ]);
  const codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
  await codec.prepare([topics.input, topics.ledger, topics.deadLetters]);
  const send = (values: Array<Buffer>, key = 'm1') =>
    producer.send({ topic: topics.input.name, acks: -1, messages: values.map((value) => ({ key, value })) });
  const encode = (p: PremiumCollected) => codec.encode(topics.input, 'premium-collected', p);
  return { topics, codec, send, encode };
}

/** What `hub rebuild` is given in this namespace, on the test stack. */
const rebuildOptions = () => ({
  config: CONFIG,
  endpoints: stack(),
  pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
  logger: createLogger('rebuild', 'error'),
});

async function postingsOf(codec: TopicCodec, topic: TopicSpec): Promise<LedgerPosting[]> {
  return readTopic<'ledger-posting'>(kafka, codec, topic, { idleMs: 1000 });
}

/** Waits until the service's group has committed `offset` on the input's only partition. */
async function committedUpTo(service: Service<unknown>, offset: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [entry] = await admin.fetchOffsets({
      groupId: `${NAMESPACE}.${service.name}`,
      topics: [service.input.name],
    });
    if (Number(entry?.partitions[0]?.offset ?? -1) >= offset) return;
    if (Date.now() > deadline) throw new Error(`${service.name} did not commit offset ${offset}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the shared runner', () => {
  it('posts every event once, dead-letters duplicates and poison input, and counts in = out', async () => {
    const { topics, codec, send, encode } = await setUp('runner');
    await send([
      encode(premium('E1', '100.00')),
      encode(premium('E2', '20.50')),
      encode(premium('E1', '100.00')), // the same event id again
      Buffer.from('not avro at all'),
      Buffer.from([0, 0, 0x7f, 0xff, 0xff, 1, 2, 3]), // unknown schema id
      encode(premium('E3', '0.00')), // refused by the service's rule
      encode(premium('E4', '9.49')),
    ]);
    const service = premiumCounter(topics);
    const running = await startInProcess(CONFIG, service);
    try {
      await committedUpTo(service as Service<unknown>, 7);
      const postings = await postingsOf(codec, topics.ledger);
      expect(postings.map((p) => [p.postingId, p.sequence])).toEqual([
        ['PREMIUM_COLLECTED:E1', 1],
        ['PREMIUM_COLLECTED:E2', 2],
        ['PREMIUM_COLLECTED:E4', 3],
      ]);
      const letters = await readTopic<'dead-letter'>(kafka, codec, topics.deadLetters, { idleMs: 1000 });
      expect(letters.map((l: DeadLetter) => [l.errorCode, l.field, l.offset])).toEqual([
        ['DUPLICATE_EVENT', 'eventId', 2],
        ['NOT_AVRO', 'value', 3],
        ['UNKNOWN_SCHEMA_ID', 'value', 4],
        ['AMOUNT_NOT_POSITIVE', 'amount', 5],
      ]);
      expect(letters[1]?.originalValue.toString()).toBe('not avro at all');
      expect(postings.length + letters.length).toBe(7);
      // The state and its watermark: written once the transaction committed.
      const prefix = `${serviceKeyPrefix(NAMESPACE, service.name)}{${service.name}.0}:`;
      expect(await redis.hget(`${prefix}member-total:V-1`, 'total')).toBe('129.99');
      expect(await redis.hget(metaKey(NAMESPACE, service.name, 0), 'offset')).toBe('7');
      const metrics = await (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text();
      expect(metrics).toMatch(/hub_messages_in_total\{[^}]*\} 7/);
      expect((await fetch(`http://127.0.0.1:${running.healthPort}/readyz`)).status).toBe(200);
    } finally {
      await running.stop();
    }
  });

  it('a crash after the commit and before the state is written: the next owner replays the gap and publishes nothing twice', async () => {
    const { topics, codec, send, encode } = await setUp('gap');
    const service = premiumCounter(topics);
    await send(Array.from({ length: 30 }, (_, i) => encode(premium(`G${i}`, '1.00'))));
    const running: RunningService[] = [];
    const crashed = new Promise<Error>((resolve) => {
      void startInProcess(CONFIG, service, {
        maxChunk: 10,
        testFaults: { crashAfterCommits: 2 },
        onFatal: resolve,
      }).then((r) => running.push(r));
    });
    expect((await crashed).name).toBe('TestCrash');
    await running[0]?.stop();
    // Two chunks are on the ledger, but the state holds only the first.
    expect(await redis.hget(metaKey(NAMESPACE, service.name, 0), 'offset')).toBe('10');

    const next = await startInProcess(CONFIG, service, { maxChunk: 10 });
    try {
      await committedUpTo(service as Service<unknown>, 30);
      const postings = await postingsOf(codec, topics.ledger);
      expect(postings.map((p) => p.postingId)).toEqual(
        Array.from({ length: 30 }, (_, i) => `PREMIUM_COLLECTED:G${i}`),
      );
      expect(postings.map((p) => p.sequence)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const metrics = await (await fetch(`http://127.0.0.1:${next.healthPort}/metrics`)).text();
      expect(metrics).toMatch(/hub_state_replayed_total\{[^}]*\} 10/);
    } finally {
      await next.stop();
    }
  });

  it.each(['changelog', 'input'] as const)(
    'refuses to decide when its state is gone from Redis, says to run hub rebuild, and after the rebuild (from its %s) carries on as if nothing happened',
    async (from) => {
      const { topics, codec, send, encode } = await setUp('lost');
      const service = premiumCounter(topics);
      await send(Array.from({ length: 12 }, (_, i) => encode(premium(`L${i}`, '2.00'))));
      let running = await startInProcess(CONFIG, service, { maxChunk: 5 });
      await committedUpTo(service as Service<unknown>, 12);
      await running.stop();

      await deleteKeys(redis, `${serviceKeyPrefix(NAMESPACE, service.name)}*`);
      await send([encode(premium('L12', '2.00')), encode(premium('L1', '2.00'))]);
      const refused = await new Promise<Error>((resolve) => {
        void startInProcess(CONFIG, service, { onFatal: resolve }).then((r) => (running = r));
      });
      await running.stop();
      expect(refused.name).toBe('StateLostError');
      expect(refused.message).toContain(`npx hub rebuild --service ${service.name}`);
      expect((await postingsOf(codec, topics.ledger)).length).toBe(12);

      const report = await rebuildState(service, { ...rebuildOptions(), from });
      // 12 records, published without transactions: no markers among the offsets.
      expect(report.inputOffsets).toBe(12);
      // From the changelog: the origin, then one record per field a chunk wrote (3 chunks, of 5, 5 and 2
      // premiums, each writing the member total's 3 fields).
      expect(report.records).toBe(from === 'input' ? 12 : 1 + 3 * 3);
      running = await startInProcess(CONFIG, service);
      try {
        await committedUpTo(service as Service<unknown>, 14);
        const postings = await postingsOf(codec, topics.ledger);
        // The rebuilt state knows L1 (a duplicate now) and counts on from 12.
        expect(postings.map((p) => [p.postingId, p.sequence]).slice(-1)).toEqual([
          ['PREMIUM_COLLECTED:L12', 13],
        ]);
        const letters = await readTopic<'dead-letter'>(kafka, codec, topics.deadLetters, { idleMs: 1000 });
        expect(letters.map((l) => [l.errorCode, l.offset])).toEqual([['DUPLICATE_EVENT', 13]]);
      } finally {
        await running.stop();
      }
    },
  );

  it("refuses to restore from a changelog that does not reach back to the state's start, and rebuilds from the input instead", async () => {
    const { topics, codec, send, encode } = await setUp('origin');
    const service = premiumCounter(topics);
    await send(Array.from({ length: 6 }, (_, i) => encode(premium(`O${i}`, '3.00'))));
    let running = await startInProcess(CONFIG, service, { maxChunk: 5 });
    await committedUpTo(service as Service<unknown>, 6);
    await running.stop();
    // As if the state were older than the changelog (a hub without changelogs ran first): the same
    // service, its state in Redis, writing from now on to a changelog that never saw the state start.
    const later = spec('origin', 'changelog-later', ['state-change']);
    await createTopics(admin, [later.name]);
    const upgraded: Service<PremiumCollected> = {
      ...service,
      state: { ...(service.state as NonNullable<typeof service.state>), changelog: later },
    };
    await send([encode(premium('O6', '3.00'))]);
    running = await startInProcess(CONFIG, upgraded);
    await committedUpTo(upgraded as Service<unknown>, 7);
    await running.stop();

    await deleteKeys(redis, `${serviceKeyPrefix(NAMESPACE, service.name)}*`);
    const options = rebuildOptions();
    const refused = await rebuildState(upgraded, options).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused?.message).toContain('does not begin with the origin record');
    expect(refused?.message).toContain(`npx hub rebuild --service ${service.name} --from input`);
    // The first changelog reaches back, but not to offset 7: only the input holds the whole state.
    const report = await rebuildState(upgraded, { ...options, from: 'input' });
    expect(report.records).toBe(7);
    await send([encode(premium('O7', '3.00'))]);
    running = await startInProcess(CONFIG, upgraded);
    try {
      await committedUpTo(upgraded as Service<unknown>, 8);
      const postings = await postingsOf(codec, topics.ledger);
      expect(postings.map((p) => [p.postingId, p.sequence]).slice(-1)).toEqual([['PREMIUM_COLLECTED:O7', 8]]);
    } finally {
      await running.stop();
    }
  });
});
