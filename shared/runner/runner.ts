import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Admin,
  Batch,
  Consumer,
  ConsumerRunConfig,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
  Message,
  Producer,
} from 'kafkajs';
import {
  type Endpoints,
  type HubConfig,
  hubConfig,
  hubConfigFromEnvironment,
  loadEndpoints,
} from '../config.js';
import { ConfigError, HubError, StateLostError } from '../errors.js';
import { loadPseudonymKey, type PseudonymKey } from '../identity.js';
import { createKafka, sendEachPartitionApart, transactionalProducer } from '../kafka.js';
import { createLogger, type Logger } from '../logger.js';
import { loadRegions } from '../policy/regions.js';
import { workingDayCalendar } from '../policy/workingDays.js';
import { createRedis, type RedisClient } from '../redis.js';
import { createRegistry, TopicCodec } from '../registry.js';
import { type TopicSpec, type Topics, topicsFor } from '../topics.js';
import { advertisedHost, announceHealth } from './announce.js';
import {
  isGroupMembershipError,
  isProducerFenced,
  isRetriable,
  type RetryOptions,
  retryTransient,
} from './backoff.js';
import { originRecord } from './changelog.js';
import { ChunkProcessor, type PreparedChunk } from './chunk.js';
import { RunnerMetrics, serveHealth } from './observability.js';
import { NO_STATE_WRITE, PartitionState } from './partition-state.js';
import type { Service } from './service.js';

/**
 * The one consume-decide-produce loop every service runs.
 *
 * Per chunk of a partition's batch: decode through the registry, parse and decide with the service's
 * pure functions against its entities in memory, then (1) one Kafka transaction writes the outputs, the
 * dead letters, the consumed offset and (stateful services) the changed fields on the service's
 * changelog (changelog.ts), and (2) for a stateful service, one Redis script writes the
 * entities the chunk changed with the partition's new watermark (see partition-state.ts). A crash
 * before (1) replays the chunk from the same state, so it emits the same records; a crash between (1)
 * and (2) leaves the watermark behind, and the next owner replays that gap into the state alone.
 */

export interface RunnerOptions {
  /** The hub's namespace: the service's group, transactional ids and Redis keys carry it. */
  readonly config: HubConfig;
  readonly endpoints: Endpoints;
  /** Distinguishes instances of one service in logs, client ids and the health announcement. */
  readonly instanceId: string;
  /** 0 picks a free port (logged, and announced in Redis: announce.ts). */
  readonly healthPort: number;
  /** The host announced with the health port; default: HUB_HEALTH_HOST or the first non-loopback IPv4. */
  readonly healthHost?: string;
  /** Messages per transaction: kafkajs's send is quadratic past about a thousand per partition. */
  readonly maxChunk: number;
  /** Entities kept in memory per partition; the least recently written are dropped first (Redis has them). */
  readonly stateCacheEntries: number;
  /**
   * Partitions of one fetch handled side by side, each in its own transaction (each has its own
   * transactional id). 1 by default: on the 2-core bench machine 3 was slower (README, "Benchmark").
   */
  readonly partitionsConcurrently: number;
  /** How long the group waits for a silent member (a killed one) before moving its partitions. */
  readonly sessionTimeoutMs: number;
  /** Replaces the `gatherMs` of a service that gathers its fetches (service.ts); 0 decides at once. */
  readonly gatherMs?: number;
  readonly pseudonymKey: PseudonymKey;
  readonly logger: Logger;
  /** Retrying cannot help (lost or corrupt state, a bug): stop deciding. runService exits with the message. */
  readonly onFatal?: (error: Error) => void;
  /** Faults a test injects on purpose (HUB_TEST_FAULTS); never set in production. */
  readonly testFaults?: TestFaults;
}

/**
 * Test-only switches, to show that the tests notice a broken runner: `crashAfterCommits` stops deciding
 * (as if the process died) right after that many Kafka commits, before their state is written;
 * `skipStateWrites` never writes the state (a build that forgot to), so a restart decides against old state;
 * `offsetsBeforeTransaction` commits each chunk's offset as soon as the chunk is read, outside the
 * transaction (at-most-once, as kafkajs's autoCommit would), so a kill in the middle loses the chunk;
 * `stallOnceBeforeCommitMs` freezes the first commit that long without heartbeats (a process paused
 * past its session), so the group gives its partitions to another process before it commits.
 */
export interface TestFaults {
  readonly crashAfterCommits?: number;
  readonly stallOnceBeforeCommitMs?: number;
  readonly skipStateWrites?: boolean;
  readonly offsetsBeforeTransaction?: boolean;
}

/** HUB_TEST_FAULTS="crashAfterCommits=3,skipStateWrites": for the fault tests' child processes only. */
export function testFaultsFrom(text: string | undefined): TestFaults | undefined {
  if (text === undefined || text === '') return undefined;
  const faults: {
    crashAfterCommits?: number;
    stallOnceBeforeCommitMs?: number;
    skipStateWrites?: boolean;
    offsetsBeforeTransaction?: boolean;
  } = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=');
    if (name === 'crashAfterCommits' && value !== undefined && /^\d+$/.test(value))
      faults.crashAfterCommits = Number(value);
    else if (name === 'stallOnceBeforeCommitMs' && value !== undefined && /^\d+$/.test(value))
      faults.stallOnceBeforeCommitMs = Number(value);
    else if (name === 'skipStateWrites') faults.skipStateWrites = true;
    else if (name === 'offsetsBeforeTransaction') faults.offsetsBeforeTransaction = true;
    else throw new ConfigError(`HUB_TEST_FAULTS: '${part}' is not a known test fault`);
  }
  return faults;
}

/** What an injected crash throws: the chunk's outputs are committed, its state is not written. */
export class TestCrash extends HubError {
  constructor(commits: number) {
    super(`test fault: stopped after ${commits} commits, before writing their state`, { retriable: false });
    this.name = 'TestCrash';
  }
}

export function runnerOptionsFromEnvironment(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
  config: HubConfig = hubConfigFromEnvironment(env),
): RunnerOptions {
  const integer = (name: string, fallback: number, min: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new ConfigError(`${name}: '${text}' is not an integer ≥ ${min}`);
    return value;
  };
  return {
    config,
    endpoints: loadEndpoints(env),
    instanceId: env.HUB_INSTANCE_ID || hostname(),
    healthPort: integer('HUB_HEALTH_PORT', 0, 0),
    maxChunk: integer('HUB_MAX_CHUNK', 1000, 1),
    stateCacheEntries: integer('HUB_STATE_CACHE_ENTRIES', 200_000, 100),
    partitionsConcurrently: integer('HUB_PARTITIONS_CONCURRENTLY', 1, 1),
    sessionTimeoutMs: integer('HUB_SESSION_TIMEOUT_MS', 30_000, 6_000),
    ...(env.HUB_GATHER_MS ? { gatherMs: integer('HUB_GATHER_MS', 0, 0) } : {}),
    pseudonymKey: loadPseudonymKey(env),
    logger: createLogger(service),
    ...(env.HUB_TEST_FAULTS ? { testFaults: testFaultsFrom(env.HUB_TEST_FAULTS) } : {}),
  };
}

export interface RunningService {
  readonly healthPort: number;
  readonly metrics: RunnerMetrics;
  isReady(): boolean;
  /** Finishes the chunk in hand, commits it, leaves the group and closes every connection. */
  stop(): Promise<void>;
}

/**
 * Entry point of a service's main.ts: reads the configuration once, builds the service for its
 * namespace's topics, starts it, then stops cleanly on SIGTERM or SIGINT.
 */
export async function runService<Input>(define: (topics: Topics) => Service<Input>): Promise<void> {
  // A service's name is the same in every namespace: a bad namespace can be told under it too.
  const name = define(topicsFor(hubConfig())).name;
  let running: RunningService | undefined;
  const fail = (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    // An injected crash dies at once, as a killed process would: nothing more is written.
    if (error instanceof TestCrash) process.exit(137);
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  };
  let options: RunnerOptions;
  let service: Service<Input>;
  try {
    const config = hubConfigFromEnvironment(process.env);
    service = define(topicsFor(config));
    options = { ...runnerOptionsFromEnvironment(name, process.env, config), onFatal: fail };
  } catch (error) {
    process.stderr.write(`${name}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  // A broker, registry or Redis away at start-up is waited for, as it is later on.
  for (let attempt = 1; running === undefined; attempt++) {
    try {
      running = await startService(service, options);
    } catch (error) {
      if (error instanceof HubError && !error.retriable) {
        process.stderr.write(`${service.name}: ${error.message}\n`);
        process.exit(1);
      }
      if (!isRetriable(error)) throw error; // a bug: its stack trace says where
      const delayMs = restartDelayMs(attempt);
      options.logger.warn(
        { attempt, delayMs, err: (error as Error).message },
        'could not start yet; trying again',
      );
      await sleep(delayMs);
    }
  }
  const shutdown = (signal: string) => {
    process.stderr.write(`${service.name}: ${signal}: finishing the chunk in hand and leaving the group\n`);
    running?.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/**
 * What a process holds for a partition it owns: the producer of the partition's transactional id, and
 * (stateful services) the state with how far below the committed offset its watermark was when opened.
 */
interface OwnedPartition {
  producer: Producer;
  /** The group generation it was taken in: a later generation takes it again (fence, offset, state). */
  readonly generation: number;
  readonly state: PartitionState | undefined;
  /** Records below this offset were committed by an earlier owner: replay them into the state only. */
  readonly catchUpEnd: bigint;
  /** Seeks back to the watermark in a row: a gap Kafka cannot fill stops the service after a few. */
  gapSeeks: number;
}

export async function startService<Input>(
  service: Service<Input>,
  options: RunnerOptions,
): Promise<RunningService> {
  // Policy files are configuration: read and checked before anything connects, so a bad one stops the
  // start with one line instead of dead-lettering the first message that needs it.
  loadRegions();
  workingDayCalendar();
  const namespace = options.config.namespace;
  const log = options.logger.child({ service: service.name, instance: options.instanceId });
  const metrics = new RunnerMetrics(service.name);
  const kafka = createKafka(options.endpoints, `${service.name}-${options.instanceId}`, log, (answer) =>
    metrics.brokerRetries.inc({ answer }),
  );
  const redis: RedisClient | undefined = service.state ? createRedis(options.endpoints) : undefined;
  redis?.on('error', (error) => log.warn({ err: error.message }, 'redis connection problem'));
  const codec = new TopicCodec(createRegistry(options.endpoints), options.endpoints.schemaRegistryUrl);
  const topics = [
    service.input,
    service.deadLetters,
    ...service.outputs,
    ...(service.state ? [service.state.changelog] : []),
  ];

  const admin = kafka.admin();
  await admin.connect();
  let partitionCounts: Map<string, number>;
  try {
    partitionCounts = await requireTopics(admin, topics);
    await retryTransient(() => codec.prepare(topics), {
      log,
      what: 'register schemas',
      isRunning: () => true,
    });
  } catch (error) {
    await admin.disconnect();
    redis?.disconnect();
    throw error;
  }

  const groupId = `${namespace}.${service.name}`;
  // One transactional id per input partition, not per process: kafkajs's offset commits in a
  // transaction carry no group generation (no KIP-447), so a process that lost its partitions (a
  // session that timed out on a loaded machine) could otherwise still commit a chunk the new owner
  // decides again. The new owner initialises the partition's id, which fences the old owner's
  // producer and settles its open transaction before the new owner reads the committed offset.
  const transactionalIdOf = (partition: number) => `${groupId}-partition-${partition}`;
  const newProducer = (partition: number) =>
    kafka.producer(transactionalProducer(transactionalIdOf(partition)));

  const consumer: Consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(options.sessionTimeoutMs / 3)),
    ...fetchWait(service.gatherMs === undefined ? 0 : (options.gatherMs ?? service.gatherMs)),
  });
  let joined = false;
  let stopping = false;
  let fatal: Error | undefined;
  const owned = new Map<number, OwnedPartition>();
  // Partitions may have moved in a rebalance: each is taken again (fenced, its state read again from
  // Redis) before its next batch, and one no longer assigned is let go once no batch of it is running.
  let generation = 0;
  let assigned = new Set<number>();
  const busy = new Set<number>();
  let restartsSinceJoin = 0;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joined = true;
    restartsSinceJoin = 0;
    generation += 1;
    log.info({ assignment: event.payload.memberAssignment }, 'joined consumer group');
    const partitions = event.payload.memberAssignment[service.input.name] ?? [];
    assigned = new Set(partitions);
    for (const partition of owned.keys()) if (!busy.has(partition)) releaseUnassigned(partition);
    if (redis && partitions.length > 0) void verifyAssigned(redis, partitions);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    joined = false;
    // kafkajs restarts the consumer after a retriable failure (a broker away too long): not an error yet.
    const fields = { err: event.payload.error.message, restart: event.payload.restart };
    if (event.payload.restart) log.warn(fields, 'consumer crashed; kafkajs restarts it');
    else if (stopping || fatal !== undefined) return;
    else if (isRetriable(event.payload.error) || isGroupMembershipError(event.payload.error)) {
      // kafkajs gives up for good on some answers a new start heals ("Failed to find group
      // coordinator" while the only broker restarts, "The coordinator is not aware of this member"
      // after a late heartbeat): the consumer would sit stopped with its partitions unread.
      log.warn(fields, 'consumer stopped by kafkajs on a passing fault; starting it again');
      void restartConsumer();
    } else {
      // Not a fault that waiting heals: stop, so the process exits and its supervisor restarts it.
      stopForGood(event.payload.error);
    }
  });
  // A fetch that held only transaction markers (our inputs' producers may be transactional) never
  // reaches eachBatch, and with autoCommit off kafkajs never commits past it: the group would show a
  // lag of one marker per partition forever. No data lies in between, so a plain commit is safe.
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize !== 0 || payload.lastOffset === null || payload.lastOffset === undefined) return;
    const offset = (BigInt(payload.lastOffset) + 1n).toString();
    consumer
      .commitOffsets([{ topic: payload.topic, partition: payload.partition, offset }])
      .catch((error: Error) =>
        log.warn(
          { partition: payload.partition, err: error.message },
          'could not commit past transaction markers',
        ),
      );
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: service.input.name, fromBeginning: true });
  } catch (error) {
    // runService starts again after a broker-away failure: leave no connection behind.
    await consumer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    redis?.disconnect();
    throw error;
  }

  /**
   * A producer of the partition's transactional id, initialised: from here on a producer of an earlier
   * owner is fenced, and the transaction it had open is committed or aborted for good.
   */
  const fencingProducer = async (partition: number): Promise<Producer> => {
    const producer = newProducer(partition);
    try {
      await producer.connect();
      // kafkajs initialises the transactional id on the first transaction; an empty one ends locally.
      await (await producer.transaction()).abort();
      return producer;
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
  };

  /** The changelog's origin record of a partition whose state starts now (changelog.ts), in a transaction of its own. */
  const commitOrigin = async (producer: Producer, partition: number, startOffset: bigint) => {
    const changelog = service.state?.changelog;
    if (!changelog) return;
    const origin: PreparedChunk = {
      records: [originRecord(changelog, partition, startOffset, codec)],
      deadLetters: [],
      stateWrite: NO_STATE_WRITE,
    };
    // No input offset moves with it: the transaction carries the origin alone.
    await commitTransaction(producer, groupId, service.input.name, partition, startOffset, origin, {
      withOffsets: false,
      partitionsOf,
    });
  };

  /** Leaves every partition (at stop): their producers go. */
  const releaseOwned = async () => {
    const parts = [...owned.values()];
    owned.clear();
    await Promise.all(parts.map((part) => part.producer.disconnect().catch(() => {})));
  };

  /** Lets a partition go: its producer is closed, and its state is read again if it comes back. */
  const release = (partition: number) => {
    const part = owned.get(partition);
    owned.delete(partition);
    void part?.producer.disconnect().catch(() => {});
  };
  const releaseUnassigned = (partition: number) => {
    if (!assigned.has(partition)) release(partition);
  };

  const partitionsOf = (topic: string): number => {
    const count = partitionCounts.get(topic);
    if (count === undefined) throw new HubError(`${topic} is not an output of ${service.name}`);
    return count;
  };
  const processor = new ChunkProcessor(service, codec, redis, options, (topic) => partitionsOf(topic.name));

  let commits = 0;
  let stalled = false;
  const stopForGood = (error: Error) => {
    if (fatal) return;
    fatal = error;
    log.error(
      { err: error.message },
      error instanceof TestCrash
        ? 'stopped by a test fault'
        : error instanceof HubError
          ? 'stopped deciding: the state cannot be trusted'
          : 'stopped: retrying cannot help',
    );
    if (options.onFatal) options.onFatal(error);
    else void consumer.stop();
  };

  /** The committed offset of the group for one partition, or null when it never committed one. */
  const committedOffset = async (partition: number): Promise<bigint | null> => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [service.input.name] });
    const found = entry?.partitions.find((p) => p.partition === partition);
    const offset = found === undefined ? -1n : BigInt(found.offset);
    return offset < 0n ? null : offset;
  };

  /** Checks, as soon as partitions are assigned, that their state is there: idle or not, lost state stops the service. */
  const verifyAssigned = async (client: RedisClient, partitions: readonly number[]) => {
    try {
      for (const partition of partitions) {
        await PartitionState.verify(client, {
          namespace,
          service: service.name,
          partition,
          committed: await committedOffset(partition),
        });
      }
    } catch (error) {
      if (error instanceof StateLostError) stopForGood(error);
      else log.warn({ err: (error as Error).message }, "could not check the assigned partitions' state yet");
    }
  };

  /**
   * Takes a partition the first time a batch of it arrives after a (re)assignment: fences its earlier
   * owner first, so the committed offset read next is final, then opens its state.
   */
  const ownPartition = async (batch: Batch): Promise<OwnedPartition> => {
    const known = owned.get(batch.partition);
    if (known && known.generation === generation) return known;
    if (known) release(batch.partition);
    const takenIn = generation;
    const producer = await fencingProducer(batch.partition);
    try {
      const committed = await committedOffset(batch.partition);
      const opened = redis
        ? await PartitionState.open(redis, {
            namespace,
            service: service.name,
            partition: batch.partition,
            committed,
            startOffset: BigInt(batch.firstOffset() ?? '0'),
            maxEntries: options.stateCacheEntries,
            beforeStart: (startOffset) => commitOrigin(producer, batch.partition, startOffset),
          })
        : undefined;
      const part: OwnedPartition = {
        producer,
        generation: takenIn,
        state: opened?.state,
        catchUpEnd: committed ?? 0n,
        gapSeeks: 0,
      };
      owned.set(batch.partition, part);
      if (opened) {
        log.info(
          {
            partition: batch.partition,
            watermark: String(opened.state.watermark),
            committed: String(committed),
            fresh: opened.fresh,
          },
          opened.state.watermark < part.catchUpEnd
            ? 'state behind the committed offset: replaying the gap'
            : 'partition state opened',
        );
      }
      return part;
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
  };

  const consume: ConsumerRunConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConcurrently,
    eachBatch: async (payload) => {
      busy.add(payload.batch.partition);
      try {
        await handleBatch(payload);
      } finally {
        busy.delete(payload.batch.partition);
        // Revoked while its batch ran: let it go now (a new owner has fenced it, or will).
        releaseUnassigned(payload.batch.partition);
      }
    },
  };

  async function handleBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (fatal) return;
    const running = () => isRunning() && !isStale() && !fatal;
    const partitionLog = log.child({ partition: batch.partition });
    try {
      const part = await retryTransient(() => ownPartition(batch), {
        log: partitionLog,
        what: 'take the partition (fence its earlier owner, open its state)',
        isRunning: running,
        heartbeat,
        onRetry: () => metrics.retries.inc({ stage: 'state' }),
      });
      // Decide nothing the state is not ready for. A fetch that began past the state's watermark (the
      // group's offset is ahead of a state whose last write was lost with its process, or a batch was
      // fetched before a seek took effect) leaves records out of the state: fetch from the watermark.
      if (part.state) {
        const fetchedFrom = fetchedOffsetOf(batch);
        if (fetchedFrom > part.state.watermark) {
          part.gapSeeks += 1;
          if (part.gapSeeks > MAX_GAP_SEEKS) {
            throw new StateLostError(
              `${service.name}: the state of partition ${batch.partition} ends at offset ${part.state.watermark}, ` +
                `but Kafka serves the partition only from offset ${fetchedFrom} (deleted by retention?): ` +
                `run \`npx hub rebuild --service ${service.name}\` (namespace ${namespace})`,
            );
          }
          partitionLog.info(
            { watermark: String(part.state.watermark), fetchedFrom: String(fetchedFrom) },
            'state behind the fetch: fetching from the watermark to replay the gap',
          );
          consumer.seek({
            topic: batch.topic,
            partition: batch.partition,
            offset: String(part.state.watermark),
          });
          return;
        }
        part.gapSeeks = 0;
      }
      for (let start = 0; start < batch.messages.length; start += options.maxChunk) {
        if (!running()) return;
        const chunk = batch.messages.slice(start, start + options.maxChunk);
        const lastChunk = start + options.maxChunk >= batch.messages.length;
        const lastInChunk = BigInt((chunk[chunk.length - 1] as KafkaMessage).offset);
        // The last chunk commits the batch's position, past any transaction markers it ended with.
        const batchEnd = BigInt(batch.lastOffset()) + 1n;
        const nextOffset = lastChunk && batchEnd > lastInChunk + 1n ? batchEnd : lastInChunk + 1n;
        const moved = await handleChunk(chunk, nextOffset, part, batch, partitionLog, heartbeat, running);
        if (!moved) return;
        resolveOffset((chunk[chunk.length - 1] as KafkaMessage).offset);
        await heartbeat();
      }
      const behind = Number(batch.offsetLag());
      const labels = { topic: batch.topic, partition: String(batch.partition) };
      metrics.lag.set(labels, behind);
      const last = batch.messages[batch.messages.length - 1];
      metrics.lagSeconds.set(
        labels,
        behind > 0 && last ? Math.max(0, (Date.now() - Number(last.timestamp)) / 1000) : 0,
      );
    } catch (error) {
      // Lost or corrupt state, or a bug: retrying would fail the same way, so the service stops and says why.
      // A lost group membership is neither: thrown on, kafkajs re-joins the group.
      if (!isRetriable(error) && !isGroupMembershipError(error)) {
        stopForGood(error as Error);
        return;
      }
      throw error;
    }
  }
  await consumer.run(consume);

  /**
   * Connects and runs the consumer again after kafkajs stopped it. A start that fails again crashes
   * again and comes back here: the wait grows with the restarts since the group was last joined.
   */
  async function restartConsumer(): Promise<void> {
    restartsSinceJoin += 1;
    await sleep(restartDelayMs(restartsSinceJoin));
    if (stopping || fatal !== undefined) return;
    try {
      await consumer.connect();
      await consumer.run(consume);
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'could not start the consumer again yet');
      void restartConsumer();
    }
  }

  /**
   * One chunk: records below the watermark are in the state already (skipped), records below the
   * committed offset only rebuild the state, the rest are decided and committed. Returns false when the
   * partition moved to another process meanwhile.
   */
  async function handleChunk(
    chunk: KafkaMessage[],
    nextOffset: bigint,
    part: OwnedPartition,
    batch: Batch,
    partitionLog: Logger,
    heartbeat: () => Promise<void>,
    running: () => boolean,
  ): Promise<boolean> {
    const startedAt = process.hrtime.bigint();
    const retry = (what: string, stage: string) => ({
      log: partitionLog,
      what,
      isRunning: running,
      heartbeat,
      onRetry: () => metrics.retries.inc({ stage }),
    });
    const state = part.state;
    // Below the watermark a record is in the state already; a stateless service's watermark is the
    // committed offset read once the partition was fenced. kafkajs fetches from the offset it read
    // itself when it joined, without KIP-447's require_stable: right after a commit that can still
    // be the offset before it, and deciding from there would write the last chunk again.
    const watermark = state?.watermark ?? part.catchUpEnd;
    const catchUpEnd = state ? part.catchUpEnd : 0n;
    const offsetOf = (m: KafkaMessage) => BigInt(m.offset);
    const replay = chunk.filter((m) => offsetOf(m) >= watermark && offsetOf(m) < catchUpEnd);
    const fresh = chunk.filter((m) => offsetOf(m) >= watermark && offsetOf(m) >= catchUpEnd);

    if (state && replay.length > 0) {
      const end = fresh.length > 0 ? offsetOf(fresh[0] as KafkaMessage) : minBig(nextOffset, catchUpEnd);
      const prepared = await retryTransient(
        () => processor.prepare(batch.topic, batch.partition, replay, state, 'replay'),
        retry('replay committed records into the state', 'state'),
      );
      const written = await retryTransient(
        () => state.write(redis as RedisClient, prepared.stateWrite, end),
        retry('write state', 'state'),
      );
      if (!written) return lostPartition(batch.partition, partitionLog, 'its state moved on in Redis');
      metrics.replayed.inc(replay.length);
    }
    if (fresh.length === 0) {
      // Nothing new to decide: move the group past what the state already holds.
      if (state && state.watermark >= nextOffset && nextOffset > catchUpEnd) {
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: String(nextOffset) },
        ]);
      }
      return true;
    }

    const faults = options.testFaults;
    const offsetsOutside = faults?.offsetsBeforeTransaction === true;
    if (offsetsOutside) {
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(nextOffset) },
      ]);
    }
    const prepared = await retryTransient(
      () => processor.prepare(batch.topic, batch.partition, fresh, state, 'decide'),
      retry('decide', 'state'),
    );
    if (faults?.stallOnceBeforeCommitMs !== undefined && !stalled) {
      stalled = true;
      partitionLog.warn(
        { ms: faults.stallOnceBeforeCommitMs },
        'test fault: stalling before the commit, without heartbeats',
      );
      await sleep(faults.stallOnceBeforeCommitMs);
    }
    const outcome = await commitInDoubt(
      part,
      batch,
      nextOffset,
      prepared,
      !offsetsOutside,
      partitionLog,
      retry,
    );
    if (outcome === 'fenced')
      return lostPartition(batch.partition, partitionLog, 'a newer owner fenced its producer');
    commits += 1;
    if (faults?.crashAfterCommits !== undefined && commits >= faults.crashAfterCommits)
      throw new TestCrash(commits);
    if (state && !faults?.skipStateWrites) {
      const written = await retryTransient(
        () => state.write(redis as RedisClient, prepared.stateWrite, nextOffset),
        retry('write state', 'state'),
      );
      if (!written) return lostPartition(batch.partition, partitionLog, 'its state moved on in Redis');
    }
    processor.count(metrics, batch.topic, fresh.length, prepared);
    metrics.batchSeconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
    return true;
  }

  /**
   * Commits a chunk's transaction, retrying while the brokers are away, and never sends a chunk twice:
   * after a failed attempt (an answer lost on the way back may hide a commit that went through), a new
   * producer of the partition's transactional id settles that attempt for good, and the group's
   * committed offset says whether it committed. Returns 'fenced' when another process owns the
   * partition now.
   */
  async function commitInDoubt(
    part: OwnedPartition,
    batch: Batch,
    nextOffset: bigint,
    prepared: PreparedChunk,
    withOffsets: boolean,
    partitionLog: Logger,
    retry: (what: string, stage: string) => RetryOptions,
  ): Promise<'committed' | 'fenced'> {
    let inDoubt = false;
    return retryTransient(
      async () => {
        if (inDoubt) {
          part.producer = await fencingProducer(batch.partition);
          if (withOffsets && ((await committedOffset(batch.partition)) ?? -1n) >= nextOffset) {
            partitionLog.warn(
              { nextOffset: String(nextOffset) },
              'the commit whose answer was lost went through: its chunk is not sent again',
            );
            return 'committed';
          }
        }
        try {
          await commitTransaction(
            part.producer,
            groupId,
            batch.topic,
            batch.partition,
            nextOffset,
            prepared,
            { withOffsets, partitionsOf },
          );
          return 'committed';
        } catch (error) {
          if (isProducerFenced(error)) return 'fenced';
          inDoubt = true;
          await part.producer.disconnect().catch(() => {});
          throw error;
        }
      },
      retry('commit transaction', 'transaction'),
    );
  }

  function lostPartition(partition: number, partitionLog: Logger, why: string): false {
    const part = owned.get(partition);
    owned.delete(partition);
    void part?.producer.disconnect().catch(() => {});
    partitionLog.warn({ why }, 'another process owns this partition now: leaving it');
    return false;
  }

  const isReady = () =>
    joined && !stopping && fatal === undefined && (redis === undefined || redis.status === 'ready');
  metrics.reportReadiness(isReady);
  const server: Server = await serveHealth(options.healthPort, metrics, isReady);
  const healthPort = (server.address() as AddressInfo).port;
  log.info(
    {
      healthPort,
      input: service.input.name,
      transactionalIds: transactionalIdOf(0).replace(/0$/, '<partition>'),
    },
    'service started',
  );
  // A stateless service has no Redis client of its own: one just for the announcement.
  const announceRedis = redis ?? createRedis(options.endpoints);
  if (!redis) announceRedis.on('error', () => {});
  const announcer = announceHealth(announceRedis, {
    namespace,
    service: service.name,
    instance: options.instanceId,
    address: `${options.healthHost ?? advertisedHost()}:${healthPort}`,
    log,
  });

  return {
    healthPort,
    metrics,
    isReady,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      await announcer.stop();
      if (!redis) announceRedis.disconnect();
      await consumer.disconnect().catch(() => {});
      await releaseOwned();
      await admin.disconnect().catch(() => {});
      if (redis) await redis.quit().catch(() => redis.disconnect());
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.info('service stopped');
    },
  };
}

const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/**
 * The consumer's fetch settings. Deciding at once: the broker answers as soon as one record is there,
 * or after 1 s with nothing (stopping waits for the fetch in flight, so no longer). Gathering: it
 * answers when a MiB is there or `gatherMs` has passed, so each partition's records of that while go
 * into one transaction.
 */
export function fetchWait(gatherMs: number): { minBytes: number; maxWaitTimeInMs: number } {
  return gatherMs > 0
    ? { minBytes: 1_048_576, maxWaitTimeInMs: gatherMs }
    : { minBytes: 1, maxWaitTimeInMs: 1_000 };
}

/** The wait before starting a service or its consumer again: 0.5 s, doubling, at most 15 s. */
const restartDelayMs = (attempt: number): number => Math.min(15_000, 500 * 2 ** Math.min(attempt - 1, 5));

/** Seeks back to a partition's watermark before concluding that Kafka no longer has the records. */
const MAX_GAP_SEEKS = 5;

/** Where the fetch of a batch began (kafkajs keeps it, its types do not say so): every record from there on is in the batch. */
function fetchedOffsetOf(batch: Batch): bigint {
  const fetched = (batch as Batch & { fetchedOffset?: string }).fetchedOffset;
  return BigInt(fetched ?? batch.firstOffset() ?? '0');
}

async function commitTransaction(
  producer: Producer,
  groupId: string,
  topic: string,
  partition: number,
  nextOffset: bigint,
  prepared: PreparedChunk,
  options: { withOffsets: boolean; partitionsOf: (topic: string) => number },
): Promise<void> {
  const byTopic = new Map<string, Message[]>();
  for (const record of prepared.records) {
    const list = byTopic.get(record.topic) ?? [];
    list.push({
      key: record.key,
      value: record.value,
      ...(record.partition === undefined ? {} : { partition: record.partition }),
      ...(record.headers === undefined ? {} : { headers: { ...record.headers } }),
    });
    byTopic.set(record.topic, list);
  }
  const transaction = await producer.transaction();
  try {
    if (byTopic.size > 0) {
      const topicMessages = [...byTopic].map(([name, messages]) => ({ topic: name, messages }));
      await sendEachPartitionApart(transaction, topicMessages, options.partitionsOf);
    }
    if (options.withOffsets) {
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: [{ partition, offset: String(nextOffset) }] }],
      });
    }
    await transaction.commit();
  } catch (error) {
    await transaction.abort().catch(() => {});
    throw error;
  }
}

/** Topics are created by `hub topics create`, never by a service: say so at start, in one line. */
async function requireTopics(admin: Admin, topics: readonly TopicSpec[]): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name)).map((t) => t.name);
  if (missing.length > 0) {
    throw new ConfigError(`topics missing: ${missing.join(', ')}; run \`npx hub topics create\` first`);
  }
  const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
  return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
}

export type { Kafka };
