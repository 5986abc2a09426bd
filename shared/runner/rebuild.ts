import type { Cluster, Redis } from 'ioredis';
import type { KafkaMessage } from 'kafkajs';
import type { Endpoints, HubConfig } from '../config.js';
import { HubError } from '../errors.js';
import type { PseudonymKey } from '../identity.js';
import { closeOneTimeReader, createKafka } from '../kafka.js';
import type { Logger } from '../logger.js';
import { createRedis, type RedisClient } from '../redis.js';
import { createRegistry, TopicCodec } from '../registry.js';
import { ChunkProcessor } from './chunk.js';
import { PartitionState, serviceKeyPrefix } from './partition-state.js';
import { ReplayProgress } from './replay-progress.js';
import type { Service } from './service.js';

/**
 * Rebuilds a stateful service's Redis state from Kafka, which is the system of record: deletes every key
 * of the service, then replays its input topic, partition by partition, from the beginning up to the
 * offset its consumer group has committed, applying each decision to the state and publishing nothing
 * (what those decisions published is on Kafka already). Each partition gets a new epoch, so a process
 * that still held the old state cannot write into the new one. When the service starts again its
 * state and its committed offsets agree, and it carries on with exactly the outputs an uninterrupted
 * run would give.
 */

export interface RebuildOptions {
  /** The namespace whose group, state and keys are rebuilt. */
  readonly config: HubConfig;
  readonly endpoints: Endpoints;
  readonly pseudonymKey: PseudonymKey;
  readonly logger: Logger;
  /** Entities kept in memory per partition while replaying; flushed to Redis chunk by chunk. */
  readonly stateCacheEntries?: number;
  /** Called with the total once it is known, then with the running count. */
  readonly onStart?: (total: number) => void;
  readonly onProgress?: (done: number) => void;
  /** How long the rebuild waits without reading anything before it gives up (default 5 minutes). */
  readonly stallLimitMs?: number;
}

export interface RebuildReport {
  readonly service: string;
  readonly partitions: number;
  readonly records: number;
  readonly keysDeleted: number;
  readonly seconds: number;
}

export async function rebuildState<Input>(
  service: Service<Input>,
  options: RebuildOptions,
): Promise<RebuildReport> {
  if (!service.state) throw new HubError(`${service.name} keeps no state: there is nothing to rebuild`);
  const started = performance.now();
  const { namespace } = options.config;
  const groupId = `${namespace}.${service.name}`;
  const kafka = createKafka(options.endpoints, `hub-rebuild-${service.name}`, options.logger);
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis(options.endpoints);
  try {
    const described = await admin.describeGroups([groupId]);
    const members = described.groups[0]?.members.length ?? 0;
    if (members > 0) {
      throw new HubError(
        `${service.name} is running (${members} instance(s) in group ${groupId}): stop it first, then rebuild`,
      );
    }
    const [committed] = await admin.fetchOffsets({ groupId, topics: [service.input.name] });
    const targets = new Map<number, bigint>();
    for (const p of committed?.partitions ?? []) {
      const offset = BigInt(p.offset);
      if (offset > 0n) targets.set(p.partition, offset);
    }
    const keysDeleted = await deleteKeys(redis, `${serviceKeyPrefix(namespace, service.name)}*`);
    const total = [...targets.values()].reduce((sum, end) => sum + Number(end), 0);
    options.onStart?.(total);
    const records = await replay(service, options, kafka, redis, targets);
    return {
      service: service.name,
      partitions: targets.size,
      records,
      keysDeleted,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await admin.disconnect().catch(() => {});
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Deletes the keys matching `pattern` on every primary (a Redis Cluster's keys spread over its primaries). */
export async function deleteKeys(redis: RedisClient, pattern: string): Promise<number> {
  const nodes: Redis[] = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      // One key per UNLINK call keeps a Cluster from refusing keys of different slots.
      if (keys.length > 0) {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        await pipeline.exec();
        deleted += keys.length;
      }
    } while (cursor !== '0');
  }
  return deleted;
}

async function replay<Input>(
  service: Service<Input>,
  options: RebuildOptions,
  kafka: ReturnType<typeof createKafka>,
  redis: RedisClient,
  targets: ReadonlyMap<number, bigint>,
): Promise<number> {
  if (targets.size === 0) return 0;
  const stallLimitMs = options.stallLimitMs ?? 300_000;
  const codec = new TopicCodec(createRegistry(options.endpoints), options.endpoints.schemaRegistryUrl);
  await codec.prepare([service.input]);
  const processor = new ChunkProcessor(service, codec, redis, options, () => {
    throw new HubError('a rebuild publishes nothing');
  });
  const states = new Map<number, PartitionState>();
  for (const partition of targets.keys()) {
    states.set(
      partition,
      await PartitionState.restart(redis, {
        namespace: options.config.namespace,
        service: service.name,
        partition,
        watermark: 0n,
        maxEntries: options.stateCacheEntries ?? 200_000,
      }),
    );
  }
  const progress = new ReplayProgress(targets);
  let records = 0;
  const groupId = `${options.config.namespace}.${service.name}.rebuild-${Date.now().toString(36)}`;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    maxBytes: 50 * 1024 * 1024,
    maxBytesPerPartition: 10 * 1024 * 1024,
    // An answer within half a second even when nothing is left: the end is seen sooner.
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: service.input.name, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      let watch: ReturnType<typeof setInterval> | undefined;
      const fail = (error: unknown) => {
        failed = true;
        clearInterval(watch);
        reject(error);
      };
      /** The partition was read up to `next`: once that reaches its committed offset, its watermark is set there. */
      const reached = async (partition: number, next: bigint) => {
        const end = progress.reached(partition, next);
        if (end === undefined) return;
        const state = states.get(partition) as PartitionState;
        // Transaction markers may follow the last record: the watermark is the committed offset itself.
        if (state.watermark < end) await state.write(redis, undefined, end);
        progress.finished(partition);
        if (progress.done) {
          clearInterval(watch);
          resolve();
        }
      };
      // A fetch that held only transaction markers (or aborted records) never reaches eachBatch; kafkajs
      // reports it here, with the offset it moved past. A partition that ends in markers ends here.
      consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0 || payload.lastOffset === null || payload.lastOffset === undefined)
          return;
        reached(payload.partition, BigInt(payload.lastOffset) + 1n).catch(fail);
      });
      // A partition is done only once read up to its committed offset, never because it was quiet for a
      // while: a broker away (a leader moving) can hold one partition's fetches back for many seconds,
      // and a state finished early would miss the rest of its records.
      watch = setInterval(() => {
        const stalled = progress.stalledFor(Date.now());
        if (stalled >= stallLimitMs) {
          fail(
            new HubError(
              `${service.name}: the rebuild read nothing for ${Math.round(stalled / 1000)} s; still to read: ${progress.describe()} ` +
                '(a broker away, or records deleted by retention?): the state is not complete; run the rebuild again',
            ),
          );
        } else if (stalled >= 10_000) {
          options.logger.warn({ waiting: progress.describe() }, 'rebuild: waiting for partitions to be read');
        }
      }, 5_000);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            if (failed) return;
            const end = progress.endOf(batch.partition);
            const state = states.get(batch.partition);
            if (end === undefined || state === undefined) return;
            progress.touch(Date.now());
            const messages = batch.messages.filter((m: KafkaMessage) => BigInt(m.offset) < end);
            for (let start = 0; start < messages.length; start += 2000) {
              const chunk = messages.slice(start, start + 2000);
              const last = BigInt((chunk[chunk.length - 1] as KafkaMessage).offset);
              const prepared = await processor.prepare(batch.topic, batch.partition, chunk, state, 'replay');
              await state.write(redis, prepared.work, last + 1n);
              records += chunk.length;
              options.onProgress?.(records);
              progress.touch(Date.now());
              await heartbeat();
            }
            await reached(batch.partition, BigInt(batch.lastOffset()) + 1n);
          },
        })
        .catch(fail);
    });
  } finally {
    await closeOneTimeReader(kafka, consumer, groupId);
  }
  return records;
}
