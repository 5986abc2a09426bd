import '../support/fresh-namespace.js';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payoutIngest } from '../../services/payout-ingest/adapter.js';
import { premiumIngest } from '../../services/premium-ingest/adapter.js';
import { reconciler } from '../../services/reconciler/adapter.js';
import { summarise } from '../../services/reconciler/summary.js';
import { settlementIngest } from '../../services/settlement-ingest/adapter.js';
import { serviceLag } from '../../shared/cli/status.js';
import { createTopics } from '../../shared/cli/topics.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { readTopic } from '../../shared/read-topic.js';
import type { DeadLetter, LedgerPosting, ReconciliationResult } from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { type RunningService, startService } from '../../shared/runner/runner.js';
import type { IngestService } from '../../shared/runner/service.js';
import { generateYear, isRawEvent } from '../../shared/simulate/generate.js';
import { publishEvents } from '../../shared/simulate/publish.js';
import type { GroundTruth } from '../../shared/simulate/truth.js';
import { ALL_TOPICS, TOPICS } from '../../shared/topics.js';
import { stack, uniqueName } from '../support/stack.js';

// A simulated year for both regions through every service: the reconciler must find exactly the
// faults the simulator injected, and nothing else; every bad record must end as its dead letter.

const REGIONS = ['410200', '533100'] as const;
const MEMBERS = 150;

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let codec: TopicCodec;
const running: RunningService[] = [];
const truths = new Map<string, GroundTruth>();
let results: ReconciliationResult[] = [];
let ledger: LedgerPosting[] = [];
const deadLetters: DeadLetter[] = [];

async function start<I>(service: IngestService<I>): Promise<void> {
  running.push(
    await startService(service, {
      endpoints: stack(),
      instanceId: uniqueName('year'),
      healthPort: 0,
      maxChunk: 1000,
      memoTtlSeconds: 3600,
      sessionTimeoutMs: 10_000,
      pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
      logger: createLogger(service.name, 'error'),
    }),
  );
}

async function caughtUp(services: readonly string[]): Promise<void> {
  const hub = createKafka(stack(), 'year-lag', createLogger('year', 'error'));
  const deadline = Date.now() + 120_000;
  while ((await serviceLag(hub)).some((r) => services.includes(r.service) && r.lag > 0)) {
    if (Date.now() > deadline) throw new Error(`${services.join(', ')} did not catch up`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  kafka = new Kafka({ clientId: 'year-int', brokers: stack().kafkaBrokers, logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, ALL_TOPICS, stack().kafkaBrokers.length);
  codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
  await codec.prepare(ALL_TOPICS);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (const service of [premiumIngest, settlementIngest, payoutIngest])
    await start(service as IngestService<unknown>);
  await start(reconciler);

  const ingest = ['premium-ingest', 'settlement-ingest', 'payout-ingest'];
  for (const region of REGIONS) {
    const { events, truth } = generateYear({
      region,
      year: 2025,
      members: MEMBERS,
      seed: 7,
      pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
    });
    truths.set(region, truth);
    // In publication order across topics, as a real year would deliver it (hub simulate --in-order).
    await publishEvents(
      producer,
      (event) =>
        isRawEvent(event) ? event.bytes : codec.encode(event.topic, event.record, event.value as never),
      events,
      { beforeTopicChange: () => caughtUp(ingest) },
    );
    await caughtUp(ingest);
  }
  await caughtUp(['reconciler']);
  results = await readTopic<'reconciliation-result'>(kafka, codec, TOPICS.reconciliation, { idleMs: 1500 });
  ledger = await readTopic<'ledger-posting'>(kafka, codec, TOPICS.ledger, { idleMs: 1500 });
  for (const topic of [TOPICS.premiumDeadLetters, TOPICS.settlementDeadLetters, TOPICS.payoutDeadLetters]) {
    deadLetters.push(...(await readTopic<'dead-letter'>(kafka, codec, topic, { idleMs: 1500 })));
  }
}, 600_000);

afterAll(async () => {
  for (const service of running) await service.stop();
  await producer?.disconnect();
  await admin?.disconnect();
});

describe.each(REGIONS)('a simulated year for region %s', (region) => {
  it('the reconciler finds exactly the injected faults, and nothing else', () => {
    const truth = truths.get(region) as GroundTruth;
    const latest = summarise(results.filter((r) => r.regionCode === region)).items;
    const status = new Map(latest.map((r) => [r.itemId, r.status]));
    const expected = new Map<string, string>([
      ...truth.reconciliation.hospitalMonths.map((h) => [h.itemId, h.status] as const),
      ...truth.reconciliation.manualClaims.map((c) => [c.itemId, c.status] as const),
      ...truth.reconciliation.memberYears.map((m) => [m.itemId, m.status] as const),
    ]);
    expect(Object.fromEntries([...status].sort())).toEqual(Object.fromEntries([...expected].sort()));

    // Every discrepancy is explained by an injected fault.
    const explained = new Set(
      truth.faults.injected.flatMap((f) => f.reconciliation.map((item) => item.itemId)),
    );
    const discrepancies = latest.filter((r) => r.status === 'DISCREPANCY').map((r) => r.itemId);
    expect(discrepancies.length).toBeGreaterThan(0);
    expect(discrepancies.filter((id) => !explained.has(id))).toEqual([]);
  });

  it('posts exactly what the simulator expects', () => {
    const truth = truths.get(region) as GroundTruth;
    const postings = ledger.filter((p) => p.regionCode === region);
    expect(postings.length).toBe(truth.counts.ledgerPostings.total);
    const byKind: Record<string, number> = {};
    for (const p of postings) byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
    expect(byKind).toEqual(truth.counts.ledgerPostings.by);
  });
});

describe('both regions together', () => {
  it('every bad record and duplicate ends as its dead letter, and messages in = postings + dead letters', () => {
    const all = [...truths.values()];
    const expected = all
      .flatMap((t) => t.deadLetters.map((d) => `${d.service}:${d.errorCode}:${d.field}`))
      .sort();
    const actual = deadLetters.map((l) => `${l.service}:${l.errorCode}:${l.field}`).sort();
    expect(actual).toEqual(expected);
    const published = all.reduce((sum, t) => sum + t.counts.published.total, 0);
    expect(ledger.length + deadLetters.length).toBe(published);
  });
});
