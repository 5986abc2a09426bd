import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka, Producer, Transaction } from 'kafkajs';
import { servicesFor } from '../../services/catalogue.js';
import { createTopics } from '../../services/hub-cli/topics.js';
import { hubConfigFromEnvironment, loadEndpoints, REPO_ROOT } from '../../shared/config.js';
import { loadPseudonymKey } from '../../shared/identity.js';
import { createKafka, sendEachPartitionApart } from '../../shared/kafka.js';
import { createLogger } from '../../shared/logger.js';
import { ProgressBar } from '../../shared/progress.js';
import { readToEnd, readTopic } from '../../shared/read-topic.js';
import type { DeadLetter } from '../../shared/records.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { allTopics, topicsFor } from '../../shared/topics.js';
import {
  enabledFaults,
  generateYear,
  isRawEvent,
  minimumMembers,
  type SimEvent,
} from '../simulate/generate.js';
import { publishEvents } from '../simulate/publish.js';
import { type JournalEntry, type Outcome, outcomeOf } from './chaos-outcome.js';
import { killChaosRedis, startChaosRedis } from './chaos-redis.js';
import type { ChaosFault } from './chaos-schedule.js';
import { StackError } from './errors.js';
import {
  killStackProcess,
  restartRegistry,
  stackOptionsFromEnvironment,
  startStackProcess,
} from './launcher.js';

/**
 * One run of `npm run chaos`, in the namespace HUB_NAMESPACE: creates the topics, starts every service as
 * its own process, publishes the simulated year of both regions in slices, injects the faults of the
 * schedule after the slices they name, waits until everything is processed, publishes the disclosures
 * and writes the outcome (and what was injected, when) to a JSON file. Started by chaos.ts, once without
 * faults and once with them.
 *
 * usage: tsx deploy/local/chaos-run.ts <run.json>, with { members, seed, slices, maxChunk, redisPort,
 * redisDir, disclosurePort, publicKeyFile, schedule, out, logDir }.
 */

export interface RunSpec {
  readonly members: number;
  readonly seed: number;
  readonly slices: number;
  readonly maxChunk: number;
  readonly redisPort: number;
  /** Where the chaos Redis keeps its pid file (chaos-redis.ts). */
  readonly redisDir: string;
  readonly disclosurePort: number;
  readonly publicKeyFile: string;
  readonly schedule: readonly ChaosFault[];
  readonly out: string;
  readonly logDir: string;
}

/** One fault as it happened: when (seconds since the run started), what, and what was seen. */
export interface Injected {
  readonly at: number;
  readonly slice: number;
  readonly fault: string;
  readonly detail: string;
}

export interface RunReport {
  readonly namespace: string;
  readonly outcome: Outcome;
  readonly injected: readonly Injected[];
  readonly seconds: number;
}

const REGIONS = ['410200', '533100'] as const;
const say = (line: string) => process.stderr.write(`chaos: ${line}\n`);

const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as RunSpec;
const config = hubConfigFromEnvironment(process.env);
const { namespace } = config;
const topics = topicsFor(config);
const services = servicesFor(topics);
const STATEFUL = services.filter((s) => s.state !== undefined).map((s) => s.name);
const endpoints = loadEndpoints();
const stackOptions = stackOptionsFromEnvironment(process.env, { log: () => {} });
const t0 = Date.now();
const seconds = () => (Date.now() - t0) / 1000;
const injected: Injected[] = [];
let currentSlice = 0;
const record = (fault: string, detail: string) => {
  injected.push({ at: Number(seconds().toFixed(1)), slice: currentSlice, fault, detail });
  say(`${seconds().toFixed(1).padStart(6)} s  slice ${currentSlice}  ${fault}: ${detail}`);
};

// ─── Service processes ─────────────────────────────────────────────────────────────────────────────

interface Instance {
  readonly service: string;
  readonly id: string;
  child: ChildProcess;
  /** Set when the chaos run itself stops or kills it. */
  expectedExit: boolean;
  /** While true a death is not restarted (the Redis loss holds the stateful services until the rebuild). */
  held: boolean;
  readonly log: string;
}

const instances = new Map<string, Instance>();
let finishing = false;

function spawnService(service: string, id: string): ChildProcess {
  const log = join(spec.logDir, `${id}.log`);
  const out = openSync(log, 'a');
  return spawn(process.execPath, ['--import', 'tsx', `services/${service}/main.ts`], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      HUB_INSTANCE_ID: id,
      HUB_MAX_CHUNK: String(spec.maxChunk),
      HUB_SESSION_TIMEOUT_MS: '6000',
      HUB_DISCLOSURE_INTERVAL_SECONDS: '86400',
      HUB_DISCLOSURE_PORT: String(spec.disclosurePort),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', out, out],
  });
}

function start(service: string, id = `chaos-${service}`): Instance {
  const known = instances.get(id);
  const instance: Instance = known ?? {
    service,
    id,
    child: undefined as unknown as ChildProcess,
    expectedExit: false,
    held: false,
    log: join(spec.logDir, `${id}.log`),
  };
  instance.child = spawnService(service, id);
  instance.expectedExit = false;
  instances.set(id, instance);
  const child = instance.child;
  child.once('exit', (code, signal) => {
    if (instance.child !== child || instance.expectedExit || finishing) return;
    // Not injected: a service that gave up by itself. Say so, and start it again unless held.
    record(
      'unplanned exit',
      `${id} exited with ${code ?? signal}${instance.held ? ' (held)' : '; restarted'}`,
    );
    if (!instance.held) setTimeout(() => start(service, id), 1000);
  });
  return instance;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

async function kill(id: string): Promise<void> {
  const instance = instances.get(id);
  if (!instance) throw new StackError(`no instance ${id}`);
  instance.expectedExit = true;
  instance.child.kill('SIGKILL');
  await exited(instance.child);
}

async function stop(id: string): Promise<void> {
  const instance = instances.get(id);
  if (!instance) return;
  instance.expectedExit = true;
  instance.child.kill('SIGTERM');
  await exited(instance.child);
  instances.delete(id);
}

// ─── Watching the groups ───────────────────────────────────────────────────────────────────────────

const inputOf = (service: string) => services.find((s) => s.name === service)?.input.name as string;

async function position(admin: Admin, service: string): Promise<{ committed: number; end: number }> {
  const topic = inputOf(service);
  const ends = await admin.fetchTopicOffsets(topic);
  const [offsets] = await admin.fetchOffsets({ groupId: `${namespace}.${service}`, topics: [topic] });
  let committed = 0;
  let end = 0;
  for (const p of ends) {
    end += Number(p.high);
    const done = Number(offsets?.partitions.find((o) => o.partition === p.partition)?.offset ?? -1);
    committed += Math.max(done, 0);
  }
  return { committed, end };
}

async function groupState(admin: Admin, service: string): Promise<{ state: string; members: number }> {
  const { groups } = await admin.describeGroups([`${namespace}.${service}`]);
  return { state: groups[0]?.state ?? 'Unknown', members: groups[0]?.members.length ?? 0 };
}

/**
 * Runs a read again when it fails: after a broker's restart the cluster moves leaders back for a while,
 * and kafkajs's admin and consumer then answer "not the leader" once before their metadata catch up.
 */
async function patiently<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= 10) throw error;
      say(`reading failed (${(error as Error).message}); again in 3 s`);
      await sleep(3000);
    }
  }
}

/** Polls until `check` is true or the time is up; false when it timed out. Errors (a broker away) count as not yet. */
async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return true;
    } catch {
      // the cluster is reorganising: try again
    }
    await sleep(everyMs);
  }
  return false;
}

async function caughtUp(admin: Admin): Promise<boolean> {
  for (const service of services) {
    const { committed, end } = await position(admin, service.name);
    if (committed < end) return false;
  }
  return true;
}

// ─── The faults ────────────────────────────────────────────────────────────────────────────────────

async function killEpisode(admin: Admin, fault: Extract<ChaosFault, { kind: 'kill' }>): Promise<void> {
  const id = `chaos-${fault.service}`;
  let seen = '';
  if (fault.moment === 'transaction') {
    let last = -1;
    const busy = await until(async () => {
      const { committed, end } = await position(admin, fault.service);
      const moving = last >= 0 && committed > last && committed < end;
      last = committed;
      seen = `committed ${committed} of ${end}`;
      return moving;
    }, 20_000);
    seen = `${busy ? 'busy' : 'idle (no work came in 20 s)'}, ${seen}`;
  } else if (fault.moment === 'rebalance') {
    const rebalancing = await until(
      async () => {
        const { state, members } = await groupState(admin, fault.service);
        seen = `group ${state}, ${members} member(s)`;
        return state === 'PreparingRebalance' || state === 'CompletingRebalance';
      },
      45_000,
      50,
    );
    if (!rebalancing) seen = `no rebalance seen in 45 s (${seen})`;
  } else {
    await sleep(300);
    const { members } = await groupState(admin, fault.service).catch(() => ({ members: -1 }));
    seen = `0.3 s after its restart (${members} member(s) in its group)`;
  }
  await kill(id);
  record(`SIGKILL ${fault.service} (${fault.moment})`, `${seen}; restarted after ${fault.downMs} ms`);
  await sleep(fault.downMs);
  start(fault.service);
}

async function redisLoss(): Promise<void> {
  for (const name of STATEFUL) {
    const instance = instances.get(`chaos-${name}`);
    if (instance) instance.held = true;
  }
  await killChaosRedis(spec.redisDir);
  await startChaosRedis(spec.redisDir, spec.redisPort);
  // The stateful services find their state gone: each must stop deciding by itself and name the rebuild.
  // One that saw no new batch meanwhile (idle) is stopped after 20 s.
  const refused: string[] = [];
  const stillRunning: string[] = [];
  const deadline = sleep(20_000).then(() => false);
  await Promise.all(
    STATEFUL.map(async (name) => {
      const instance = instances.get(`chaos-${name}`) as Instance;
      const gone = await Promise.race([exited(instance.child).then(() => true), deadline]);
      if (gone) {
        const log = readFileSync(instance.log, 'utf8');
        refused.push(`${name}${/hub rebuild/.test(log) ? '' : ' (without naming hub rebuild)'}`);
      } else {
        stillRunning.push(name);
      }
      await stop(instance.id);
    }),
  );
  const rebuild = spawnSync(process.execPath, [join(REPO_ROOT, 'services/hub-cli/hub.js'), 'rebuild'], {
    cwd: REPO_ROOT,
    env: process.env,
    encoding: 'utf8',
  });
  if (rebuild.status !== 0) throw new StackError(`hub rebuild failed: ${rebuild.stderr}`);
  const rebuilt = rebuild.stdout.match(/rebuilt \d+ partition\(s\)[^;]*from \d+ \w+ records/g)?.length ?? 0;
  record(
    'Redis SIGKILLed and started empty; hub rebuild',
    `refused on lost state: ${refused.join(', ') || 'none'}` +
      `${stillRunning.length > 0 ? `; idle after 20 s, stopped: ${stillRunning.join(', ')}` : ''}` +
      `; hub rebuild: ${rebuilt} service(s) rebuilt`,
  );
  for (const name of STATEFUL) start(name);
}

async function inject(admin: Admin, fault: ChaosFault): Promise<void> {
  switch (fault.kind) {
    case 'kill':
      return killEpisode(admin, fault);
    case 'broker-kill':
      await killStackProcess(stackOptions, `kafka-${fault.node}`);
      return record(`SIGKILL broker kafka-${fault.node}`, 'the cluster runs on two nodes (min in-sync 2)');
    case 'broker-start':
      startStackProcess(stackOptions, `kafka-${fault.node}`);
      return record(`broker kafka-${fault.node} started again`, 'with its data');
    case 'registry-restart': {
      const started = Date.now();
      await restartRegistry(stackOptions);
      return record(
        'registry restarted',
        `answering again after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    case 'redis-loss':
      return redisLoss();
    case 'second-start':
      start(fault.service, `chaos-${fault.service}-2`);
      return record(`second instance of ${fault.service} started`, 'its group rebalances');
    case 'second-stop':
      await stop(`chaos-${fault.service}-2`);
      return record(`second instance of ${fault.service} stopped`, 'SIGTERM; its group rebalances');
  }
}

// ─── The year ──────────────────────────────────────────────────────────────────────────────────────

async function publishSlices(kafka: Kafka, admin: Admin, codec: TopicCodec): Promise<number> {
  const pseudonymKey = loadPseudonymKey(process.env);
  // The simulator's own faults (poison records, duplicates, late premiums…) need 100 members or more.
  const faults = spec.members >= minimumMembers(enabledFaults(true));
  const years = REGIONS.map((region) =>
    generateYear({
      region,
      year: 2025,
      members: spec.members,
      seed: spec.seed,
      pseudonymKey,
      faults,
      topics,
    }),
  );
  const slices: SimEvent[][] = Array.from({ length: spec.slices }, (_, i) =>
    years.flatMap((y) => {
      const size = Math.ceil(y.events.length / spec.slices);
      return y.events.slice(i * size, (i + 1) * size);
    }),
  );
  const all = slices.flat();
  // Transactional, as the services' own producers: a send that a broker's death interrupts is aborted
  // and sent again, and read_committed readers see each event once. (An idempotent producer alone lost
  // acknowledged batches here when a broker was SIGKILLed: kafkajs 2.2.4 against Kafka 4.3.)
  const newProducer = () =>
    kafka.producer({
      transactionalId: `${namespace}.chaos-publisher`,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 40, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
  let producer = newProducer();
  await producer.connect();
  // Each transaction also commits its batch's number as the offset of a group of its own, so a commit
  // whose answer was lost is settled (a new producer of the id ends it for good) and then looked up
  // instead of being sent again: the fault-free run once wrote 17 events twice on a loaded machine.
  const progress = { groupId: `${namespace}.chaos-publisher-progress`, topic: topics.taxPremium.name };
  const batchesCommitted = async (): Promise<number> => {
    const [entry] = await admin.fetchOffsets({ groupId: progress.groupId, topics: [progress.topic] });
    return Math.max(0, Number(entry?.partitions.find((p) => p.partition === 0)?.offset ?? -1));
  };
  const metadata = await admin.fetchTopicMetadata({ topics: allTopics(topics).map((t) => t.name) });
  const partitionCounts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  const partitionsOf = (topic: string): number => {
    const count = partitionCounts.get(topic);
    if (count === undefined)
      throw new StackError(`the chaos publisher writes to ${topic}, which does not exist`);
    return count;
  };
  let batches = 0;
  const transactional: Pick<Producer, 'sendBatch'> = {
    sendBatch: async (batch) => {
      batches += 1;
      for (let attempt = 1; ; attempt++) {
        let transaction: Transaction | undefined;
        try {
          if (attempt > 1) {
            await producer.disconnect().catch(() => {});
            producer = newProducer();
            await producer.connect();
            await (await producer.transaction()).abort(); // initialises the id: the last attempt is settled
            if ((await batchesCommitted()) >= batches) return [];
          }
          transaction = await producer.transaction();
          const sent = await sendEachPartitionApart(transaction, batch.topicMessages ?? [], partitionsOf);
          await transaction.sendOffsets({
            consumerGroupId: progress.groupId,
            topics: [{ topic: progress.topic, partitions: [{ partition: 0, offset: String(batches) }] }],
          });
          await transaction.commit();
          return sent;
        } catch (error) {
          await transaction?.abort().catch(() => {});
          if (attempt >= 20) throw error;
          await sleep(1000);
        }
      }
    },
  };
  const encode = (event: SimEvent) =>
    isRawEvent(event) ? event.bytes : codec.encode(event.topic, event.record, event.value as never);
  const bar = new ProgressBar({
    total: all.length,
    stream: process.stderr,
    unit: 'events of the year published',
  });
  let published = 0;
  for (const [i, slice] of slices.entries()) {
    currentSlice = i;
    await publishEvents(transactional, encode, slice, { onProgress: (n) => bar.update(published + n) });
    published += slice.length;
    bar.update(published);
    for (const fault of spec.schedule.filter((f) => f.slice === i)) await inject(admin, fault);
  }
  bar.finish();
  await producer.disconnect();
  return all.length;
}

/** Every committed record of a topic with its partition and offset (readTopic gives the values alone). */
async function readCoordinates(
  kafka: Kafka,
  topic: string,
): Promise<{ partition: number; offset: number; value: Buffer | null }[]> {
  const records: { partition: number; offset: number; value: Buffer | null }[] = [];
  await readToEnd(
    kafka,
    [topic],
    async (batch) => {
      for (const m of batch.messages)
        records.push({ partition: batch.partition, offset: Number(m.offset), value: m.value });
    },
    { groupPrefix: 'chaos-reader' },
  );
  return records;
}

/** Every journal record's partition, offset and origin. */
async function journalEntries(kafka: Kafka, codec: TopicCodec): Promise<JournalEntry[]> {
  const entries: JournalEntry[] = [];
  for (const record of await readCoordinates(kafka, topics.journal.name)) {
    const decoded = await codec.decode(topics.journal, record.value);
    if (!decoded.ok) throw new StackError(`undecodable journal record ${record.partition}/${record.offset}`);
    const { origin } = decoded.value.value as { origin: JournalEntry['origin'] };
    entries.push({
      partition: record.partition,
      offset: record.offset,
      origin: { topic: origin.topic, partition: origin.partition, offset: origin.offset },
      notice: decoded.value.record === 'journal-collection-closed',
    });
  }
  return entries;
}

async function main(): Promise<void> {
  mkdirSync(spec.logDir, { recursive: true });
  const kafka = createKafka(endpoints, 'chaos', createLogger('chaos', 'error'));
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, allTopics(topics), endpoints.kafkaBrokers.length);
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare(allTopics(topics));
  for (const service of services) start(service.name);
  say(
    `namespace ${namespace}: ${services.length} services started, ${spec.schedule.length} faults scheduled`,
  );

  const published = await publishSlices(kafka, admin, codec);
  say('the year is published; waiting until every service has caught up');
  let bar: ProgressBar | undefined;
  let total = 0;
  let calm = 0;
  const done = await until(
    async () => {
      let committed = 0;
      let end = 0;
      for (const service of services) {
        const p = await position(admin, service.name);
        committed += p.committed;
        end += p.end;
      }
      total ||= end;
      bar ??= new ProgressBar({
        total,
        stream: process.stderr,
        unit: 'records committed by the services',
        initial: Math.min(committed, total),
      });
      // Outputs keep arriving downstream while it runs: the bar counts against the first total seen.
      bar.update(Math.min(committed, total));
      calm = (await caughtUp(admin)) ? calm + 1 : 0;
      return calm >= 3;
    },
    20 * 60_000,
    1000,
  );
  bar?.finish();
  if (!done)
    throw new StackError(
      `${namespace}: the services did not catch up within 20 minutes; logs in ${spec.logDir}`,
    );

  const disclosure = instances.get('chaos-disclosure') as Instance;
  disclosure.child.kill('SIGUSR1');
  const disclosures = await (async () => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const records = await patiently(() =>
        readTopic<'public-disclosure'>(kafka, codec, topics.disclosure, { idleMs: 1500 }),
      );
      if (REGIONS.every((r) => records.some((d) => d.regionCode === r && d.periodLabel === '2025')))
        return records;
      if (Date.now() > deadline) throw new StackError(`${namespace}: no 2025 disclosures after 3 minutes`);
      await sleep(1000);
    }
  })();
  const verify = spawnSync(
    process.execPath,
    [
      join(REPO_ROOT, 'services/hub-cli/hub.js'),
      'disclosure',
      'verify',
      '--url',
      `http://127.0.0.1:${spec.disclosurePort}/disclosures.json`,
      '--public-key',
      spec.publicKeyFile,
    ],
    { cwd: REPO_ROOT, env: process.env, encoding: 'utf8' },
  );
  const chainProblems =
    verify.status === 0 ? [] : `${verify.stdout}${verify.stderr}`.trim().split('\n').filter(Boolean);

  const ledger = await patiently(() =>
    readTopic<'ledger-posting'>(kafka, codec, topics.ledger, { idleMs: 2000 }),
  );
  const results = await patiently(() =>
    readTopic<'reconciliation-result'>(kafka, codec, topics.reconciliation, {
      idleMs: 2000,
    }),
  );
  const deadLetters: DeadLetter[] = [];
  for (const topic of [
    topics.premiumDeadLetters,
    topics.settlementDeadLetters,
    topics.payoutDeadLetters,
    topics.accountingDeadLetters,
  ])
    deadLetters.push(
      ...(await patiently(() => readTopic<'dead-letter'>(kafka, codec, topic, { idleMs: 1500 }))),
    );
  const journal = await patiently(() => journalEntries(kafka, codec));
  const inputs: Record<string, { partition: number; offset: number }[]> = {};
  for (const topic of [topics.taxPremium, topics.hospitalSettlement, topics.insurerPayout]) {
    inputs[topic.name] = (await patiently(() => readCoordinates(kafka, topic.name))).map(
      ({ partition, offset }) => ({
        partition,
        offset,
      }),
    );
  }
  await admin.disconnect();

  finishing = true;
  for (const id of [...instances.keys()]) await stop(id);
  const report: RunReport = {
    namespace,
    outcome: outcomeOf({
      ledger,
      results,
      disclosures,
      deadLetters,
      journalTopic: topics.journal.name,
      journal,
      inputs,
      published,
      chainProblems,
    }),
    injected,
    seconds: Number(seconds().toFixed(1)),
  };
  writeFileSync(spec.out, JSON.stringify(report, null, 2));
  say(
    `${namespace}: done in ${seconds().toFixed(0)} s (${ledger.length} postings, ${deadLetters.length} dead letters)`,
  );
}

async function stopEverything(): Promise<void> {
  finishing = true;
  for (const instance of instances.values()) {
    instance.expectedExit = true;
    instance.child.kill('SIGKILL');
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void stopEverything().finally(() => process.exit(1));
  });
}

try {
  await main();
  process.exit(0);
} catch (error) {
  say(error instanceof StackError ? error.message : String((error as Error).stack ?? error));
  await stopEverything();
  process.exit(1);
}
