import type { Cluster, Redis } from 'ioredis';
import type { Batch, KafkaMessage } from 'kafkajs';
import type { Endpoints } from '../config.js';
import { HubError } from '../errors.js';
import type { PseudonymKey } from '../identity.js';
import { createKafka } from '../kafka.js';
import type { Logger } from '../logger.js';
import { NAMESPACE } from '../namespace.js';
import { createRedis } from '../redis.js';
import { createRegistry, TopicCodec } from '../registry.js';
import { ChunkProcessor } from './chunk.js';
import { PartitionState, serviceKeyPrefix } from './partition-state.js';
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
  readonly endpoints: Endpoints;
  readonly pseudonymKey: PseudonymKey;
  readonly logger: Logger;
  /** Entities kept in memory per partition while replaying; flushed to Redis chunk by chunk. */
  readonly stateCacheEntries?: number;
  /** Called with the total once it is known, then with the running count. */
  readonly onStart?: (total: number) => void;
  readonly onProgress?: (done: number) => void;
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
  const groupId = `${NAMESPACE}.${service.name}`;
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
    const keysDeleted = await deleteKeys(redis, `${serviceKeyPrefix(NAMESPACE, service.name)}*`);
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
export async function deleteKeys(redis: Redis | Cluster, pattern: string): Promise<number> {
  const nodes =
    'nodes' in redis && typeof redis.nodes === 'function'
      ? (redis as Cluster).nodes('master')
      : [redis as Redis];
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
  redis: Redis,
  targets: ReadonlyMap<number, bigint>,
): Promise<number> {
  if (targets.size === 0) return 0;
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
        namespace: NAMESPACE,
        service: service.name,
        partition,
        watermark: 0n,
        maxEntries: options.stateCacheEntries ?? 200_000,
      }),
    );
  }
  const remaining = new Map(targets);
  let records = 0;
  const groupId = `${NAMESPACE}.${service.name}.rebuild-${Date.now().toString(36)}`;
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
    let lastActivity = Date.now();
    let replaying = 0;
    const finish = async (partition: number) => {
      const state = states.get(partition) as PartitionState;
      const end = remaining.get(partition) as bigint;
      // Transaction markers may follow the last record: the watermark is the committed offset itself.
      if (state.watermark < end) await state.write(redis, undefined, end);
      remaining.delete(partition);
    };
    /** Replays one fetched batch of a partition into its state, chunk by chunk; true once every partition is done. */
    const replayBatch = async (
      batch: Batch,
      end: bigint,
      state: PartitionState,
      heartbeat: () => Promise<void>,
    ): Promise<boolean> => {
      const messages = batch.messages.filter((m: KafkaMessage) => BigInt(m.offset) < end);
      for (let start = 0; start < messages.length; start += 2000) {
        const chunk = messages.slice(start, start + 2000);
        const last = BigInt((chunk[chunk.length - 1] as KafkaMessage).offset);
        const prepared = await processor.prepare(batch.topic, batch.partition, chunk, state, 'replay');
        await state.write(redis, prepared.work, last + 1n);
        records += chunk.length;
        options.onProgress?.(records);
        await heartbeat();
      }
      lastActivity = Date.now();
      const reached = BigInt(batch.lastOffset()) + 1n >= end || messages.length < batch.messages.length;
      if (reached) await finish(batch.partition);
      return remaining.size === 0;
    };
    await new Promise<void>((resolve, reject) => {
      // Only transaction markers can lie between a partition's last record and its committed offset,
      // and they are never delivered: a partition with nothing more to give is done.
      const idle = setInterval(() => {
        if (replaying > 0 || Date.now() - lastActivity < 3_000) return;
        clearInterval(idle);
        Promise.all([...remaining.keys()].map(finish)).then(() => resolve(), reject);
      }, 250);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            lastActivity = Date.now();
            const end = remaining.get(batch.partition);
            const state = states.get(batch.partition);
            if (end === undefined || state === undefined) return;
            replaying += 1;
            try {
              if (await replayBatch(batch, end, state, heartbeat)) {
                clearInterval(idle);
                resolve();
              }
            } finally {
              replaying -= 1;
              lastActivity = Date.now();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
    const admin = kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([groupId]))
      .catch(() => {})
      .finally(() => admin.disconnect().catch(() => {}));
  }
  return records;
}
