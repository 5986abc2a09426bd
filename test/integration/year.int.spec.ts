import '../support/fresh-namespace.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disclosureAggregation, recognitionDate } from '../../services/disclosure/aggregate.js';
import { loadSigningKey, verifyChain } from '../../services/disclosure/chain.js';
import { DisclosurePublisher } from '../../services/disclosure/publisher.js';
import { parseJsonFeed } from '../../services/disclosure/render/json.js';
import { createDisclosureServer, listen } from '../../services/disclosure/server.js';
import { payoutIngest } from '../../services/payout-ingest/adapter.js';
import { premiumIngest } from '../../services/premium-ingest/adapter.js';
import { reconciler } from '../../services/reconciler/adapter.js';
import { summarise } from '../../services/reconciler/summary.js';
import { settlementIngest } from '../../services/settlement-ingest/adapter.js';
import { serviceLag } from '../../shared/cli/status.js';
import { createTopics } from '../../shared/cli/topics.js';
import { REPO_ROOT } from '../../shared/config.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { createKafka } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { Decimal, formatMoney, type Money, sumMoney } from '../../shared/money.js';
import { readTopic } from '../../shared/read-topic.js';
import type {
  DeadLetter,
  LedgerPosting,
  PublicDisclosure,
  ReconciliationResult,
} from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import type { RunningService } from '../../shared/runner/runner.js';
import type { IngestService } from '../../shared/runner/service.js';
import { generateYear, isRawEvent } from '../../shared/simulate/generate.js';
import { publishEvents } from '../../shared/simulate/publish.js';
import type { GroundTruth } from '../../shared/simulate/truth.js';
import { ALL_TOPICS, TOPICS } from '../../shared/topics.js';
import { stack, startInProcess } from '../support/stack.js';

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
let publisher: DisclosurePublisher;
let server: Server;
let feedUrl = '';
const signingKey = loadSigningKey();

async function start<I>(service: IngestService<I>): Promise<void> {
  running.push(await startInProcess(service));
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
  await start(disclosureAggregation);

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
  await caughtUp(['reconciler', 'disclosure']);
  publisher = await DisclosurePublisher.start({
    endpoints: stack(),
    signingKey,
    threshold: 10,
    periods: 'all',
    logger: createLogger('disclosure', 'error'),
    regions: [...REGIONS],
  });
  await publisher.publishAll();
  server = createDisclosureServer({ source: publisher, key: signingKey, threshold: 10 });
  feedUrl = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  results = await readTopic<'reconciliation-result'>(kafka, codec, TOPICS.reconciliation, { idleMs: 1500 });
  ledger = await readTopic<'ledger-posting'>(kafka, codec, TOPICS.ledger, { idleMs: 1500 });
  for (const topic of [TOPICS.premiumDeadLetters, TOPICS.settlementDeadLetters, TOPICS.payoutDeadLetters]) {
    deadLetters.push(...(await readTopic<'dead-letter'>(kafka, codec, topic, { idleMs: 1500 })));
  }
}, 600_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await publisher?.stop();
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

const yearOf = (region: string): PublicDisclosure => {
  const records = publisher.disclosures().filter((d) => d.regionCode === region && d.periodLabel === '2025');
  const latest = records[records.length - 1];
  if (!latest) throw new Error(`no 2025 disclosure for ${region}`);
  return latest;
};
const net = (postings: LedgerPosting[], account: string, side: 'DEBIT' | 'CREDIT'): Money =>
  sumMoney(
    postings.flatMap((p) =>
      p.lines
        .filter((l) => l.account === account)
        .map((l) => (l.direction === side ? l.amount : l.amount.negated())),
    ),
  );

describe.each(REGIONS)('the public disclosure of region %s', (region) => {
  it('shows the sums over the ledger for the year', () => {
    const in2025 = ledger.filter((p) => p.regionCode === region && recognitionDate(p).startsWith('2025'));
    const disclosure = yearOf(region);
    const of = (...kinds: string[]) => in2025.filter((p) => kinds.includes(p.kind));
    expect(formatMoney(disclosure.premiumIncome)).toBe(
      formatMoney(net(of('PREMIUM_COLLECTED', 'PREMIUM_CORRECTED'), 'PREMIUM_INCOME', 'CREDIT')),
    );
    expect(formatMoney(disclosure.claimsPaidDirect)).toBe(
      formatMoney(
        sumMoney(of('SETTLEMENT_APPLIED', 'SETTLEMENT_REVERSED').map((p) => p.dueAmount ?? new Decimal(0))),
      ),
    );
    expect(formatMoney(disclosure.claimsPaidManual)).toBe(
      formatMoney(sumMoney(of('MANUAL_REIMBURSEMENT').map((p) => p.claimedAmount ?? new Decimal(0)))),
    );
    expect(formatMoney(disclosure.operatingCost)).toBe(
      formatMoney(net(of('OPERATING_COST'), 'OPERATING_COST_EXPENSE', 'DEBIT')),
    );
    // Everything is an aggregate: no pseudonym, hospital or claim id in the published record.
    expect(JSON.stringify(disclosure)).not.toMatch(/m_[0-9a-f]{32}|H\d{11}|CLM-/);
  });
});

describe('the disclosure feed', () => {
  it('the page, loaded in headless Chromium, shows the same figures as the JSON feed', async (context) => {
    const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    if (!existsSync(executablePath)) {
      process.stderr.write(
        `[year] skipped the browser check: no Chromium at ${executablePath} (apt-get install chromium)\n`,
      );
      context.skip();
    }
    const feed = parseJsonFeed(await (await fetch(`${feedUrl}/disclosures.json`)).text()).disclosures;
    const latest = new Map(
      feed.map((d) => [`${d.regionCode}:${d.periodLabel}`, d as unknown as Record<string, unknown>]),
    );
    const browser = await chromium.launch({
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${feedUrl}/`);
      expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
      expect(await page.locator('svg').count()).toBeGreaterThan(0);
      const shown = await page.$$eval('[data-figure]', (nodes) =>
        nodes.map(
          (n) =>
            [
              n.getAttribute('data-figure') ?? '',
              n.textContent?.trim() ?? '',
              n.getAttribute('data-null'),
            ] as const,
        ),
      );
      expect(shown.length).toBeGreaterThan(20);
      let compared = 0;
      for (const [key, text, isNull] of shown) {
        const [r, period, field] = key.split(':');
        const record = latest.get(`${r}:${period}`);
        expect(record, `a JSON record for ${r}:${period}`).toBeDefined();
        const value = record?.[field as string];
        if (value === null) expect(isNull, key).toBe('true');
        else expect(text, key).toBe(String(value));
        compared += 1;
      }
      expect(compared).toBe(shown.length);
    } finally {
      await browser.close();
    }
  });

  it('verifies as published, and a tampered disclosure fails verification', async () => {
    const text = await (await fetch(`${feedUrl}/disclosures.json`)).text();
    const { disclosures } = parseJsonFeed(text);
    expect(verifyChain(disclosures, signingKey.publicKey)).toEqual([]);
    const tampered = JSON.parse(text) as { disclosures: Array<Record<string, unknown>> };
    const target = tampered.disclosures[0] as Record<string, unknown>;
    target.premiumIncome = '1.00';
    expect(
      verifyChain(parseJsonFeed(JSON.stringify(tampered)).disclosures, signingKey.publicKey).join('; '),
    ).toMatch(/hash/i);

    const dir = mkdtempSync(join(tmpdir(), 'disclosure-'));
    writeFileSync(join(dir, 'good.json'), text);
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered));
    const verify = (file: string) =>
      spawnSync(
        process.execPath,
        [join(REPO_ROOT, 'shared/cli/hub.js'), 'disclosure', 'verify', '--file', join(dir, file)],
        {
          encoding: 'utf8',
        },
      );
    const good = verify('good.json');
    expect(good.status, good.stderr).toBe(0);
    const bad = verify('tampered.json');
    expect(bad.status).toBe(1);
    expect(`${bad.stdout}${bad.stderr}`).toMatch(/hash/i);
  });

  it('a late event yields a numbered correction that says what changed; the original is never rewritten', async () => {
    const before = yearOf('533100');
    const late = {
      payoutKind: 'OPERATING_COST' as const,
      costId: 'OPC-533100-2025-LATE',
      regionCode: '533100',
      period: '2025-12',
      category: 'OTHER' as const,
      amount: new Decimal('1234.56'),
      recordedOn: '2025-12-31',
      description: null,
    };
    await producer.send({
      topic: TOPICS.insurerPayout.name,
      messages: [{ key: '533100', value: codec.encode(TOPICS.insurerPayout, 'operating-cost', late) }],
    });
    await caughtUp(['payout-ingest']);
    await caughtUp(['disclosure']);
    const published = await publisher.publishAll(['533100']);
    const correction = published.find((d) => d.periodLabel === '2025');
    expect(correction?.correction).toBe(before.correction + 1);
    expect(correction?.supersedesSequence).toBe(before.sequence);
    expect(formatMoney(correction?.operatingCost ?? new Decimal(0))).toBe(
      formatMoney(before.operatingCost.plus('1234.56')),
    );
    expect((correction?.changes ?? []).join(' ')).toMatch(/operatingCost/);
    const chain = publisher.disclosures().filter((d) => d.regionCode === '533100');
    expect(chain.find((d) => d.sequence === before.sequence)?.hash).toBe(before.hash);
    expect(verifyChain(chain, signingKey.publicKey)).toEqual([]);
  });
});
