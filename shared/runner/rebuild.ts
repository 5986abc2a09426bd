import type { Cluster, Redis } from 'ioredis';
import type { Admin, KafkaMessage } from 'kafkajs';
import type { Endpoints, HubConfig } from '../config.js';
import { CorruptStateError, HubError } from '../errors.js';
import type { PseudonymKey } from '../identity.js';
import { COMMAND_RETRY, closeOneTimeReader, createKafka } from '../kafka.js';
import type { Logger } from '../logger.js';
import { createRedis, type RedisClient } from '../redis.js';
import { createRegistry, TopicCodec } from '../registry.js';
import type { TopicSpec } from '../topics.js';
import { ChangelogFold, isOrigin, parseChangelogKey } from './changelog.js';
import { ChunkProcessor } from './chunk.js';
import { NO_STATE_WRITE, PartitionState, partitionKeyPrefix, serviceKeyPrefix } from './partition-state.js';
import { ReplayProgress } from './replay-progress.js';
import type { Service } from './service.js';

/**
 * Rebuilds a stateful service's Redis state from Kafka, which is the system of record: deletes every key
 * of the service, then, by default, restores each partition's entities from the service's changelog
 * (changelog.ts: the changed fields of every committed chunk, written in the chunk's transaction), so
 * the state is the one at the offsets its group has committed, and nothing is decided again. With
 * `from: 'input'` it replays the input topic instead, partition by partition, from the beginning up to
 * the committed offset, applying each decision to the state and publishing nothing (what those
 * decisions published is on Kafka already): much slower, and the way to rebuild a namespace whose
 * changelog is incomplete (one written before the changelog existed). Either way each partition gets
 * a new epoch, so a process that still held the old state cannot write into the new one, and when the
 * service starts again its state and its committed offsets agree: it carries on with exactly the
 * outputs an uninterrupted run would give.
 */

/** Where a rebuild reads the state from: the service's changelog (default), or its input, decided again. */
export type RebuildSource = 'changelog' | 'input';
export const REBUILD_SOURCES: readonly RebuildSource[] = ['changelog', 'input'];

export interface RebuildOptions {
  /** The namespace whose group, state and keys are rebuilt. */
  readonly config: HubConfig;
  readonly endpoints: Endpoints;
  readonly pseudonymKey: PseudonymKey;
  readonly logger: Logger;
  /** Default 'changelog'. */
  readonly from?: RebuildSource;
  /** Entities kept in memory per partition while replaying the input; flushed to Redis chunk by chunk. */
  readonly stateCacheEntries?: number;
  /** Called with the total once it is known, then with the running count (records read). */
  readonly onStart?: (total: number) => void;
  readonly onProgress?: (done: number) => void;
  /** How long the rebuild waits without reading anything before it gives up (default 5 minutes). */
  readonly stallLimitMs?: number;
}

export interface RebuildReport {
  readonly service: string;
  readonly from: RebuildSource;
  readonly partitions: number;
  /** Records read: changelog records, or input records replayed. */
  readonly records: number;
  /** Where the rebuilt state stands on the input: the group's committed offsets, summed (transaction markers take offsets too). */
  readonly inputOffsets: number;
  readonly keysDeleted: number;
  /** The whole rebuild, connecting and deleting the old keys included. */
  readonly seconds: number;
  /** From the first record read to the state finished: the part that grows with the records. */
  readonly readSeconds: number;
}

export async function rebuildState<Input>(
  service: Service<Input>,
  options: RebuildOptions,
): Promise<RebuildReport> {
  const model = service.state;
  if (!model) throw new HubError(`${service.name} keeps no state: there is nothing to rebuild`);
  const started = performance.now();
  const from = options.from ?? 'changelog';
  const { namespace } = options.config;
  const groupId = `${namespace}.${service.name}`;
  const kafka = createKafka(
    options.endpoints,
    `hub-rebuild-${service.name}`,
    options.logger,
    undefined,
    COMMAND_RETRY,
  );
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis(options.endpoints);
  let deletion: Promise<number> | undefined;
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
    const inputOffsets = [...targets.values()].reduce((sum, end) => sum + Number(end), 0);
    const ends =
      from === 'input'
        ? targets
        : await changelogEnds(admin, service.name, model.changelog.name, targets, options.logger);
    // The metas go first: from here until the rebuild ends, a service finds no state and refuses.
    const prefix = serviceKeyPrefix(namespace, service.name);
    const metasDeleted = await deleteKeys(redis, `${prefix}*:meta`);
    // The other keys go while the reader joins its group: the first write waits for them to be gone.
    deletion = deleteKeys(redis, `${prefix}*`).then((n) => n + metasDeleted);
    deletion.catch(() => {}); // awaited below; a failure is raised there
    options.onStart?.([...ends.values()].reduce((sum, end) => sum + Number(end), 0));
    const reader: Reader = { kafka, groupId, options, firstRecordAt: undefined };
    const records =
      from === 'input'
        ? await deletion.then(() => replayInput(service, reader, redis, targets))
        : await restoreChangelog(service, model.changelog, reader, redis, {
            committed: targets,
            ends,
            deletion,
          });
    const keysDeleted = await deletion;
    const ended = performance.now();
    return {
      service: service.name,
      from,
      partitions: targets.size,
      records,
      inputOffsets,
      keysDeleted,
      seconds: (ended - started) / 1000,
      readSeconds: (ended - (reader.firstRecordAt ?? ended)) / 1000,
    };
  } finally {
    // A rebuild that failed while the deletion ran lets it finish: no half-deleted state is left behind a meta.
    await deletion?.catch(() => {});
    await admin.disconnect().catch(() => {});
    await redis.quit().catch(() => redis.disconnect());
  }
}

/**
 * How far to read each changelog partition: to its end, for the input partitions the group has
 * committed in (a changelog partition whose input has no committed offset holds no state to keep).
 */
async function changelogEnds(
  admin: Admin,
  service: string,
  topic: string,
  committed: ReadonlyMap<number, bigint>,
  logger: Logger,
): Promise<Map<number, bigint>> {
  const ends = new Map<number, bigint>();
  if (!(await admin.listTopics()).includes(topic)) {
    throw new HubError(
      `${service}: there is no changelog topic ${topic} (a namespace created by a hub without changelogs): ` +
        `run \`npx hub topics create\`, then \`npx hub rebuild --service ${service} --from input\``,
    );
  }
  for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
    const end = BigInt(high);
    if (end === 0n) continue;
    if (committed.has(partition)) ends.set(partition, end);
    else
      logger.warn(
        { topic, partition },
        'rebuild: changelog records of an input partition never committed: left out',
      );
  }
  for (const partition of committed.keys()) {
    if (!ends.has(partition)) throw incompleteChangelog(service, topic, partition);
  }
  return ends;
}

/** A changelog partition without its origin record: it does not hold the state from its start. */
const incompleteChangelog = (service: string, topic: string, partition: number) =>
  new HubError(
    `${service}: ${topic} partition ${partition} does not begin with the origin record of the partition's state, ` +
      'so it does not hold the state from its start (the state is older than the changelog: the namespace ran a hub ' +
      `without changelogs); nothing of it is restored: run \`npx hub rebuild --service ${service} --from input\``,
  );

/** Deletes the keys matching `pattern` on every primary (a Redis Cluster's keys spread over its primaries). */
export async function deleteKeys(redis: RedisClient, pattern: string): Promise<number> {
  const nodes: Redis[] = redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      cursor = next;
      // One key per UNLINK call keeps a Cluster from refusing keys of different slots.
      if (keys.length > 0) {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        for (const [error] of (await pipeline.exec()) ?? []) {
          if (error) throw new HubError(`redis: ${error.message}`, { retriable: true, cause: error });
        }
        deleted += keys.length;
      }
    } while (cursor !== '0');
  }
  return deleted;
}

interface Reader {
  readonly kafka: ReturnType<typeof createKafka>;
  /** The service's group: the reader's own group is named after it. */
  readonly groupId: string;
  readonly options: RebuildOptions;
  /** performance.now() when the first records arrived. */
  firstRecordAt: number | undefined;
}

/** Restores the entities from the changelog, partition by partition, then opens each partition's state at its committed offset. */
async function restoreChangelog<Input>(
  service: Service<Input>,
  changelog: TopicSpec,
  reader: Reader,
  redis: RedisClient,
  partitions: {
    readonly committed: ReadonlyMap<number, bigint>;
    readonly ends: ReadonlyMap<number, bigint>;
    /** The old keys' deletion: nothing is written before it is done. */
    readonly deletion: Promise<unknown>;
  },
): Promise<number> {
  const { committed, ends, deletion } = partitions;
  const { namespace } = reader.options.config;
  const codec = new TopicCodec(
    createRegistry(reader.options.endpoints),
    reader.options.endpoints.schemaRegistryUrl,
  );
  // The schema is looked up while the reader joins its group.
  const prepared = codec.prepare([changelog]);
  prepared.catch(() => {}); // awaited before the first record is read
  const folds = new Map<number, ChangelogFold>();
  const originSeen = new Set<number>();
  const fieldsSeen = new Set<number>();
  const flush = async (partition: number) => {
    const fold = folds.get(partition);
    if (fold === undefined || fold.size === 0) return;
    await deletion;
    await writeFields(redis, partitionKeyPrefix(namespace, service.name, partition), fold.drain());
  };
  let records = 0;
  await readPartitionsTo(
    reader,
    changelog.name,
    ends,
    async (partition, messages) => {
      await prepared;
      let fold = folds.get(partition);
      if (fold === undefined) {
        fold = new ChangelogFold();
        folds.set(partition, fold);
      }
      for (const message of messages) {
        const key = message.key?.toString() ?? '';
        const named = parseChangelogKey(key);
        if (named === undefined) {
          throw new CorruptStateError(
            `${changelog.name} partition ${partition} offset ${message.offset}: key '${key.slice(0, 80)}' is not [entity, field]`,
          );
        }
        // The origin comes first, before any field: it is checked, never written to Redis.
        if (isOrigin(named)) {
          if (fieldsSeen.has(partition)) {
            throw new HubError(
              `${service.name}: ${changelog.name} partition ${partition} offset ${message.offset}: the state started again ` +
                "from nothing after its changelog held fields of an earlier state (its group's offsets were lost?); " +
                `the changelog cannot say which fields still hold: run \`npx hub rebuild --service ${service.name} --from input\``,
            );
          }
          originSeen.add(partition);
          continue;
        }
        if (!originSeen.has(partition)) throw incompleteChangelog(service.name, changelog.name, partition);
        fieldsSeen.add(partition);
        if (message.value === null) {
          fold.set(named.entity, named.field, null);
          continue;
        }
        const decoded =
          codec.decodeKnown(changelog, message.value) ?? (await codec.decode(changelog, message.value));
        if (!decoded.ok || decoded.value.record !== 'state-change') {
          throw new CorruptStateError(
            `${changelog.name} partition ${partition} offset ${message.offset}: not a state-change record` +
              (decoded.ok ? '' : ` (${decoded.error.code}: ${decoded.error.rule})`),
          );
        }
        fold.set(named.entity, named.field, decoded.value.value.text);
      }
      records += messages.length;
      if (fold.size >= FIELDS_PER_WRITE) await flush(partition);
      reader.options.onProgress?.(records);
    },
    async (partition) => {
      // A partition read to its end without an origin (only aborted records, say) holds no state from its start.
      if (!originSeen.has(partition)) throw incompleteChangelog(service.name, changelog.name, partition);
      await flush(partition);
    },
  );
  // The meta last: a rebuild stopped half-way leaves a partition without one, which a service refuses.
  await deletion;
  for (const [partition, watermark] of committed) {
    await PartitionState.restart(redis, {
      namespace,
      service: service.name,
      partition,
      watermark,
      maxEntries: 0,
    });
  }
  return records;
}

/** Changelog fields folded in memory before they are written (one pipeline per partition). */
const FIELDS_PER_WRITE = 20_000;

/** Writes folded fields to their entities' hashes: sets with one HSET per entity, tombstones as HDEL. */
async function writeFields(
  redis: RedisClient,
  prefix: string,
  entities: ReadonlyMap<string, ReadonlyMap<string, string | null>>,
): Promise<void> {
  // Every key of a partition shares its hash tag: one pipeline is one slot, on a cluster too.
  const pipeline = redis.pipeline();
  for (const [entity, fields] of entities) {
    const key = `${prefix}${entity}`;
    const set: string[] = [];
    const del: string[] = [];
    for (const [field, text] of fields) {
      if (text === null) del.push(field);
      else set.push(field, text);
    }
    if (set.length > 0) pipeline.hset(key, ...set);
    if (del.length > 0) pipeline.hdel(key, ...del);
  }
  for (const [error] of (await pipeline.exec()) ?? []) {
    if (error) throw new HubError(`redis: ${error.message}`, { retriable: true, cause: error });
  }
}

/** Replays the input up to the committed offsets, deciding each record again into the state. */
async function replayInput<Input>(
  service: Service<Input>,
  reader: Reader,
  redis: RedisClient,
  targets: ReadonlyMap<number, bigint>,
): Promise<number> {
  if (targets.size === 0) return 0;
  const { options } = reader;
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
  let records = 0;
  await readPartitionsTo(
    reader,
    service.input.name,
    targets,
    async (partition, messages, heartbeat) => {
      const state = states.get(partition) as PartitionState;
      for (let start = 0; start < messages.length; start += 2000) {
        const chunk = messages.slice(start, start + 2000);
        const last = BigInt((chunk[chunk.length - 1] as KafkaMessage).offset);
        const prepared = await processor.prepare(service.input.name, partition, chunk, state, 'replay');
        await state.write(redis, prepared.stateWrite, last + 1n);
        records += chunk.length;
        options.onProgress?.(records);
        await heartbeat();
      }
    },
    async (partition, end) => {
      const state = states.get(partition) as PartitionState;
      // Transaction markers may follow the last record: the watermark is the committed offset itself.
      if (state.watermark < end) await state.write(redis, NO_STATE_WRITE, end);
    },
  );
  return records;
}

/**
 * Reads each partition of `topic` in `ends` from the beginning up to its end offset (read committed),
 * handing over its records below the end in order, and calls `finish` once a partition is read to its end.
 */
async function readPartitionsTo(
  reader: Reader,
  topic: string,
  ends: ReadonlyMap<number, bigint>,
  handle: (partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void>) => Promise<void>,
  finish: (partition: number, end: bigint) => Promise<void>,
): Promise<void> {
  if (ends.size === 0) return;
  const { kafka, options } = reader;
  const stallLimitMs = options.stallLimitMs ?? 300_000;
  const progress = new ReplayProgress(ends);
  const groupId = `${reader.groupId}.rebuild-${Date.now().toString(36)}`;
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
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      let watch: ReturnType<typeof setInterval> | undefined;
      const fail = (error: unknown) => {
        failed = true;
        clearInterval(watch);
        reject(error);
      };
      /** The partition was read up to `next`: once that reaches its end, it is finished. */
      const reached = async (partition: number, next: bigint) => {
        const end = progress.reached(partition, next);
        if (end === undefined) return;
        await finish(partition, end);
        progress.finished(partition);
        if (progress.done) {
          clearInterval(watch);
          resolve();
        }
      };
      // A fetch that held only transaction markers (or aborted records) never reaches eachBatch; kafkajs
      // reports it here, with the offset it moved past. A partition that ends in markers ends here.
      // Restarted, kafkajs would read every partition again from its start into the folds: the rebuild fails instead.
      consumer.on(consumer.events.CRASH, ({ payload }) =>
        fail(
          payload.error instanceof HubError
            ? payload.error
            : new HubError(
                `rebuild: reading ${topic} failed (${payload.error.message}): run the rebuild again`,
                {
                  cause: payload.error,
                },
              ),
        ),
      );
      consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0 || payload.lastOffset === null || payload.lastOffset === undefined)
          return;
        reached(payload.partition, BigInt(payload.lastOffset) + 1n).catch(fail);
      });
      // A partition is done only once read up to its end, never because it was quiet for a while: a
      // broker away (a leader moving) can hold one partition's fetches back for many seconds, and a
      // state finished early would miss the rest of its records.
      watch = setInterval(() => {
        const stalled = progress.stalledFor(Date.now());
        if (stalled >= stallLimitMs) {
          fail(
            new HubError(
              `rebuild: read nothing of ${topic} for ${Math.round(stalled / 1000)} s; still to read: ${progress.describe()} ` +
                '(a broker away, an open transaction, or records deleted by retention?): the state is not complete; run the rebuild again',
            ),
          );
        } else if (stalled >= 10_000) {
          options.logger.warn(
            { topic, waiting: progress.describe() },
            'rebuild: waiting for partitions to be read',
          );
        }
      }, 5_000);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            if (failed) return;
            const end = progress.endOf(batch.partition);
            if (end === undefined) return;
            // kafkajs would retry (or silently stop on) an error thrown here: the rebuild fails with it instead.
            try {
              progress.touch(Date.now());
              const messages = batch.messages.filter((m: KafkaMessage) => BigInt(m.offset) < end);
              reader.firstRecordAt ??= performance.now();
              if (messages.length > 0) await handle(batch.partition, messages, heartbeat);
              progress.touch(Date.now());
              await reached(batch.partition, BigInt(batch.lastOffset()) + 1n);
            } catch (error) {
              fail(error);
            }
          },
        })
        .catch(fail);
    });
  } finally {
    await closeOneTimeReader(kafka, consumer, groupId);
  }
}
