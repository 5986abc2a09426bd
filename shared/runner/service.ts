import type { Result } from '../errors.js';
import type { PseudonymKey } from '../identity.js';
import type { RecordBySchemaName, SchemaName } from '../records.js';
import type { DecodedValue } from '../registry.js';
import type { TopicSpec } from '../topics.js';

/**
 * What a service gives the runner: pure functions and the shape of its state. The runner does all
 * I/O: it decodes, parses, loads the entities `decide` needs, calls `decide` in offset order, commits
 * the outputs, the consumed offset and the changed fields (its changelog) in one Kafka transaction,
 * and only then writes the changed entities to Redis together with the partition's applied-offset
 * watermark.
 */
export interface Service<Input> {
  /** Also the consumer group, the transactional-id prefix, the Redis key prefix and the metrics label. */
  readonly name: string;
  readonly input: TopicSpec;
  readonly deadLetters: TopicSpec;
  /** Every topic `decide` may write to (their schemas are registered at start-up). */
  readonly outputs: readonly TopicSpec[];
  /** Validates a decoded value (and replaces personal identifiers by pseudonyms at the edge). */
  parse(decoded: DecodedValue, context: ParseContext): Result<Input>;
  /** A stateful service's entities; a stateless one (the ingest services) has none and never touches Redis. */
  readonly state?: StateModel<Input>;
  /**
   * Set for a service that nobody waits on in milliseconds (the reconciliation and disclosure consumers
   * of the ledger): a fetch then waits up to this long for records to gather (`HUB_GATHER_MS` overrides
   * it), instead of returning with the first one. At a low rate that is one transaction a second per
   * partition instead of one per few records, and the CPU it leaves goes to the stages a produce-to-ledger
   * record waits for (README, "Benchmark"). Unset: decide as soon as a record is there.
   */
  readonly gatherMs?: number;
  /** The decision: what to publish (rendered only when needed), or the precise reason the input is refused. */
  decide(input: Input, state: EntityStore, context: DecideContext): Result<Decided>;
}

export interface ParseContext {
  readonly pseudonymKey: PseudonymKey;
  /** The message's own timestamp as a date in China: pure code never reads the clock. */
  readonly receivedOn: string;
  /** Where the message was read, and its timestamp (epoch ms). */
  readonly source: SourcePosition;
  readonly timestamp: number;
}

export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface DecideContext {
  readonly source: SourcePosition;
  readonly receivedOn: string;
  /** Partitions of each output topic, for a record that must reach every partition (a notice). */
  partitionsOf(topic: TopicSpec): number;
}

/** A record to publish. `key` decides the partition (see the topic's `key` doc), unless `partition` is set. */
export type Output = {
  [N in SchemaName]: {
    topic: TopicSpec;
    key: string;
    record: N;
    value: RecordBySchemaName[N];
    partition?: number;
  };
}[SchemaName];

/**
 * A decision's outputs, built only when they are published: a rebuild replays decisions for their
 * state alone and never pays for the records (or their descriptions).
 */
export interface Decided {
  outputs(): readonly Output[];
  /**
   * Outputs that only say the latest state of something (a reconciliation item's view): a later
   * decision of the same chunk with the same `latest` replaces them, and they are never rendered.
   * Within a transaction a reader could not have seen the earlier ones anyway, and the topic is keyed
   * by that something, so its consumers see the same final state with fewer records.
   */
  readonly latest?: string;
}

/** How long the ledger's reconciliation and disclosure consumers let a fetch gather records (`Service.gatherMs`). */
export const GATHER_MS = 1_000;

export const decided = (outputs: readonly Output[]): Decided => ({ outputs: () => outputs });
export const decidedLazily = (render: () => readonly Output[]): Decided => ({ outputs: render });
export const decidedLatest = (latest: string, render: () => readonly Output[]): Decided => ({
  outputs: render,
  latest,
});

// ─── State ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * One kind of entity a service keeps (a member-year, a hospital-month, …): how to start one and its one
 * codec to and from the fields of a Redis hash. Values are immutable: `decide` puts a new value.
 */
export interface EntityKind<T> {
  /** The key segment, e.g. "member-year": `<namespace>:<service>:{<service>.<partition>}:<name>:<id>`. */
  readonly name: string;
  /** The state of an entity never seen. */
  empty(id: string): T;
  /** Hash fields; only fields whose text changed are written, a field no longer present is deleted. */
  encode(value: T): Record<string, string>;
  /** Throws CorruptState for fields it cannot read: state is the hub's own writing, never input. */
  decode(fields: Readonly<Record<string, string>>, id: string): T;
  /**
   * Optional, for an entity of many fields (a hospital-month's claims): the fields that differ between
   * two values of it, found without encoding the fields that did not change. It must give exactly the
   * difference between `encode(before)` and `encode(after)`; without it, the runner encodes the whole
   * entity and compares the text of every field.
   */
  changes?(before: T, after: T): FieldChanges;
}

/** What a write changes in an entity's hash: the fields to set (with their text) and those to delete. */
export interface FieldChanges {
  readonly set: ReadonlyArray<readonly [field: string, text: string]>;
  readonly del: readonly string[];
}

/** The difference between two encodings of an entity: what `changes` must return. */
export function fieldDifference(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): FieldChanges {
  const set: Array<readonly [string, string]> = [];
  const del: string[] = [];
  for (const [field, text] of Object.entries(after)) if (before[field] !== text) set.push([field, text]);
  for (const field of Object.keys(before)) if (!(field in after)) del.push(field);
  return { set, del };
}

/** A keyed part of an entity as `changes` reads it: a Map, or an immutable.js Map. */
export interface Keyed<V> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  readonly size: number;
  [Symbol.iterator](): Iterator<[string, V]>;
}

/**
 * Adds to `into` the fields of one keyed part of an entity that differ between two values of it: an
 * entry that is the same object is unchanged, another object is written when its text differs, and a
 * key no longer there is deleted (looked for only when the sizes say some went).
 */
export function keyedChanges<V>(
  before: Keyed<V>,
  after: Keyed<V>,
  field: (key: string) => string,
  text: (value: V) => string,
  into: { set: Array<readonly [string, string]>; del: string[] },
  /** The only keys that may differ (from a KeyLineage): the others are not looked at. */
  changedKeys?: Iterable<string>,
): void {
  if (before === after) return;
  if (changedKeys !== undefined) {
    for (const key of changedKeys) {
      const was = before.get(key);
      const value = after.get(key);
      if (was === value) continue;
      if (value === undefined) into.del.push(field(key));
      else {
        const written = text(value);
        if (was === undefined || text(was) !== written) into.set.push([field(key), written]);
      }
    }
    return;
  }
  let added = 0;
  for (const [key, value] of after) {
    const was = before.get(key);
    if (was === value) continue;
    if (was === undefined) added += 1;
    const written = text(value);
    if (was === undefined || text(was) !== written) into.set.push([field(key), written]);
  }
  if (before.size + added === after.size) return;
  for (const [key] of before) if (!after.has(key)) into.del.push(field(key));
}

/**
 * Which keys each version of a persistent keyed collection changed from the version it was made from,
 * so `changes` looks at a chunk's few changed keys instead of walking a month's thousands. It is a
 * hint: a version not made through `derive` (one just decoded) has no lineage, and `changes` then
 * compares every key.
 */
export class KeyLineage<C extends object> {
  private readonly parents = new WeakMap<C, { readonly parent: C; readonly key: string }>();

  /** `child` is `parent` with the entry under `key` set or removed. */
  derive(parent: C, child: C, key: string): C {
    if (child !== parent) this.parents.set(child, { parent, key });
    return child;
  }

  /**
   * The keys changed on the way from `before` to `after`, or undefined when `after` was not derived
   * from `before`. Either way `after` forgets its parent: the runner persists it, the next write starts
   * from it, and the versions in between are left to the garbage collector.
   */
  keysBetween(before: C, after: C): Set<string> | undefined {
    const keys = new Set<string>();
    let version = after;
    let found = true;
    while (version !== before) {
      const link = this.parents.get(version);
      if (link === undefined) {
        found = false;
        break;
      }
      keys.add(link.key);
      version = link.parent;
    }
    this.parents.delete(after);
    return found ? keys : undefined;
  }
}

/** An entity by kind and id. */
export type EntityRef = readonly [EntityKind<unknown>, string];

export const entity = <T>(kind: EntityKind<T>, id: string): EntityRef =>
  [kind as EntityKind<unknown>, id] as const;

/** The entities of the partition as `decide` sees them: earlier inputs of the chunk included. */
export interface EntityStore {
  get<T>(kind: EntityKind<T>, id: string): T;
  put<T>(kind: EntityKind<T>, id: string, value: T): void;
}

/** Entities already loaded, for an input whose entities depend on others (a notice and its held members). */
export interface EntityPeek {
  peek<T>(kind: EntityKind<T>, id: string): T | undefined;
}

export interface StateModel<Input> {
  readonly kinds: readonly EntityKind<unknown>[];
  /**
   * The state on Kafka: the runner writes each chunk's changed fields here in the chunk's transaction,
   * and `hub rebuild` restores Redis from it (shared/runner/changelog.ts).
   */
  readonly changelog: TopicSpec;
  /**
   * The entities `decide` reads for this input. Called again with what the first round loaded until it
   * names nothing new, so an input can name entities listed in another entity.
   */
  entitiesOf(input: Input, loaded: EntityPeek): readonly EntityRef[];
}

/** A service without state decides from its input alone. */
export const NO_STATE: EntityStore = {
  get: () => {
    throw new Error('a stateless service has no entities');
  },
  put: () => {
    throw new Error('a stateless service has no entities');
  },
};
