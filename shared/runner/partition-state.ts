import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { CorruptStateError, HubError, StateLostError } from '../errors.js';
import type { RedisClient } from '../redis.js';
import {
  type EntityKind,
  type EntityPeek,
  type EntityRef,
  type EntityStore,
  type FieldChanges,
  fieldDifference,
} from './service.js';

/**
 * A stateful service's entities for one input partition, kept in memory while the process owns the
 * partition and in Redis between owners.
 *
 * Redis is a cache of Kafka: the fields `plan` finds for a chunk go onto the service's changelog in the
 * chunk's transaction (changelog.ts), then into Redis here. Every key of a partition carries the hash tag `{<service>.<partition>}`,
 * so one chunk's write is one atomic script on one Redis Cluster slot. The partition's `meta` hash holds
 * an epoch (a random id written when the state was started or rebuilt) and the watermark: the input
 * offset up to which the entities have been applied. The runner writes a chunk's entities only after
 * its Kafka transaction committed, and the script refuses the write unless the epoch and the previous
 * watermark are still what this process read, so
 * - a crash between the commit and the write leaves the watermark behind the committed offset, and the
 *   next owner replays the gap into the state without publishing anything again;
 * - a Redis that lost the keys (flushed, failed over to an empty replica) has no meta: the service stops
 *   and says to run `hub rebuild`, instead of deciding against empty state;
 * - a process that lost the partition in a rebalance cannot overwrite the new owner's state.
 */

export const metaKey = (namespace: string, service: string, partition: number): string =>
  `${namespace}:${service}:{${service}.${partition}}:meta`;

/** What every entity key of a partition starts with; the rest is the entity, `<kind>:<id>`. */
export const partitionKeyPrefix = (namespace: string, service: string, partition: number): string =>
  `${namespace}:${service}:{${service}.${partition}}:`;

export const entityKey = (
  namespace: string,
  service: string,
  partition: number,
  kind: EntityKind<unknown>,
  id: string,
): string => `${partitionKeyPrefix(namespace, service, partition)}${kind.name}:${id}`;

/** Every Redis key of a service starts with this: what it owns (and what `hub rebuild` deletes). */
export const serviceKeyPrefix = (namespace: string, service: string): string => `${namespace}:${service}:`;

// KEYS[1] = meta; ARGV = epoch, watermark. Creates the meta of a partition without state; 0 if one exists.
const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'offset', ARGV[2])
return 1
`;

// KEYS[1] = meta, KEYS[2..] = entities. ARGV = epoch, expected watermark, new watermark, then per entity:
// number of fields to set, number to delete, the field/value pairs, the fields to delete.
// Returns {0} when written, {1, epoch, offset} when the meta is not what the writer read.
const APPLY_SCRIPT = `
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'offset')
if meta[1] ~= ARGV[1] or meta[2] ~= ARGV[2] then
  return {1, meta[1] or '', meta[2] or ''}
end
local a = 4
for k = 2, #KEYS do
  local sets = tonumber(ARGV[a])
  local dels = tonumber(ARGV[a + 1])
  a = a + 2
  for i = 0, sets - 1 do
    redis.call('HSET', KEYS[k], ARGV[a + 2 * i], ARGV[a + 2 * i + 1])
  end
  a = a + 2 * sets
  for i = 0, dels - 1 do
    redis.call('HDEL', KEYS[k], ARGV[a + i])
  end
  a = a + dels
end
redis.call('HSET', KEYS[1], 'offset', ARGV[3])
return {0}
`;

interface StateCommands {
  hubStateInit(meta: string, epoch: string, watermark: string): Promise<number>;
  hubStateApply(numberOfKeys: number, ...keysAndArgs: string[]): Promise<[number, string?, string?]>;
}

/** ioredis sends EVALSHA and loads the script itself when the server answers NOSCRIPT. */
function commands(redis: RedisClient): StateCommands {
  const r = redis as RedisClient & Partial<StateCommands>;
  if (r.hubStateApply === undefined) {
    redis.defineCommand('hubStateInit', { numberOfKeys: 1, lua: INIT_SCRIPT });
    redis.defineCommand('hubStateApply', { lua: APPLY_SCRIPT });
  }
  return r as RedisClient & StateCommands;
}

/** An entity as this process last read or wrote it. */
export interface PersistedEntity {
  readonly value: unknown;
  /**
   * The fields as Redis holds them now; null once this process wrote the entity with a kind that says
   * its own `changes`: Redis then holds `encode(value)`, and the next write is found from the values.
   */
  readonly persisted: Readonly<Record<string, string>> | null;
}

/**
 * What writing `value` changes in Redis, and the fields to remember as persisted. A kind with `changes`
 * is compared value to value once this process wrote it; the first write after a load compares every
 * field, so a field Redis holds that the value does not (written by an older version) is still deleted.
 */
export function entityWrite(
  cached: PersistedEntity | undefined,
  kind: EntityKind<unknown>,
  value: unknown,
): { changes: FieldChanges; persisted: PersistedEntity['persisted'] } {
  if (kind.changes && cached !== undefined && cached.persisted === null) {
    return { changes: kind.changes(cached.value, value), persisted: null };
  }
  const fields = kind.encode(value);
  return {
    changes: fieldDifference(cached?.persisted ?? {}, fields),
    persisted: kind.changes ? null : fields,
  };
}

interface Cached extends PersistedEntity {
  readonly kind: EntityKind<unknown>;
}

/** One entity's part of a chunk's state write. */
export interface EntityWrite {
  /** Its Redis key. */
  readonly key: string;
  /** `<kind>:<id>`: the key without the partition's prefix, as the changelog names it. */
  readonly entity: string;
  readonly changes: FieldChanges;
  readonly cached: Cached;
}

/** What one chunk writes to the state (PartitionState.plan). */
export interface StateWrite {
  readonly entities: readonly EntityWrite[];
}

export const NO_STATE_WRITE: StateWrite = { entities: [] };

/** How the partition's state stands against its input, decided when a process takes the partition. */
export interface Opened {
  readonly state: PartitionState;
  /** True when this process started the partition's state (no meta and no committed offset). */
  readonly fresh: boolean;
}

export class PartitionState implements EntityPeek {
  private readonly cache = new Map<string, Cached>();

  private constructor(
    private readonly namespace: string,
    readonly service: string,
    readonly partition: number,
    readonly epoch: string,
    /** The next input offset to apply: every record below it is in the state. */
    private applied: bigint,
    private readonly maxEntries: number,
  ) {}

  get watermark(): bigint {
    return this.applied;
  }

  /**
   * Reads the partition's meta. Without one, the state may start empty only when the group has never
   * committed an offset for the partition; otherwise it was lost and must be rebuilt.
   */
  static async open(
    redis: RedisClient,
    options: {
      namespace: string;
      service: string;
      partition: number;
      committed: bigint | null;
      startOffset: bigint;
      maxEntries: number;
      /** Called before a state is started from nothing (the changelog's origin record is committed here). */
      beforeStart?: (startOffset: bigint) => Promise<void>;
    },
  ): Promise<Opened> {
    const { namespace, service, partition } = options;
    const key = metaKey(namespace, service, partition);
    for (let attempt = 0; attempt < 3; attempt++) {
      const meta = await redis.hgetall(key);
      if (meta.epoch !== undefined) {
        if (meta.offset === undefined || !/^\d+$/.test(meta.offset)) {
          throw new CorruptStateError(`state ${key}: offset '${meta.offset ?? ''}' is not an offset`);
        }
        const state = new PartitionState(
          namespace,
          service,
          partition,
          meta.epoch,
          BigInt(meta.offset),
          options.maxEntries,
        );
        return { state, fresh: false };
      }
      await PartitionState.verify(redis, options);
      await options.beforeStart?.(options.startOffset);
      const epoch = randomUUID();
      if ((await commands(redis).hubStateInit(key, epoch, String(options.startOffset))) === 1) {
        const state = new PartitionState(
          namespace,
          service,
          partition,
          epoch,
          options.startOffset,
          options.maxEntries,
        );
        return { state, fresh: true };
      }
      // Another instance created it between our read and our write: read it again.
    }
    throw new HubError(`state ${key}: could not be opened`, { retriable: true });
  }

  /**
   * Refuses at once, when a partition is assigned, if its state is gone while the group has consumed
   * from it: a service must say so before any batch arrives, not decide against empty state later.
   */
  static async verify(
    redis: RedisClient,
    options: { namespace: string; service: string; partition: number; committed: bigint | null },
  ): Promise<void> {
    if (options.committed === null || options.committed <= 0n) return;
    if ((await redis.exists(metaKey(options.namespace, options.service, options.partition))) === 1) return;
    throw new StateLostError(
      `${options.service}: the state of partition ${options.partition} is missing from Redis, but the group has consumed ` +
        `up to offset ${options.committed}: run \`npx hub rebuild --service ${options.service}\` (namespace ${options.namespace})`,
    );
  }

  /** Starts a partition's state over (`hub rebuild`): a new epoch at `watermark`, whatever was there. */
  static async restart(
    redis: RedisClient,
    options: { namespace: string; service: string; partition: number; watermark: bigint; maxEntries: number },
  ): Promise<PartitionState> {
    const epoch = randomUUID();
    await redis.hset(metaKey(options.namespace, options.service, options.partition), {
      epoch,
      offset: String(options.watermark),
    });
    return new PartitionState(
      options.namespace,
      options.service,
      options.partition,
      epoch,
      options.watermark,
      options.maxEntries,
    );
  }

  private key(kind: EntityKind<unknown>, id: string): string {
    return entityKey(this.namespace, this.service, this.partition, kind, id);
  }

  /** Loads the entities not yet in memory, in one pipeline. */
  async load(redis: RedisClient, refs: readonly EntityRef[]): Promise<number> {
    const missing = new Map<string, EntityRef>();
    for (const ref of refs) {
      const key = this.key(ref[0], ref[1]);
      if (!this.cache.has(key)) missing.set(key, ref);
    }
    if (missing.size === 0) return 0;
    const pipeline = redis.pipeline();
    for (const key of missing.keys()) pipeline.hgetall(key);
    const results = (await pipeline.exec()) ?? [];
    let index = 0;
    for (const [key, [kind, id]] of missing) {
      const [error, fields] = results[index++] ?? [new Error('no reply'), null];
      if (error) throw new HubError(`redis: ${error.message}`, { retriable: true, cause: error });
      const persisted = (fields ?? {}) as Record<string, string>;
      const value = Object.keys(persisted).length === 0 ? kind.empty(id) : kind.decode(persisted, id);
      this.cache.set(key, { kind, value, persisted });
    }
    return missing.size;
  }

  peek<T>(kind: EntityKind<T>, id: string): T | undefined {
    return this.cache.get(this.key(kind as EntityKind<unknown>, id))?.value as T | undefined;
  }

  /** The entity as persisted; it must have been loaded (the service named it in entitiesOf). */
  current<T>(kind: EntityKind<T>, id: string): T {
    const cached = this.cache.get(this.key(kind as EntityKind<unknown>, id));
    if (cached === undefined) {
      throw new Error(`${this.service}: entity ${kind.name}:${id} was not named by entitiesOf`);
    }
    return cached.value as T;
  }

  /** A working copy for one chunk: what `decide` puts is staged until the chunk is written. */
  work(): ChunkWork {
    return new ChunkWork(this, (kind, id) => this.key(kind, id));
  }

  /**
   * What writing the chunk changes, field by field, against what this process last wrote: the same
   * plan goes onto the changelog in the chunk's transaction and into Redis after it (`write`).
   */
  plan(work: ChunkWork | undefined): StateWrite {
    const prefix = partitionKeyPrefix(this.namespace, this.service, this.partition);
    const entities: EntityWrite[] = [];
    for (const [key, staged] of work?.staged() ?? []) {
      const { changes, persisted } = entityWrite(this.cache.get(key), staged.kind, staged.value);
      entities.push({
        key,
        entity: key.slice(prefix.length),
        changes,
        cached: { kind: staged.kind, value: staged.value, persisted },
      });
    }
    return { entities };
  }

  /**
   * Writes a chunk's plan and moves the watermark to `nextOffset`, in one script. Returns false
   * when the partition's meta is no longer ours: another process took the partition (its state stands),
   * or the state was lost or rebuilt (StateLostError).
   */
  async write(redis: RedisClient, plan: StateWrite, nextOffset: bigint): Promise<boolean> {
    const keys: string[] = [metaKey(this.namespace, this.service, this.partition)];
    const args: string[] = [this.epoch, String(this.applied), String(nextOffset)];
    for (const { key, changes } of plan.entities) {
      const { set, del } = changes;
      if (set.length === 0 && del.length === 0) continue;
      keys.push(key);
      args.push(String(set.length), String(del.length));
      for (const [field, text] of set) args.push(field, text);
      for (const field of del) args.push(field);
    }
    const [status, epoch, offset] = await commands(redis).hubStateApply(keys.length, ...keys, ...args);
    if (status !== 0) {
      if (epoch !== this.epoch) {
        throw new StateLostError(
          `${this.service}: the state of partition ${this.partition} in Redis is ${epoch === '' ? 'missing' : `from another epoch (${epoch})`}: ` +
            `it was flushed, lost or rebuilt while this process held it; run \`npx hub rebuild --service ${this.service}\` (namespace ${this.namespace})`,
        );
      }
      void offset; // same epoch, another watermark: another owner moved on, and its state stands
      return false;
    }
    for (const { key, cached } of plan.entities) {
      this.cache.delete(key);
      this.cache.set(key, cached);
    }
    this.applied = nextOffset;
    this.evict();
    return true;
  }

  /** Keeps memory bounded: the least recently written entities go first (Redis has them). */
  private evict(): void {
    let excess = entitiesToDrop(this.cache.size, this.maxEntries, heapNearlyFull());
    if (excess <= 0) return;
    for (const key of this.cache.keys()) {
      if (excess-- <= 0) break;
      this.cache.delete(key);
    }
  }

  get size(): number {
    return this.cache.size;
  }
}

/**
 * How many of the least recently written entities to drop after a write: those past the ceiling
 * (HUB_STATE_CACHE_ENTRIES), and half of the rest when the heap is nearly full, so a process run
 * with a heap limit (node --max-old-space-size) sheds cache before it runs out of memory.
 */
export function entitiesToDrop(size: number, maxEntries: number, heapNearlyFull: boolean): number {
  const excess = Math.max(0, size - maxEntries);
  return heapNearlyFull ? excess + Math.floor((size - excess) / 2) : excess;
}

/** Live and not yet collected objects above 70% of the heap limit (node --max-old-space-size). */
function heapNearlyFull(): boolean {
  const heap = getHeapStatistics();
  return heap.used_heap_size > 0.7 * heap.heap_size_limit;
}

interface Staged {
  readonly kind: EntityKind<unknown>;
  readonly value: unknown;
}

/**
 * The entities as one chunk's decisions see them. Each input's puts are kept apart until it is
 * accepted, so a refused input (or one whose decision threw) leaves no trace in the state.
 */
export class ChunkWork implements EntityStore {
  private readonly chunk = new Map<string, Staged>();
  private event: Map<string, Staged> | undefined;

  constructor(
    private readonly state: PartitionState,
    private readonly keyOf: (kind: EntityKind<unknown>, id: string) => string,
  ) {}

  beginEvent(): void {
    this.event = new Map();
  }

  acceptEvent(): void {
    for (const [key, staged] of this.event ?? []) this.chunk.set(key, staged);
    this.event = undefined;
  }

  dropEvent(): void {
    this.event = undefined;
  }

  get<T>(kind: EntityKind<T>, id: string): T {
    const key = this.keyOf(kind as EntityKind<unknown>, id);
    const staged = this.event?.get(key) ?? this.chunk.get(key);
    return staged !== undefined ? (staged.value as T) : this.state.current(kind, id);
  }

  put<T>(kind: EntityKind<T>, id: string, value: T): void {
    const target = this.event ?? this.chunk;
    target.set(this.keyOf(kind as EntityKind<unknown>, id), { kind: kind as EntityKind<unknown>, value });
  }

  staged(): Iterable<[string, Staged]> {
    return this.chunk.entries();
  }

  get changed(): number {
    return this.chunk.size;
  }
}
