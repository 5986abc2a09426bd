import '../support/fresh-namespace.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import {
  readStackState,
  stackDown,
  stackOptionsFromEnvironment,
  stackUp,
} from '../../deploy/local/launcher.js';
import { createTopics } from '../../shared/cli/topics.js';
import { type Endpoints, endpointsFromEnvironment, REPO_ROOT } from '../../shared/config.js';
import { NAMESPACE } from '../../shared/namespace.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { ALL_TOPICS, TOPICS, type TopicSpec } from '../../shared/topics.js';
import { memberId, premium, settlement } from '../support/streams.js';

/**
 * `npm run bench [-- --events N --members M --rate R --seconds S --json FILE]`
 *
 * On the local stack (or the endpoints in the environment), in one run:
 *  (a) raw kafkajs eachBatch consume rate of the settlement records, no processing;
 *  (b) settlement-ingest's end-to-end rate as its own process: decode, policy, Redis, transactions;
 *  (c) produce-to-ledger latency at a fixed offered load (p50, p99);
 * with peak memory (VmHWM) per process. A benchmark, not a test: it prints and never fails on numbers.
 */

interface Options {
  events: number;
  members: number;
  rate: number;
  seconds: number;
  json?: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { events: 50_000, members: 2_000, rate: 500, seconds: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--json' && value) options.json = value;
    else if (flag && value && ['--events', '--members', '--rate', '--seconds'].includes(flag)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: '${value}' is not a positive integer`);
      options[flag.slice(2) as 'events' | 'members' | 'rate' | 'seconds'] = n;
    } else {
      throw new Error(
        `unknown argument ${flag}; usage: npm run bench -- [--events N] [--members M] [--rate R] [--seconds S] [--json FILE]`,
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

function startService(name: string, endpoints: Endpoints): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', `services/${name}/main.ts`], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
      REDIS_URL: endpoints.redisUrl,
      HUB_NAMESPACE: NAMESPACE,
      HUB_INSTANCE_ID: `bench-${name}`,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test', // the fixed test pseudonym key: benchmark data is synthetic
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function sendAll(
  producer: Producer,
  topic: TopicSpec,
  messages: { key: string; value: Buffer }[],
): Promise<void> {
  // ≤ 1k messages per send: kafkajs groups a send per partition with a quadratic loop (perf-notes.md).
  for (let i = 0; i < messages.length; i += 1000) {
    await producer.send({ topic: topic.name, messages: messages.slice(i, i + 1000) });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  let endpoints = endpointsFromEnvironment();
  let startedStack = false;
  const stackOptions = stackOptionsFromEnvironment(process.env, { log });
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

  // Premiums first, so every member is covered.
  const members = Array.from({ length: options.members }, (_, i) => i + 1);
  await sendAll(
    producer,
    TOPICS.taxPremium,
    members.map((n) => ({
      key: memberId(n),
      value: codec.encode(TOPICS.taxPremium, 'premium-collected', premium(n)),
    })),
  );
  const premiumService = startService('premium-ingest', endpoints);
  while (!(await committedAll(admin, `${NAMESPACE}.premium-ingest`, TOPICS.taxPremium.name)))
    await sleep(200);
  premiumService.kill('SIGTERM');
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

  // (b) the settlement service end to end, as its own process, timed from its first commit so the
  // process start-up (tsx, group join) is reported apart.
  const serviceStart = Date.now();
  const service = startService('settlement-ingest', endpoints);
  let servicePeakMb: number | null = null;
  let firstCommit: { at: number; done: number } | undefined;
  for (;;) {
    const done = await committedCount(
      admin,
      `${NAMESPACE}.settlement-ingest`,
      TOPICS.hospitalSettlement.name,
    );
    if (done > 0 && !firstCommit) firstCommit = { at: Date.now(), done };
    servicePeakMb = peakRssMb(service.pid ?? 0) ?? servicePeakMb;
    if (done >= options.events) break;
    await sleep(50);
  }
  const serviceEnd = Date.now();
  const startupSeconds = ((firstCommit?.at ?? serviceEnd) - serviceStart) / 1000;
  const serviceRate =
    (options.events - (firstCommit?.done ?? 0)) /
    Math.max(0.001, (serviceEnd - (firstCommit?.at ?? serviceStart)) / 1000);
  log(
    `(b) settlement-ingest end to end: ${Math.round(serviceRate)}/s after a ${startupSeconds.toFixed(1)} s start-up`,
  );

  // (c) latency at a fixed offered load, with the service already running.
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const ledgerReader = kafka.consumer({ groupId: `${NAMESPACE}.bench-latency`, readUncommitted: false });
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
  const waitUntil = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < waitUntil) await sleep(100);
  servicePeakMb = peakRssMb(service.pid ?? 0) ?? servicePeakMb;
  await ledgerReader.disconnect();
  service.kill('SIGTERM');
  latencies.sort((x, y) => x - y);

  const brokerPid = readStackState(stackOptions)?.processes.find((p) => p.name === 'kafka-1')?.pid;
  const result = {
    when: new Date().toISOString(),
    namespace: NAMESPACE,
    events: options.events,
    members: options.members,
    avroEncodeMicros: Number(encodeUs.toFixed(2)),
    produceRate: Math.round(produceRate),
    rawConsumeRate: Math.round(rawRate),
    serviceRate: Math.round(serviceRate),
    serviceStartupSeconds: Number(startupSeconds.toFixed(1)),
    ratio: Number((serviceRate / rawRate).toFixed(3)),
    latency: {
      offeredPerSecond: options.rate,
      seconds: options.seconds,
      received: latencies.length,
      sent: total,
      p50ms: percentile(latencies, 50),
      p99ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1] ?? null,
    },
    peakRssMb: {
      bench: peakRssMb(process.pid),
      settlementIngest: servicePeakMb,
      broker: brokerPid ? peakRssMb(brokerPid) : null,
    },
  };

  const rows: [string, string][] = [
    ['(a) raw kafkajs consume', `${result.rawConsumeRate.toLocaleString('en')} events/s`],
    ['(b) settlement-ingest end to end', `${result.serviceRate.toLocaleString('en')} events/s`],
    ['(b)/(a)', `${result.ratio}`],
    ['settlement-ingest start-up (to first commit)', `${result.serviceStartupSeconds} s`],
    [
      `(c) latency at ${options.rate}/s for ${options.seconds} s`,
      `p50 ${result.latency.p50ms} ms, p99 ${result.latency.p99ms} ms (${latencies.length}/${total} seen)`,
    ],
    ['produce (bench producer)', `${result.produceRate.toLocaleString('en')} events/s`],
    ['Avro encode of a settlement', `${result.avroEncodeMicros} µs`],
    ['peak RSS: settlement-ingest', `${result.peakRssMb.settlementIngest ?? '?'} MB`],
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
  if (startedStack) await stackDown(stackOptions);
}

try {
  await main();
  process.exit(0);
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
