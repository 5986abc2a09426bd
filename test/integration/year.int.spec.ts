import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateYear,
  isRawEvent,
  type SimEvent,
  type SimulatedYear,
} from '../../deploy/simulate/generate.js';
import { publishEvents } from '../../deploy/simulate/publish.js';
import { servicesFor } from '../../services/catalogue.js';
import { loadSigningKey, verifyChain } from '../../services/disclosure/chain.js';
import { DisclosurePublisher } from '../../services/disclosure/publisher.js';
import { parseJsonFeed } from '../../services/disclosure/render/json.js';
import { createDisclosureServer, listen } from '../../services/disclosure/server.js';
import { createTopics } from '../../services/hub-cli/topics.js';
import { summarise } from '../../services/reconciler/summary.js';
import { hubConfig, REPO_ROOT } from '../../shared/config.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { Decimal, formatMoney } from '../../shared/money.js';
import { readTopic } from '../../shared/read-topic.js';
import type {
  DeadLetter,
  LedgerPosting,
  PublicDisclosure,
  ReconciliationResult,
} from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { deleteKeys } from '../../shared/runner/rebuild.js';
import type { RunningService } from '../../shared/runner/runner.js';
import type { Service } from '../../shared/runner/service.js';
import { allTopics, type TopicSpec, topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import { NamespacedHub } from '../support/namespaced.js';
import { referenceBooks, referenceInputOf, yuanText } from '../support/reference.js';
import {
  applyNamespaceAcls,
  caughtUp,
  endpointsOf,
  hubCommandEnvironment,
  stack,
  startInProcess,
  testKafka,
  testRedis,
} from '../support/stack.js';

const CONFIG = testConfig();
const NAMESPACE = CONFIG.namespace;
const TOPICS = topicsFor(CONFIG);
const ALL_TOPICS = allTopics(TOPICS);
const SERVICES = servicesFor(TOPICS);

// A simulated year of both regions through every service, three ways: in publication order (this file's
// namespace, services in this process, the page and the chain checked here); with premium-ingest first
// and the others after it caught up, Redis wiped in the middle and rebuilt from Kafka; and with the
// hospitals and the insurer first and premium-ingest only after they caught up. The annual disclosures,
// the final hospital-month and manual-claim items and the open member-year items must be identical in
// all three, and their amounts must equal an independent reference calculation.

const REGIONS = ['410200', '533100'] as const;
const MEMBERS = 150;
const INGEST = SERVICES.filter((s) => s.name.endsWith('-ingest'));
const byName = (name: string) => SERVICES.find((s) => s.name === name) as Service<unknown>;

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let codec: TopicCodec;
let redis: Redis;
const running: RunningService[] = [];
const years = new Map<string, SimulatedYear>();
let results: ReconciliationResult[] = [];
let ledger: LedgerPosting[] = [];
let journalCount = 0;
const deadLetters: DeadLetter[] = [];
let publisher: DisclosurePublisher;
let server: Server;
let feedUrl = '';
const signingKey = loadSigningKey();
const hubs: NamespacedHub[] = [];

interface RunOutcome {
  readonly disclosures: PublicDisclosure[];
  readonly results: ReconciliationResult[];
}
const outcomes = new Map<string, RunOutcome>();
let refusedWithoutRebuild = '';

const encoderFor = (c: TopicCodec, rename: (t: TopicSpec) => TopicSpec) => (event: SimEvent) =>
  isRawEvent(event) ? event.bytes : c.encode(rename(event.topic), event.record, event.value as never);

/** Publishes events (already in the order wanted) to a hub's input topics. */
async function publish(
  events: readonly SimEvent[],
  rename: (t: TopicSpec) => TopicSpec,
  c: TopicCodec,
  beforeTopicChange?: () => Promise<void>,
) {
  const renamed = events.map((e) => ({ ...e, topic: rename(e.topic) }) as SimEvent);
  await publishEvents(
    producer,
    encoderFor(c, (t) => t),
    renamed,
    beforeTopicChange ? { beforeTopicChange } : {},
  );
}

async function disclosuresOf(hub: NamespacedHub): Promise<PublicDisclosure[]> {
  const topic = hub.catalogue.disclosure;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const records = await readTopic<'public-disclosure'>(kafka, hub.codec, topic, { idleMs: 1000 });
    if (REGIONS.every((r) => records.some((d) => d.regionCode === r && d.periodLabel === '2025')))
      return records;
    if (Date.now() > deadline) throw new Error(`${hub.namespace}: no 2025 disclosures`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const STATEFUL = ['accounting', 'reconciler', 'hospital-reconciler', 'disclosure'];
const DISCLOSURE_ENV = { HUB_DISCLOSURE_INTERVAL_SECONDS: '86400', HUB_DISCLOSURE_PORT: '0' };
const startStateful = (hub: NamespacedHub) => {
  for (const name of STATEFUL) hub.start(name, name === 'disclosure' ? DISCLOSURE_ENV : {});
};

/** Run B: premium-ingest first; Redis lost in the middle of the year, refused, then rebuilt with `hub rebuild`. */
async function runPremiumsFirstWithRebuild(): Promise<RunOutcome> {
  const hub = new NamespacedHub(hubConfig({ namespace: `${NAMESPACE}-b` }), kafka);
  hubs.push(hub);
  await hub.create(admin);
  const halves = [...years.values()].map((y) => [
    y.events.slice(0, y.events.length / 2),
    y.events.slice(y.events.length / 2),
  ]);
  for (const [first] of halves) await publish(first as SimEvent[], (t) => hub.topicAs(t, TOPICS), hub.codec);
  hub.start('premium-ingest');
  startStateful(hub);
  await hub.caughtUp([byName('premium-ingest')]);
  hub.start('settlement-ingest');
  hub.start('payout-ingest');
  await hub.caughtUp(SERVICES);
  for (const name of STATEFUL) await hub.stop(name);

  await deleteKeys(redis, `${hub.namespace}:*`);
  hub.start('accounting');
  expect(await hub.exited('accounting')).toBe(1);
  refusedWithoutRebuild = hub.stderr.get('accounting') ?? '';
  const rebuild = spawnSync(process.execPath, [join(REPO_ROOT, 'services/hub-cli/hub.js'), 'rebuild'], {
    env: {
      ...process.env,
      HUB_NAMESPACE: hub.namespace,
      ...hubCommandEnvironment(),
    },
    encoding: 'utf8',
  });
  expect(rebuild.status, rebuild.stderr).toBe(0);
  expect(rebuild.stdout).toMatch(/accounting: rebuilt \d+ partition\(s\)/);

  startStateful(hub);
  for (const [, second] of halves)
    await publish(second as SimEvent[], (t) => hub.topicAs(t, TOPICS), hub.codec);
  await hub.caughtUp(SERVICES);
  hub.signal('disclosure', 'SIGUSR1');
  const outcome = {
    disclosures: await disclosuresOf(hub),
    results: await readTopic<'reconciliation-result'>(kafka, hub.codec, hub.catalogue.reconciliation, {
      idleMs: 1500,
    }),
  };
  await hub.stopAll();
  return outcome;
}

/** Run C: the hospitals and the insurer first; premium-ingest only once they and accounting caught up. */
async function runPremiumsLast(): Promise<RunOutcome> {
  const hub = new NamespacedHub(hubConfig({ namespace: `${NAMESPACE}-c` }), kafka);
  hubs.push(hub);
  await hub.create(admin);
  for (const y of years.values()) await publish(y.events, (t) => hub.topicAs(t, TOPICS), hub.codec);
  hub.start('settlement-ingest');
  hub.start('payout-ingest');
  startStateful(hub);
  await hub.caughtUp(SERVICES.filter((s) => s.name !== 'premium-ingest'));
  hub.start('premium-ingest');
  await hub.caughtUp(SERVICES);
  hub.signal('disclosure', 'SIGUSR1');
  const outcome = {
    disclosures: await disclosuresOf(hub),
    results: await readTopic<'reconciliation-result'>(kafka, hub.codec, hub.catalogue.reconciliation, {
      idleMs: 1500,
    }),
  };
  await hub.stopAll();
  return outcome;
}

beforeAll(async () => {
  kafka = testKafka('year-int');
  admin = kafka.admin();
  await admin.connect();
  redis = testRedis();
  await createTopics(admin, ALL_TOPICS, stack().kafkaBrokers.length);
  await applyNamespaceAcls(admin, CONFIG);
  codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
  await codec.prepare(ALL_TOPICS);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (const region of REGIONS) {
    years.set(
      region,
      generateYear({
        region,
        year: 2025,
        members: MEMBERS,
        seed: 7,
        pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
        topics: TOPICS,
      }),
    );
  }

  // Run A: publication order, every service in this process.
  for (const service of SERVICES) running.push(await startInProcess(CONFIG, service));
  const upstream = SERVICES.filter((s) => INGEST.includes(s) || s.name === 'accounting');
  for (const y of years.values()) {
    // As a real year would deliver it: each topic's run seen through before the next (hub simulate --in-order).
    await publish(
      y.events,
      (t) => t,
      codec,
      () => caughtUp(CONFIG, upstream),
    );
  }
  await caughtUp(CONFIG, SERVICES);
  publisher = await DisclosurePublisher.start({
    config: CONFIG,
    endpoints: endpointsOf('disclosure'),
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
  journalCount = (await readTopic<'journal-settlement'>(kafka, codec, TOPICS.journal, { idleMs: 1500 }))
    .length;
  for (const topic of [
    TOPICS.premiumDeadLetters,
    TOPICS.settlementDeadLetters,
    TOPICS.payoutDeadLetters,
    TOPICS.accountingDeadLetters,
  ]) {
    deadLetters.push(...(await readTopic<'dead-letter'>(kafka, codec, topic, { idleMs: 1500 })));
  }
  outcomes.set('publication order', { disclosures: publisher.disclosures(), results });

  outcomes.set('premium-ingest first, Redis rebuilt mid-year', await runPremiumsFirstWithRebuild());
  outcomes.set('premium-ingest last', await runPremiumsLast());
}, 1_200_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await publisher?.stop();
  for (const service of running) await service.stop();
  for (const hub of hubs) await hub.stopAll();
  for (const namespace of [NAMESPACE, ...hubs.map((h) => h.namespace)])
    await deleteKeys(redis, `${namespace}:*`);
  redis?.disconnect();
  await producer?.disconnect();
  await admin?.disconnect();
});

// ─── The same books whatever the order ─────────────────────────────────────────────────────────────

/** The year's disclosure as figures: the latest correction, without the chain fields. */
function yearFigures(disclosures: readonly PublicDisclosure[], region: string): Record<string, unknown> {
  const records = disclosures.filter((d) => d.regionCode === region && d.periodLabel === '2025');
  const latest = records[records.length - 1] as PublicDisclosure;
  const {
    sequence,
    correction,
    supersedesSequence,
    changes,
    publishedAt,
    previousHash,
    hash,
    signingKeyId,
    signature,
    ...figures
  } = latest;
  void [
    sequence,
    correction,
    supersedesSequence,
    changes,
    publishedAt,
    previousHash,
    hash,
    signingKeyId,
    signature,
  ];
  return JSON.parse(JSON.stringify(figures)) as Record<string, unknown>;
}

/** Final statuses and amounts of hospital-month and manual-claim items, and member-year items left open. */
function finalItems(all: readonly ReconciliationResult[], region: string): Record<string, string> {
  const latest = summarise(all.filter((r) => r.regionCode === region)).items;
  return Object.fromEntries(
    latest
      .filter((r) => r.kind !== 'MEMBER_YEAR' || r.status !== 'CLOSED')
      .map((r) => [r.itemId, `${r.status} ${formatMoney(r.expected)} ${formatMoney(r.actual)}`])
      .sort(),
  );
}

describe.each(REGIONS)('one simulated year of region %s, processed three ways', (region) => {
  it.each(['premium-ingest first, Redis rebuilt mid-year', 'premium-ingest last'])(
    '%s: the same annual disclosure and final items as publication order',
    (way) => {
      const reference = outcomes.get('publication order') as RunOutcome;
      const other = outcomes.get(way) as RunOutcome;
      expect(yearFigures(other.disclosures, region)).toEqual(yearFigures(reference.disclosures, region));
      expect(finalItems(other.results, region)).toEqual(finalItems(reference.results, region));
    },
  );

  it('the disclosure and the items equal an independent reference calculation of the year', () => {
    const simulated = years.get(region) as SimulatedYear;
    const reference = referenceBooks(referenceInputOf(simulated, region));
    const figures = yearFigures(publisher.disclosures(), region);
    const yuan = (value: unknown) => formatMoney(new Decimal(String(value)));
    expect([
      yuan(figures.premiumIncome),
      yuan(figures.claimsPaidDirect),
      yuan(figures.claimsPaidManual),
      yuan(figures.operatingCost),
    ]).toEqual(
      [
        reference.year.premiumIncome,
        reference.year.claimsPaidDirect,
        reference.year.claimsPaidManual,
        reference.year.operatingCost,
      ].map(yuanText),
    );
    const items = new Map(
      summarise(results.filter((r) => r.regionCode === region)).items.map((r) => [r.itemId, r]),
    );
    for (const [key, month] of reference.hospitalMonths) {
      const item = items.get(`HOSPITAL_MONTH:${region}:${key}`);
      expect(
        [formatMoney(item?.expected ?? new Decimal(-1)), formatMoney(item?.actual ?? new Decimal(-1))],
        key,
      ).toEqual([yuanText(month.due), yuanText(month.paid)]);
    }
    for (const claim of simulated.truth.reconciliation.manualClaims) {
      expect(formatMoney(items.get(claim.itemId)?.expected ?? new Decimal(-1)), claim.claimId).toBe(
        yuanText(reference.due.get(claim.claimId) ?? -1),
      );
    }
  });

  it('the reconciler finds exactly the injected faults (which items, which status), and nothing else', () => {
    const truth = (years.get(region) as SimulatedYear).truth;
    const latest = summarise(results.filter((r) => r.regionCode === region)).items;
    const status = new Map(
      latest
        .filter((r) => r.status !== 'CLOSED' || r.kind !== 'MEMBER_YEAR')
        .map((r) => [r.itemId, r.status]),
    );
    const expected = new Map<string, string>([
      ...truth.reconciliation.hospitalMonths.map((h) => [h.itemId, h.status] as const),
      ...truth.reconciliation.manualClaims.map((c) => [c.itemId, c.status] as const),
      ...truth.reconciliation.memberYears
        .filter((m) => m.status !== 'CLOSED')
        .map((m) => [m.itemId, m.status] as const),
    ]);
    expect(Object.fromEntries([...status].sort())).toEqual(Object.fromEntries([...expected].sort()));
    const explained = new Set(
      truth.faults.injected.flatMap((f) => f.reconciliation.map((item) => item.itemId)),
    );
    const discrepancies = latest.filter((r) => r.status === 'DISCREPANCY').map((r) => r.itemId);
    expect(discrepancies.length).toBeGreaterThan(0);
    expect(discrepancies.filter((id) => !explained.has(id))).toEqual([]);
  });
});

describe('both regions together', () => {
  it('without a rebuild the services refuse to decide on lost state, and say how to rebuild', () => {
    expect(refusedWithoutRebuild).toMatch(/state of partition \d+ is missing from Redis/);
    expect(refusedWithoutRebuild).toMatch(/run `npx hub rebuild --service accounting`/);
  });

  it('every bad record and duplicate ends as its dead letter; every other event is booked once', () => {
    const all = [...years.values()];
    const expected = all
      .flatMap((t) => t.truth.deadLetters.map((d) => `${d.service}:${d.errorCode}:${d.field}`))
      .sort();
    expect(deadLetters.map((l) => `${l.service}:${l.errorCode}:${l.field}`).sort()).toEqual(expected);
    const published = all.reduce((sum, y) => sum + y.truth.counts.published.total, 0);
    const notices = all.reduce((sum, y) => sum + y.truth.counts.notices, 0);
    const ingestRefused = deadLetters.filter((l) => l.service !== 'accounting').length;
    // Each accepted input is one journal record; a notice is copied to each journal partition.
    expect(journalCount).toBe(published - ingestRefused - notices + notices * TOPICS.journal.partitions);
    const own = ledger.filter((p) => p.revision === 0);
    expect(own.length + deadLetters.filter((l) => l.service === 'accounting').length).toBe(
      journalCount - notices * TOPICS.journal.partitions,
    );
    expect(new Set(ledger.map((p) => p.postingId)).size).toBe(ledger.length);
    for (const y of all) {
      const byKind: Record<string, number> = {};
      for (const p of own.filter((p) => p.regionCode === y.truth.region))
        byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
      expect(byKind).toEqual(y.truth.counts.ledgerPostings.by);
    }
  });
});

// ─── The public feed ───────────────────────────────────────────────────────────────────────────────

const yearOf = (region: string): PublicDisclosure => {
  const records = publisher.disclosures().filter((d) => d.regionCode === region && d.periodLabel === '2025');
  const latest = records[records.length - 1];
  if (!latest) throw new Error(`no 2025 disclosure for ${region}`);
  return latest;
};

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
      for (const [key, text, isNull] of shown) {
        const [r, period, field] = key.split(':');
        const record = latest.get(`${r}:${period}`);
        expect(record, `a JSON record for ${r}:${period}`).toBeDefined();
        const value = record?.[field as string];
        if (value === null) expect(isNull, key).toBe('true');
        else expect(text, key).toBe(String(value));
      }
    } finally {
      await browser.close();
    }
  });

  it('verifies as published, and a tampered disclosure fails verification', async () => {
    const text = await (await fetch(`${feedUrl}/disclosures.json`)).text();
    const { disclosures } = parseJsonFeed(text);
    expect(verifyChain(disclosures, signingKey.publicKey)).toEqual([]);
    const tampered = JSON.parse(text) as { disclosures: Array<Record<string, unknown>> };
    (tampered.disclosures[0] as Record<string, unknown>).premiumIncome = '1.00';
    expect(
      verifyChain(parseJsonFeed(JSON.stringify(tampered)).disclosures, signingKey.publicKey).join('; '),
    ).toMatch(/hash/i);
    const dir = mkdtempSync(join(tmpdir(), 'disclosure-'));
    writeFileSync(join(dir, 'good.json'), text);
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered));
    const verify = (file: string) =>
      spawnSync(
        process.execPath,
        [join(REPO_ROOT, 'services/hub-cli/hub.js'), 'disclosure', 'verify', '--file', join(dir, file)],
        { encoding: 'utf8' },
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
    await caughtUp(CONFIG, SERVICES);
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
