import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackOptionsFromEnvironment, startRedisCluster } from '../../deploy/local/launcher.js';
import { hubServices } from '../../services/catalogue.js';
import { ADMIN_PRINCIPAL } from '../../shared/acl.js';
import type { Endpoints } from '../../shared/config.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { formatMoney } from '../../shared/money.js';
import { readTopic } from '../../shared/read-topic.js';
import type { LedgerPosting } from '../../shared/records.js';
import { deleteKeys, rebuildState } from '../../shared/runner/rebuild.js';
import type { RunningService } from '../../shared/runner/runner.js';
import type { Service } from '../../shared/runner/service.js';
import { topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import {
  caughtUp,
  endpointsOf,
  type HubTestBed,
  hubTestBed,
  stack,
  startInProcess,
  testKafka,
} from '../support/stack.js';
import { memberId, premium, settlement } from '../support/streams.js';

// The hub's state on a Redis Cluster of three primaries (`stack:up --redis-cluster`, or one this file
// starts beside the test stack): every key of an input partition in one hash slot, so a chunk's write
// stays one atomic script; the keys spread over the primaries; and a new owner reads the state back.

const CONFIG = testConfig();
const TOPICS = topicsFor(CONFIG);
const { premiumIngest, settlementIngest, accounting } = hubServices(TOPICS);
const kafka = testKafka('redis-cluster-int');
const MEMBERS = Array.from({ length: 24 }, (_, i) => i + 1);

let bed: HubTestBed;
let ownCluster: { readonly url: string; stop(): Promise<void> } | undefined;
let clusterDir: string | undefined;
let clusterUrl: string;
let cluster: Cluster;
const running: RunningService[] = [];

beforeAll(async () => {
  if (stack().redisCluster) {
    clusterUrl = stack().redisUrl;
  } else {
    clusterDir = mkdtempSync(join(tmpdir(), 'medfund-hub-redis-cluster-'));
    ownCluster = await startRedisCluster(
      stackOptionsFromEnvironment(process.env, {
        stateDir: clusterDir,
        redisClusterPort: Number(process.env.HUB_TEST_REDIS_CLUSTER_PORT || 27390),
        log: () => {},
      }),
    );
    clusterUrl = ownCluster.url;
  }
  const seed = new URL(clusterUrl);
  cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port) }]);
  bed = await hubTestBed(kafka, CONFIG);
}, 120_000);

afterAll(async () => {
  for (const service of running) await service.stop();
  if (cluster) {
    await deleteKeys(cluster, `${CONFIG.namespace}:*`);
    cluster.disconnect();
  }
  await bed?.close();
  await ownCluster?.stop();
  if (clusterDir) rmSync(clusterDir, { recursive: true, force: true });
});

/** A catalogue service's endpoints with its Kafka principal, and the cluster (plain) for its Redis. */
function onCluster(principal: string): Endpoints {
  const { security, ...endpoints } = endpointsOf(principal);
  return {
    ...endpoints,
    redisUrl: clusterUrl,
    redisCluster: true,
    ...(security?.kafka ? { security: { kafka: security.kafka } } : {}),
  };
}

async function start<I>(service: Service<I>): Promise<RunningService> {
  const started = await startInProcess(CONFIG, service, { endpoints: onCluster(service.name) });
  running.push(started);
  return started;
}

describe('the state on a Redis Cluster of three primaries', () => {
  it('holds claims until their premium, across a change of owner, with each partition in one slot', async () => {
    await start(settlementIngest);
    await start(premiumIngest);
    const firstOwner = await start(accounting);

    // Dehong art. 8 and 10, the case worked by hand in test/unit/services/accounting.unit.spec.ts: settled
    // 2025-02-10, the basic cap (150 000.00) reached in it, 10 000.00 above it: due 10 000.00 × 0.90 =
    // 9 000.00, held until the member's premium of 180.00 (paid 2025-03-01) decides the cover.
    const amounts = { basic: '150000.00', overCap: '10000.00', claimed: '9000.00' };
    await bed.producer.send({
      topic: TOPICS.hospitalSettlement.name,
      messages: MEMBERS.map((n) => ({
        key: memberId(n),
        value: bed.codec.encode(
          TOPICS.hospitalSettlement,
          'hospital-settlement',
          settlement(`S-RC-${n}`, n, amounts, {
            serviceDate: '2025-02-10',
            settledAt: new Date('2025-02-10T06:00:00.000Z'),
          }),
        ),
      })),
    });
    const held = await readLedger((postings) => count(postings, 'SETTLEMENT_HELD') >= MEMBERS.length);
    expect(count(held, 'SETTLEMENT_HELD')).toBe(MEMBERS.length);

    // The owner goes; its state lives on only in the cluster. The next owner must find the held claims there.
    await firstOwner.stop();
    running.splice(running.indexOf(firstOwner), 1);
    await bed.producer.send({
      topic: TOPICS.taxPremium.name,
      messages: MEMBERS.map((n) => ({
        key: memberId(n),
        value: bed.codec.encode(TOPICS.taxPremium, 'premium-collected', premium(n)),
      })),
    });
    await start(accounting);
    const ledger = await readLedger((postings) => count(postings, 'SETTLEMENT_RELEASED') >= MEMBERS.length);

    const released = ledger.filter((p) => p.kind === 'SETTLEMENT_RELEASED');
    expect(released).toHaveLength(MEMBERS.length);
    for (const p of released) {
      expect(p.dueAmount === null ? null : formatMoney(p.dueAmount)).toBe('9000.00');
      expect(p.relatedPostingId).toBe(`SETTLEMENT_HELD:${p.sourceEventId}`);
    }
    expect(count(ledger, 'PREMIUM_COLLECTED')).toBe(MEMBERS.length);
    expect(ledger.filter((p) => p.kind === 'SETTLEMENT_APPLIED')).toEqual([]);

    // Every key of one input partition lies in one slot; the partitions' slots spread over the primaries.
    await caughtUp(CONFIG, [accounting] as Service<unknown>[]);
    const primaries = cluster.nodes('master');
    expect(primaries).toHaveLength(3);
    const keysByNode = await Promise.all(
      primaries.map((node) => keysOf(node, `${CONFIG.namespace}:accounting:*`)),
    );
    const slotsByPartition = new Map<string, Set<number>>();
    // `<service>:health` is the instances' announcement (shared/runner/announce.ts), one hash per service, not partition state.
    const stateKeys = keysByNode.flat().filter((key) => key !== `${CONFIG.namespace}:accounting:health`);
    expect(stateKeys.length).toBeGreaterThan(0);
    for (const key of stateKeys) {
      const partition = /\{accounting\.(\d+)\}/.exec(key)?.[1];
      expect(partition, `key ${key} carries its partition's hash tag`).toBeDefined();
      const slot = Number(await cluster.call('CLUSTER', 'KEYSLOT', key));
      const slots = slotsByPartition.get(partition as string) ?? new Set<number>();
      slots.add(slot);
      slotsByPartition.set(partition as string, slots);
    }
    expect(slotsByPartition.size).toBeGreaterThan(1);
    for (const [partition, slots] of slotsByPartition)
      expect([...slots], `partition ${partition}`).toHaveLength(1);
    expect(keysByNode.filter((keys) => keys.length > 0).length).toBeGreaterThanOrEqual(2);

    // Each partition's watermark is the offset its group committed: state and Kafka agree.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({
        groupId: `${CONFIG.namespace}.accounting`,
        topics: [TOPICS.journal.name],
      });
      for (const partition of slotsByPartition.keys()) {
        const meta = await cluster.hgetall(`${CONFIG.namespace}:accounting:{accounting.${partition}}:meta`);
        const offset = committed?.partitions.find((p) => p.partition === Number(partition))?.offset;
        expect(meta.offset, `partition ${partition}`).toBe(offset);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('hub rebuild restores every field of every key from the changelog, one pipeline per slot', async () => {
    // hub rebuild refuses while the group has members: every service of the first test stops.
    for (const service of running.splice(0)) await service.stop();
    const before = await stateOf();
    expect(before.size).toBeGreaterThan(MEMBERS.length); // a member-year per member, region-years, metas
    await deleteKeys(cluster, `${CONFIG.namespace}:accounting:*`);
    const report = await rebuildState(accounting, {
      config: CONFIG,
      endpoints: onCluster(ADMIN_PRINCIPAL),
      pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
      logger: createLogger('rebuild', 'error'),
    });
    expect(report.from).toBe('changelog');
    // 24 settlements and 24 premiums on the journal, and the ingest services' transaction markers.
    expect(report.inputOffsets).toBeGreaterThanOrEqual(2 * MEMBERS.length);
    expect(report.records).toBeGreaterThan(0);
    const after = await stateOf();
    // The metas carry a new epoch (the old state's writers are shut out) at the same watermark.
    const epochs = (state: Map<string, Record<string, string>>) =>
      new Map([...state].filter(([key]) => key.endsWith(':meta')).map(([key, meta]) => [key, meta.epoch]));
    const oldEpochs = epochs(before);
    expect(epochs(after).size).toBe(oldEpochs.size);
    for (const [key, epoch] of epochs(after)) expect(epoch).not.toBe(oldEpochs.get(key));
    const withoutEpochs = (state: Map<string, Record<string, string>>) =>
      Object.fromEntries(
        [...state].map(([key, fields]) => [key, key.endsWith(':meta') ? { offset: fields.offset } : fields]),
      );
    expect(withoutEpochs(after)).toEqual(withoutEpochs(before));
  });
});

/** Every state key of accounting on the cluster with its fields (the health announcement left out). */
async function stateOf(): Promise<Map<string, Record<string, string>>> {
  const state = new Map<string, Record<string, string>>();
  for (const node of cluster.nodes('master')) {
    for (const key of await keysOf(node, `${CONFIG.namespace}:accounting:*`)) {
      if (key === `${CONFIG.namespace}:accounting:health`) continue;
      state.set(key, await cluster.hgetall(key));
    }
  }
  return new Map([...state].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const count = (postings: readonly LedgerPosting[], kind: LedgerPosting['kind']) =>
  postings.filter((p) => p.kind === kind).length;

/** The ledger from the start, read again until `done` holds (or 60 s pass: the assertions then say what is missing). */
async function readLedger(done: (postings: LedgerPosting[]) => boolean): Promise<LedgerPosting[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const postings = await readTopic<'ledger-posting'>(kafka, bed.codec, TOPICS.ledger, {
      namespace: CONFIG.namespace,
      idleMs: 1000,
    });
    if (done(postings) || Date.now() > deadline) return postings;
    await sleep(500);
  }
}

async function keysOf(node: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
