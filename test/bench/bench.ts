import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import {
  readStackState,
  stackDown,
  stackOptionsFromEnvironment,
  stackUp,
} from '../../deploy/local/launcher.js';
import { accountingService } from '../../services/accounting/adapter.js';
import { servicesFor } from '../../services/catalogue.js';
import { TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM } from '../../services/disclosure/chain.js';
import { createTopics } from '../../services/hub-cli/topics.js';
import { type Endpoints, endpointsFromEnvironment, REPO_ROOT } from '../../shared/config.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { createRedis } from '../../shared/redis.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { deleteKeys, rebuildState } from '../../shared/runner/rebuild.js';
import { allTopics, type TopicSpec, topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import { memberId, premium, settlement } from '../support/streams.js';
import { CpuSampler } from './cpu.js';
import { eosPassthroughRate } from './passthrough.js';
import { transactionTimes } from './transaction.js';

const CONFIG = testConfig();
const NAMESPACE = CONFIG.namespace;
const TOPICS = topicsFor(CONFIG);
const ALL_TOPICS = allTopics(TOPICS);
const accounting = accountingService(TOPICS);
const SERVICES = servicesFor(TOPICS);

/**
 * `npm run bench [-- --events N --members M --rate R --seconds S --json FILE --service-heap-mb MB]`
 *
 * On the local stack (or the endpoints in the environment), in one run, every service its own process:
 *  (a) raw kafkajs eachBatch consume rate of the settlement records, no processing, and a kafkajs
 *      exactly-once passthrough of them (the runner's chunking and transactions, no logic): the ceiling;
 *      and the time one transaction of one record takes (transaction.ts): the floor of a stage's latency;
 *  (b) the pipeline: settlement records from the input topic to the ledger, every stage running
 *      (settlement-ingest → journal → accounting → ledger, with the reconcilers and the disclosure
 *      aggregation reading the ledger meanwhile on the same two cores);
 *  (c) produce-to-ledger latency at a fixed offered load (p50, p99), and the cores each process kept busy meanwhile;
 *  (d) `hub rebuild` of accounting's state: from its changelog (the default), and by replaying the journal;
 * with the CPU each process used per event during (b), and peak memory (VmHWM) per process. A benchmark, not a test: it prints and never fails on numbers.
 */

interface Options {
  events: number;
  members: number;
  rate: number;
  seconds: number;
  json?: string;
  /** Run the services from their TypeScript sources through tsx instead of the compiled dist/. */
  tsx: boolean;
  /** --max-old-space-size of every service process (MB); Node's own default when unset. */
  serviceHeapMb?: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { events: 50_000, members: 2_000, rate: 500, seconds: 20, tsx: false };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--tsx') {
      options.tsx = true;
      i -= 1;
    } else if (flag === '--json' && value) options.json = value;
    else if (flag === '--service-heap-mb' && value) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 32)
        throw new Error(`${flag}: '${value}' is not a heap size in MB (≥ 32)`);
      options.serviceHeapMb = n;
    } else if (flag && value && ['--events', '--members', '--rate', '--seconds'].includes(flag)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: '${value}' is not a positive integer`);
      options[flag.slice(2) as 'events' | 'members' | 'rate' | 'seconds'] = n;
    } else {
      throw new Error(
        `unknown argument ${flag}; usage: npm run bench -- [--events N] [--members M] [--rate R] [--seconds S] [--json FILE] [--tsx] [--service-heap-mb MB]`,
      );
    }
  }
  return options;
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function peakRssMb(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function committedCount(admin: Admin, groupId: string, topic: string): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  return committed[0]?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0;
}

async function committedAll(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  return ends.every((p) => Number(p.high) === 0 || (done.get(p.partition) ?? -1) >= Number(p.high));
}

// Each service's health server on a known port, so the bench can read its metrics (chunk sizes).
const SERVICE_PORTS: Record<string, number> = {
  'premium-ingest': 27101,
  'payout-ingest': 27102,
  accounting: 27103,
  reconciler: 27104,
  'hospital-reconciler': 27105,
  disclosure: 27106,
  'settlement-ingest': 27107,
};

/** Records and transactions (chunks) a service committed so far, from its /metrics. */
async function chunkCounts(name: string): Promise<{ records: number; chunks: number } | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${SERVICE_PORTS[name]}/metrics`)).text();
    const sum = (metric: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith(metric))
        .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    return { records: sum('hub_messages_in_total'), chunks: sum('hub_batch_duration_seconds_count') };
  } catch {
    return undefined;
  }
}

/**
 * The services run as the deployment image runs them: compiled (`npm run build`, dist/), not through
 * tsx, whose loader and name-keeping helpers cost CPU a deployment does not pay. `--tsx` runs the sources.
 */
function serviceEntry(name: string, tsx: boolean): string[] {
  return tsx ? ['--import', 'tsx', `services/${name}/main.ts`] : [`dist/services/${name}/main.js`];
}

function startService(name: string, endpoints: Endpoints, options: Options): ChildProcess {
  const { tsx } = options;
  // HUB_BENCH_PROFILE=<dir>: every service writes V8 CPU profiles into <dir>/<service> when it exits.
  const profile = process.env.HUB_BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.HUB_BENCH_PROFILE}/${name}`]
    : [];
  const heap = options.serviceHeapMb ? [`--max-old-space-size=${options.serviceHeapMb}`] : [];
  return spawn(process.execPath, [...heap, ...profile, ...serviceEntry(name, tsx)], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      REDIS_URL: endpoints.redisUrl,
      HUB_NAMESPACE: NAMESPACE,
      HUB_INSTANCE_ID: `bench-${name}`,
      HUB_HEALTH_PORT: String(SERVICE_PORTS[name] ?? 0),
      // The events were generated with the public test key (below); the services must name members alike.
      HUB_PSEUDONYM_KEY: TEST_ONLY_PSEUDONYM_KEY.toString('hex'),
      LOG_LEVEL: 'warn',
      HUB_DISCLOSURE_SIGNING_KEY: TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function sendAll(
  producer: Producer,
  topic: TopicSpec,
  messages: { key: string; value: Buffer }[],
): Promise<void> {
  // ≤ 1k messages per send: kafkajs groups a send per partition with a quadratic loop.
  for (let i = 0; i < messages.length; i += 1000) {
    await producer.send({ topic: topic.name, messages: messages.slice(i, i + 1000) });
  }
}

/** The pid of the Redis server the hub uses, when it runs on this machine (for its CPU). */
async function redisProcessId(endpoints: Endpoints): Promise<number | undefined> {
  const redis = createRedis(endpoints);
  try {
    const info = await redis.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    const host = new URL(endpoints.redisUrl).hostname;
    return Number.isInteger(pid) && ['127.0.0.1', 'localhost', '::1'].includes(host) ? pid : undefined;
  } finally {
    redis.disconnect();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (!options.tsx) {
    log('compiling the services (npm run build) to run them as deployed');
    execFileSync('npm', ['run', '--silent', 'build'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  let endpoints = endpointsFromEnvironment();
  let startedStack = false;
  // The plain stack: this measures the pipeline's own cost; `npm run bench:tls` measures what TLS and
  // SCRAM add. A secured stack already running is reused, and its clients here would be refused.
  const stackOptions = stackOptionsFromEnvironment(process.env, { log, secure: false });
  if (!endpoints) {
    const up = await stackUp(stackOptions);
    endpoints = up.endpoints;
    startedStack = up.started;
  }
  const kafka = new Kafka({ clientId: 'bench', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, ALL_TOPICS, endpoints.kafkaBrokers.length);
  const codec = new TopicCodec(createRegistry(endpoints), endpoints.schemaRegistryUrl);
  await codec.prepare(ALL_TOPICS);
  const producer = kafka.producer();
  await producer.connect();
  log(`namespace ${NAMESPACE}; ${options.events} settlements over ${options.members} members`);

  // Every service runs from the start, as deployed; premiums first, so every member is covered.
  const services = new Map<string, ChildProcess>();
  const peaks = new Map<string, number | null>();
  const samplePeaks = () => {
    for (const [name, child] of services)
      peaks.set(name, peakRssMb(child.pid ?? 0) ?? peaks.get(name) ?? null);
  };
  for (const name of [
    'premium-ingest',
    'payout-ingest',
    'accounting',
    'reconciler',
    'hospital-reconciler',
    'disclosure',
  ]) {
    services.set(name, startService(name, endpoints, options));
  }
  const members = Array.from({ length: options.members }, (_, i) => i + 1);
  await sendAll(
    producer,
    TOPICS.taxPremium,
    members.map((n) => ({
      key: memberId(n),
      value: codec.encode(TOPICS.taxPremium, 'premium-collected', premium(n)),
    })),
  );
  while (!(await committedAll(admin, `${NAMESPACE}.premium-ingest`, TOPICS.taxPremium.name)))
    await sleep(200);
  while (!(await committedAll(admin, `${NAMESPACE}.accounting`, TOPICS.journal.name))) await sleep(200);
  log('premiums applied');

  // The settlement stream: every member's visits climb past the basic cap.
  const perMember = Math.ceil(options.events / options.members);
  const encodeStart = process.hrtime.bigint();
  const stream = Array.from({ length: options.events }, (_, i) => {
    const n = (i % options.members) + 1;
    const visit = Math.floor(i / options.members);
    const over = visit >= perMember - 2;
    const s = settlement(`BENCH-${i}`, n, {
      basic: over ? '60000.00' : '1000.00',
      overCap: over ? '2000.00' : '0.00',
      claimed: over ? '1800.00' : '0.00',
    });
    return { key: s.nationalId, value: codec.encode(TOPICS.hospitalSettlement, 'hospital-settlement', s) };
  });
  const encodeUs = Number(process.hrtime.bigint() - encodeStart) / 1000 / options.events;
  const produceStart = Date.now();
  await sendAll(producer, TOPICS.hospitalSettlement, stream);
  const produceRate = options.events / ((Date.now() - produceStart) / 1000);
  log(
    `produced ${options.events} settlements at ${Math.round(produceRate)}/s (Avro encode ${encodeUs.toFixed(1)} µs each)`,
  );

  // (a) raw consume.
  const raw = kafka.consumer({ groupId: `${NAMESPACE}.bench-raw`, readUncommitted: false });
  await raw.connect();
  await raw.subscribe({ topic: TOPICS.hospitalSettlement.name, fromBeginning: true });
  let consumed = 0;
  const rawStart = Date.now();
  await new Promise<void>((resolve) => {
    void raw.run({
      eachBatch: async ({ batch }) => {
        consumed += batch.messages.length;
        if (consumed >= options.events) resolve();
      },
    });
  });
  const rawSeconds = (Date.now() - rawStart) / 1000;
  await raw.disconnect();
  const rawRate = options.events / rawSeconds;
  log(`(a) raw consume: ${Math.round(rawRate)}/s`);
  const passthroughRate = await eosPassthroughRate(
    kafka,
    admin,
    TOPICS.hospitalSettlement,
    options.events,
    1000,
    NAMESPACE,
  );
  log(`(a) EOS passthrough: ${Math.round(passthroughRate)}/s`);
  const transaction = await transactionTimes(kafka, admin, NAMESPACE);
  log(
    `(a) one EOS transaction of one record: p50 ${transaction.total.p50} ms, p90 ${transaction.total.p90} ms`,
  );

  // Where (b)'s CPU goes: every hub process, the broker, Redis and this process, sampled over (b).
  const brokerPid = readStackState(stackOptions)?.processes.find((p) => p.name === 'kafka-1')?.pid;
  const redisPid = await redisProcessId(endpoints);
  const cpu = new CpuSampler(() => {
    const pids = new Map<string, number>();
    for (const [name, child] of services) if (child.pid) pids.set(name, child.pid);
    if (brokerPid) pids.set('Kafka broker', brokerPid);
    if (redisPid) pids.set('Redis server', redisPid);
    pids.set('bench process', process.pid);
    return pids;
  });

  // (b) the pipeline, timed from settlement-ingest's first commit to accounting's last, so the process
  // start-up (tsx, group join) is reported apart.
  const journalBefore = await committedCount(admin, `${NAMESPACE}.accounting`, TOPICS.journal.name);
  const serviceStart = Date.now();
  services.set('settlement-ingest', startService('settlement-ingest', endpoints, options));
  let firstCommit: { at: number; done: number } | undefined;
  let ingestDoneAt = 0;
  for (;;) {
    const ingested = await committedCount(
      admin,
      `${NAMESPACE}.settlement-ingest`,
      TOPICS.hospitalSettlement.name,
    );
    const booked =
      (await committedCount(admin, `${NAMESPACE}.accounting`, TOPICS.journal.name)) - journalBefore;
    if (ingested > 0 && !firstCommit) {
      firstCommit = { at: Date.now(), done: ingested };
      cpu.start();
    }
    if (ingested >= options.events && ingestDoneAt === 0) ingestDoneAt = Date.now();
    samplePeaks();
    if (booked >= options.events) break;
    await sleep(50);
  }
  const pipelineEnd = Date.now();
  const cpuUsed = cpu.stop();
  const chunks = new Map<string, { records: number; chunks: number }>();
  for (const name of services.keys()) {
    const counts = await chunkCounts(name);
    if (counts && counts.chunks > 0) chunks.set(name, counts);
  }
  const startupSeconds = ((firstCommit?.at ?? pipelineEnd) - serviceStart) / 1000;
  const since = firstCommit?.at ?? serviceStart;
  const counted = options.events - (firstCommit?.done ?? 0);
  const pipelineRate = counted / Math.max(0.001, (pipelineEnd - since) / 1000);
  const ingestRate = counted / Math.max(0.001, ((ingestDoneAt || pipelineEnd) - since) / 1000);
  log(
    `(b) pipeline, input topic to ledger: ${Math.round(pipelineRate)}/s (settlement-ingest alone ${Math.round(ingestRate)}/s) after a ${startupSeconds.toFixed(1)} s start-up`,
  );

  // (c) latency at a fixed offered load, in a steady state: every service running and caught up with
  // what (b) left it (the reconcilers and the disclosure aggregation still read (b)'s ledger after (b)).
  const catchUpStart = Date.now();
  for (const service of SERVICES) {
    while (!(await committedAll(admin, `${NAMESPACE}.${service.name}`, service.input.name))) await sleep(200);
  }
  log(`every service caught up ${((Date.now() - catchUpStart) / 1000).toFixed(1)} s after (b)`);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  // The reader asks for the ledger often, so its own fetch wait does not count as the pipeline's latency.
  const ledgerReader = kafka.consumer({
    groupId: `${NAMESPACE}.bench-latency`,
    readUncommitted: false,
    maxWaitTimeInMs: 50,
  });
  await ledgerReader.connect();
  await ledgerReader.subscribe({ topic: TOPICS.ledger.name, fromBeginning: false });
  await ledgerReader.run({
    eachMessage: async ({ message }) => {
      const text = message.value?.toString('latin1') ?? '';
      const match = /LAT-(\d+)/.exec(text);
      const sent = match ? sentAt.get(match[0]) : undefined;
      if (sent !== undefined) latencies.push(Date.now() - sent);
    },
  });
  await sleep(3000); // the reader joins its group before the load starts
  const total = options.rate * options.seconds;
  // Where (c)'s CPU goes at the offered load: cores each process kept busy while the load ran.
  cpu.start();
  const loadStart = Date.now();
  for (let i = 0; i < total; i += Math.max(1, Math.round(options.rate / 20))) {
    const due = loadStart + (i / options.rate) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    const tick = Array.from(
      { length: Math.min(Math.max(1, Math.round(options.rate / 20)), total - i) },
      (_, k) => {
        const id = `LAT-${i + k}`;
        const s = settlement(id, ((i + k) % options.members) + 1, {
          basic: '10.00',
          overCap: '0.00',
          claimed: '0.00',
        });
        sentAt.set(id, Date.now());
        return {
          key: s.nationalId,
          value: codec.encode(TOPICS.hospitalSettlement, 'hospital-settlement', s),
        };
      },
    );
    await producer.send({ topic: TOPICS.hospitalSettlement.name, messages: tick });
  }
  const loadSeconds = Math.max(0.001, (Date.now() - loadStart) / 1000);
  const loadCores = [...cpu.stop()]
    .map(([name, seconds]): [string, number] => [name, Number((seconds / loadSeconds).toFixed(2))])
    .sort((a, b) => b[1] - a[1]);
  const waitUntil = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < waitUntil) await sleep(100);
  samplePeaks();
  await ledgerReader.disconnect();
  latencies.sort((x, y) => x - y);

  // (d) rebuild accounting's state (the service stopped first, as hub rebuild requires).
  await new Promise<void>((resolve) => {
    const child = services.get('accounting');
    child?.once('exit', () => resolve());
    child?.kill('SIGTERM');
  });
  services.delete('accounting');
  // The rate per journal record: the replay decides each one, so it counts them (the offsets count markers too).
  const rebuildFrom = async (from: 'changelog' | 'input', journal?: number) => {
    const report = await rebuildState(accounting, {
      config: CONFIG,
      endpoints,
      pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
      logger: createLogger('bench-rebuild', 'error'),
      from,
    });
    const journalRecords = journal ?? report.records;
    const seconds = Math.max(0.001, report.seconds);
    const readSeconds = Math.max(0.001, report.readSeconds);
    log(
      `(d) rebuild of accounting from its ${from}: ${report.records} records read for ${journalRecords} journal records ` +
        `in ${report.seconds.toFixed(2)} s (${report.readSeconds.toFixed(2)} s of it reading): ` +
        `${Math.round(journalRecords / seconds)} journal records/s overall, ${Math.round(journalRecords / readSeconds)}/s reading`,
    );
    return {
      records: report.records,
      journalRecords,
      seconds: Number(report.seconds.toFixed(2)),
      readSeconds: Number(report.readSeconds.toFixed(2)),
      rate: Math.round(journalRecords / seconds),
      readRate: Math.round(journalRecords / readSeconds),
    };
  };
  const rebuiltFromInput = await rebuildFrom('input');
  const rebuilt = await rebuildFrom('changelog', rebuiltFromInput.journalRecords);
  for (const child of services.values()) child.kill('SIGTERM');

  const cpuMicrosPerEvent = Object.fromEntries(
    [...cpuUsed].map(([name, seconds]) => [name, Math.round((seconds * 1e6) / Math.max(1, counted))]),
  );
  const cpuTotal = [...cpuUsed.values()].reduce((a, b) => a + b, 0);
  const coresBusy = cpuTotal / Math.max(0.001, (pipelineEnd - since) / 1000);
  const result = {
    when: new Date().toISOString(),
    namespace: NAMESPACE,
    events: options.events,
    serviceHeapMb: options.serviceHeapMb ?? null,
    members: options.members,
    avroEncodeMicros: Number(encodeUs.toFixed(2)),
    produceRate: Math.round(produceRate),
    rawConsumeRate: Math.round(rawRate),
    eosPassthroughRate: Math.round(passthroughRate),
    transactionMs: transaction,
    pipelineRate: Math.round(pipelineRate),
    settlementIngestRate: Math.round(ingestRate),
    startupSeconds: Number(startupSeconds.toFixed(1)),
    ratio: Number((pipelineRate / rawRate).toFixed(3)),
    ratioToPassthrough: Number((pipelineRate / passthroughRate).toFixed(3)),
    cpuMicrosPerEvent,
    recordsPerTransaction: Object.fromEntries(
      [...chunks].map(([name, c]) => [name, Math.round(c.records / c.chunks)]),
    ),
    coresBusy: Number(coresBusy.toFixed(2)),
    rebuild: rebuilt,
    rebuildFromInput: rebuiltFromInput,
    latency: {
      offeredPerSecond: options.rate,
      seconds: options.seconds,
      received: latencies.length,
      sent: total,
      p50ms: percentile(latencies, 50),
      p99ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1] ?? null,
      coresBusy: Object.fromEntries(loadCores),
    },
    peakRssMb: {
      ...Object.fromEntries(peaks),
      bench: peakRssMb(process.pid),
      broker: brokerPid ? peakRssMb(brokerPid) : null,
    },
  };

  const rows: [string, string][] = [
    ['(a) raw kafkajs consume', `${result.rawConsumeRate.toLocaleString('en')} events/s`],
    [
      '(a) kafkajs EOS passthrough (chunks of 1000, no logic)',
      `${result.eosPassthroughRate.toLocaleString('en')} events/s`,
    ],
    [
      '(a) one EOS transaction, 1 record (send, sendOffsets, commit)',
      `p50 ${transaction.total.p50} ms, p90 ${transaction.total.p90} ms (send ${transaction.send.p50}, sendOffsets ${transaction.sendOffsets.p50}, commit ${transaction.commit.p50} ms at p50)`,
    ],
    [
      '(b) pipeline, input topic to ledger, every stage running',
      `${result.pipelineRate.toLocaleString('en')} events/s`,
    ],
    [
      '    settlement-ingest alone (to the journal)',
      `${result.settlementIngestRate.toLocaleString('en')} events/s`,
    ],
    ['(b)/(a) raw consume', `${result.ratio}`],
    ['(b)/(a) EOS passthrough', `${result.ratioToPassthrough}`],
    ...Object.entries(cpuMicrosPerEvent)
      .sort((x, y) => y[1] - x[1])
      .map(([name, us]): [string, string] => [`(b) CPU per event: ${name}`, `${us} µs`]),
    ...Object.entries(result.recordsPerTransaction).map(([name, n]): [string, string] => [
      `(b) records per transaction: ${name}`,
      `${n} (since it started)`,
    ]),
    [
      '(b) CPU per event: all processes',
      `${Math.round((cpuTotal * 1e6) / Math.max(1, counted))} µs (${result.coresBusy} cores busy)`,
    ],
    ['settlement-ingest start-up (to first commit)', `${result.startupSeconds} s`],
    [
      `(c) latency at ${options.rate}/s for ${options.seconds} s`,
      `p50 ${result.latency.p50ms} ms, p99 ${result.latency.p99ms} ms (${latencies.length}/${total} seen)`,
    ],
    [
      '(c) cores busy while the load ran',
      `${loadCores.reduce((sum, [, cores]) => sum + cores, 0).toFixed(2)} of ${availableParallelism()}: ` +
        loadCores.map(([name, cores]) => `${name} ${cores}`).join(', '),
    ],
    [
      '(d) hub rebuild of accounting (from its changelog, the default)',
      `${result.rebuild.rate.toLocaleString('en')} journal records/s overall, ${result.rebuild.readRate.toLocaleString('en')}/s reading (${result.rebuild.journalRecords} journal records, ${result.rebuild.records} changelog records, in ${result.rebuild.seconds} s, ${result.rebuild.readSeconds} s of it reading)`,
    ],
    [
      '(d) hub rebuild --from input (the journal decided again)',
      `${result.rebuildFromInput.rate.toLocaleString('en')} journal records/s overall, ${result.rebuildFromInput.readRate.toLocaleString('en')}/s reading (${result.rebuildFromInput.journalRecords} in ${result.rebuildFromInput.seconds} s)`,
    ],
    ['produce (bench producer)', `${result.produceRate.toLocaleString('en')} events/s`],
    ['Avro encode of a settlement', `${result.avroEncodeMicros} µs`],
    [
      'services: --max-old-space-size',
      result.serviceHeapMb === null ? "Node's default" : `${result.serviceHeapMb} MB`,
    ],
    ...[...peaks].map(([name, mb]): [string, string] => [`peak RSS: ${name}`, `${mb ?? '?'} MB`]),
    ['peak RSS: bench process', `${result.peakRssMb.bench ?? '?'} MB`],
    ['peak RSS: Kafka broker', `${result.peakRssMb.broker ?? 'not local'} MB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n`);
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${options.json}`);
  }
  await producer.disconnect();
  await admin.disconnect();
  // The bench leaves nothing behind in Redis: its namespace's keys go with it.
  const redis = createRedis(endpoints);
  await deleteKeys(redis, `${NAMESPACE}:*`);
  redis.disconnect();
  if (startedStack) await stackDown(stackOptions);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
