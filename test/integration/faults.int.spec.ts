import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, KafkaMessage, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartKafkaNode, stackOptionsFromEnvironment } from '../../deploy/local/launcher.js';
import { hubServices } from '../../services/catalogue.js';
import { REPO_ROOT } from '../../shared/config.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { chinaDateOf } from '../../shared/policy/dates.js';
import type { LedgerPosting } from '../../shared/records.js';
import type { TopicCodec } from '../../shared/registry.js';
import type { RunningService } from '../../shared/runner/runner.js';
import type { Service } from '../../shared/runner/service.js';
import { type TopicSpec, topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import {
  caughtUp,
  consumeUntil,
  type HubTestBed,
  hubTestBed,
  serviceEnvironment,
  stack,
  startInProcess,
  testKafka,
  uniqueName,
} from '../support/stack.js';
import { memberId, premium, settlement } from '../support/streams.js';
import { MemoryStore } from '../unit/services/journal.js';

const CONFIG = testConfig();
const NAMESPACE = CONFIG.namespace;
const TOPICS = topicsFor(CONFIG);
const { accounting, premiumIngest, settlementIngest } = hubServices(TOPICS);

// Faults the runner must survive without losing or doubling anything: a process killed with SIGKILL
// in the middle of a stream, and the broker going away and coming back.

const kafka = testKafka('faults-int');
let admin: Admin;
let producer: Producer;
let codec: TopicCodec;
let inProcess: RunningService[] = [];
let bed: HubTestBed;

beforeAll(async () => {
  bed = await hubTestBed(kafka, CONFIG);
  ({ admin, producer, codec } = bed);
  inProcess = bed.running;
});

afterAll(async () => {
  await bed?.close();
});

const MEMBERS = 60;
/** Journal records the ingest services have written so far in this file's namespace. */
let journalled = 0;
const VISITS_PER_MEMBER = 25;

/** Each member's visits climb past the basic cap, so the year-to-date state matters to every decision. */
function settlementsOf(batchTag: string, members: number[]) {
  return members.flatMap((n) =>
    Array.from({ length: VISITS_PER_MEMBER }, (_, v) =>
      settlement(`${batchTag}-${n}-${v}`, n, {
        basic: '8000.00',
        overCap: v > 17 ? '3000.00' : '0.00',
        claimed: v > 17 ? '2700.00' : '0.00',
      }),
    ),
  );
}

async function sendSettlements(stream: ReturnType<typeof settlementsOf>): Promise<void> {
  for (let i = 0; i < stream.length; i += 500) {
    await producer.send({
      topic: TOPICS.hospitalSettlement.name,
      messages: stream.slice(i, i + 500).map((s) => ({
        key: s.nationalId,
        value: codec.encode(TOPICS.hospitalSettlement, 'hospital-settlement', s),
      })),
    });
  }
}

async function sendPremiums(members: number[]): Promise<void> {
  await producer.send({
    topic: TOPICS.taxPremium.name,
    messages: members.map((n) => ({
      key: memberId(n),
      value: codec.encode(TOPICS.taxPremium, 'premium-collected', premium(n)),
    })),
  });
}

async function decodeLedger(messages: KafkaMessage[]): Promise<LedgerPosting[]> {
  const postings: LedgerPosting[] = [];
  for (const m of messages) {
    const decoded = await codec.decode(TOPICS.ledger, m.value);
    if (!decoded.ok) throw new Error(decoded.error.code);
    postings.push(decoded.value.value as LedgerPosting);
  }
  return postings;
}

/** Waits until `count` ledger postings whose id starts with `prefix` are committed, and returns them. */
async function ledgerWith(prefix: string, count: number, timeoutMs = 60_000): Promise<LedgerPosting[]> {
  // Avro writes strings as plain UTF-8, so a posting id can be matched in the raw bytes.
  const matches = (m: KafkaMessage) => m.value?.includes(prefix) ?? false;
  const messages = await consumeUntil(
    kafka.consumer({ groupId: uniqueName('read') }),
    TOPICS.ledger.name,
    (r) => r.filter(matches).length >= count,
    timeoutMs,
  );
  return (await decodeLedger(messages.filter(matches))).filter((p) => p.postingId.startsWith(prefix));
}

/**
 * What an uninterrupted run decides: accounting's own pure functions over each journal partition in
 * offset order, from empty state. Computed from the journal itself, before the real service starts.
 */
async function referenceLedger(journal: KafkaMessage[][]): Promise<Map<string, string>> {
  const expected = new Map<string, string>();
  for (const [partition, messages] of journal.entries()) {
    const store = new MemoryStore();
    for (const message of messages) {
      const decoded = await codec.decode(TOPICS.journal, message.value);
      if (!decoded.ok) throw new Error(decoded.error.code);
      const source = { topic: TOPICS.journal.name, partition, offset: message.offset };
      const receivedOn = chinaDateOf(Number(message.timestamp));
      const fact = accounting.parse(decoded.value, {
        pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
        receivedOn,
        source,
        timestamp: Number(message.timestamp),
      });
      if (!fact.ok) throw new Error(fact.error.code);
      const decision = accounting.decide(fact.value, store, {
        source,
        receivedOn,
        partitionsOf: () => TOPICS.ledger.partitions,
      });
      if (!decision.ok) throw new Error(decision.error.code);
      for (const output of decision.value.outputs()) {
        const posting = output.value as LedgerPosting;
        expected.set(posting.postingId, JSON.stringify(posting));
      }
    }
  }
  return expected;
}

/** Every record of a topic by partition, in offset order. */
async function topicByPartition(topic: TopicSpec, count: number): Promise<KafkaMessage[][]> {
  const partitions: KafkaMessage[][] = Array.from({ length: topic.partitions }, () => []);
  const consumer = kafka.consumer({ groupId: uniqueName('input-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: topic.name, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        partitions[partition]?.push(message);
        if (++seen >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return partitions;
}

function startChild(service: string, instance: string, faults?: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', `services/${service}/main.ts`], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...serviceEnvironment(service),
      HUB_NAMESPACE: NAMESPACE,
      HUB_INSTANCE_ID: instance,
      // Small transactions, so the kill lands between commits with work on both sides of it.
      HUB_MAX_CHUNK: '40',
      HUB_SESSION_TIMEOUT_MS: '6000',
      LOG_LEVEL: 'warn',
      ...(faults === undefined ? {} : { HUB_TEST_FAULTS: faults }),
    },
    stdio: ['ignore', faults === undefined ? 'ignore' : 'pipe', 'inherit'],
  });
}

/** Collects the log lines of a child started with test faults (pino writes to stdout), to wait for one. */
function logOf(child: ChildProcess): { waitFor(pattern: RegExp, timeoutMs: number): Promise<void> } {
  let text = '';
  const waiting = new Set<() => void>();
  child.stdout?.on('data', (data: Buffer) => {
    process.stderr.write(data);
    text += data.toString('utf8');
    for (const check of waiting) check();
  });
  return {
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (!pattern.test(text)) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
      }),
  };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe('faults', () => {
  it('accounting killed with SIGKILL mid-stream and restarted writes exactly the ledger of an uninterrupted run', async () => {
    const members = Array.from({ length: MEMBERS }, (_, i) => i + 1);
    // The settlements come first: every claim is held, then released when its premium arrives.
    const stream = settlementsOf('K', members);
    await sendSettlements(stream);
    // Settlement-ingest journals every claim before any premium reaches the journal, whatever the
    // services' start-up timing: otherwise no claim is held and the test has no releases to check.
    inProcess.push(await startInProcess(CONFIG, settlementIngest, { instanceId: 'faults' }));
    await caughtUp(CONFIG, [settlementIngest] as Service<unknown>[]);
    await sendPremiums(members);
    inProcess.push(await startInProcess(CONFIG, premiumIngest, { instanceId: 'faults' }));
    await caughtUp(CONFIG, [premiumIngest, settlementIngest] as Service<unknown>[]);
    journalled += stream.length + MEMBERS;
    const expected = await referenceLedger(await topicByPartition(TOPICS.journal, journalled));
    // Each settlement held, each premium, and each release of a claim above the cap.
    expect(expected.size).toBeGreaterThan(stream.length + MEMBERS);

    const first = startChild('accounting', 'kill-me');
    // Kill it once some, but not all, of the journal is committed.
    const deadline = Date.now() + 60_000;
    let committed = 0;
    while (Date.now() < deadline) {
      const offsets = await admin.fetchOffsets({
        groupId: `${NAMESPACE}.accounting`,
        topics: [TOPICS.journal.name],
      });
      committed = offsets[0]?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0;
      if (committed > 0) break;
      await sleep(20);
    }
    first.kill('SIGKILL');
    await exited(first);
    expect(committed, 'the kill landed after the first commit').toBeGreaterThan(0);
    expect(committed, 'the kill landed before the last commit').toBeLessThan(stream.length + MEMBERS);

    const second = startChild('accounting', 'kill-me');
    try {
      const actual = await ledgerWith('', expected.size, 90_000);
      const ids = actual.map((p) => p.postingId);
      expect(new Set(ids).size, 'no posting twice').toBe(ids.length);
      expect(ids.length).toBe(expected.size);
      for (const posting of actual) {
        expect(JSON.parse(JSON.stringify(posting)), posting.postingId).toEqual(
          JSON.parse(expected.get(posting.postingId) ?? 'null'),
        );
      }
    } finally {
      second.kill('SIGTERM');
      await exited(second);
    }
  });

  it('a process paused past its session cannot commit after the group gave its partitions to another (a zombie is fenced)', async () => {
    const members = Array.from({ length: 40 }, (_, i) => 100 + i);
    const stream = settlementsOf('Z', members);
    await sendSettlements(stream);
    await sendPremiums(members);
    await caughtUp(CONFIG, [premiumIngest, settlementIngest] as Service<unknown>[]);
    journalled += stream.length + members.length;
    const expected = await referenceLedger(await topicByPartition(TOPICS.journal, journalled));

    // The zombie decides its first chunk, then freezes without heartbeats for longer than its session.
    const zombie = startChild('accounting', 'zombie', 'stallOnceBeforeCommitMs=20000');
    const zombieLog = logOf(zombie);
    let successor: ChildProcess | undefined;
    try {
      await zombieLog.waitFor(/test fault: stalling before the commit/, 60_000);
      successor = startChild('accounting', 'successor');
      // The successor takes every partition once the zombie's session has timed out; when the zombie
      // wakes, its commit must be refused: the successor's producer of that partition fenced it.
      const fenced = await zombieLog.waitFor(/a newer owner fenced its producer/, 60_000).then(
        () => true,
        () => false,
      );
      const actual = await ledgerWith('', expected.size, 90_000);
      // One more than expected never comes: read until the 30 s timeout, then compare.
      const everything = (await topicByPartition(TOPICS.ledger, expected.size + 1)).flat();
      const ids = (await decodeLedger(everything)).map((p) => p.postingId);
      expect(ids.length - new Set(ids).size, 'postings written twice').toBe(0);
      expect(ids.length).toBe(expected.size);
      for (const posting of actual) {
        expect(JSON.parse(JSON.stringify(posting)), posting.postingId).toEqual(
          JSON.parse(expected.get(posting.postingId) ?? 'null'),
        );
      }
      expect(fenced, "the zombie woke and its commit was refused ('a newer owner fenced its producer')").toBe(
        true,
      );
    } finally {
      for (const child of [zombie, successor]) {
        if (child === undefined) continue;
        child.kill('SIGTERM');
        await exited(child);
      }
    }
  }, 300_000); // the 20 s stall, the session timeout, the ledger and the 30 s read past its end

  it('a broker restart in the middle of a stream loses nothing and doubles nothing', async (context) => {
    if (stack().source !== 'local-stack') {
      process.stderr.write(
        `[faults] skipped broker restart: it needs the local stack, not ${stack().source}\n`,
      );
      context.skip();
    }
    const members = Array.from({ length: 20 }, (_, i) => 200 + i);
    await sendPremiums(members);
    inProcess.push(await startInProcess(CONFIG, accounting, { instanceId: 'restart', maxChunk: 40 }));
    await ledgerWith('PREMIUM_COLLECTED:TAX-533100-2025-0002', members.length);
    const stream = settlementsOf('B', members);
    const half = Math.floor(stream.length / 2);
    const sendAll = async (part: typeof stream) => {
      for (let i = 0; i < part.length; i += 100) {
        const messages = part.slice(i, i + 100).map((s) => ({
          key: s.nationalId,
          value: codec.encode(TOPICS.hospitalSettlement, 'hospital-settlement', s),
        }));
        // The test's own producer waits out the outage too.
        for (let attempt = 0; ; attempt++) {
          try {
            await producer.send({ topic: TOPICS.hospitalSettlement.name, messages });
            break;
          } catch (error) {
            if (attempt > 60) throw error;
            await sleep(500);
          }
        }
      }
    };
    await sendAll(stream.slice(0, half));
    await restartKafkaNode(stackOptionsFromEnvironment(), 1, 2000);
    await sendAll(stream.slice(half));
    const postings = await ledgerWith('SETTLEMENT_APPLIED:B-', stream.length, 120_000);
    const ids = postings.map((p) => p.postingId);
    expect(new Set(ids).size).toBe(ids.length);
    if (ids.length !== stream.length) {
      // Where the missing ones stopped: the input topic, the journal, or accounting.
      const withTag = async (topic: TopicSpec) =>
        (
          await consumeUntil(kafka.consumer({ groupId: uniqueName('count') }), topic.name, () => false, 5_000)
        ).filter((m) => m.value?.includes('B-2') ?? false).length;
      const input = await withTag(TOPICS.hospitalSettlement);
      const journal = await withTag(TOPICS.journal);
      expect.fail(
        `${ids.length} of ${stream.length} settlements posted; ${input} on the input topic, ${journal} in the journal`,
      );
    }
  }, 240_000); // the restart, the coordinator loading and the 120 s wait for the ledger
});
