import type { TopicCodec } from '../registry.js';
import type { TopicSpec } from '../topics.js';
import type { PreparedRecord } from './chunk.js';
import type { StateWrite } from './partition-state.js';

/**
 * A stateful service's state on Kafka (the Kafka Streams changelog, field by field): each chunk's
 * transaction carries, beside its outputs and its consumed offset, one record per Redis hash field the
 * chunk set (its text) or deleted (a tombstone), on the changelog partition of the input partition.
 * The changelog read to its end is therefore the state at the group's committed offsets, whatever
 * Redis holds, and `hub rebuild` restores Redis from it by folding field values, without deciding any
 * input again. The key is `[entity, field]` as JSON, so compaction keeps each field's latest text.
 *
 * A partition whose state starts from nothing gets an **origin** record first (entity "", field
 * "origin", the input offset the state starts at), committed before the state's meta is created in
 * Redis. It is never written again, so compaction keeps it, and it stays the partition's first
 * record: a changelog partition that does not begin with it does not reach back to the state's start
 * (the namespace ran a hub without changelogs), and `hub rebuild` refuses it.
 */

/** The origin record's entity and field: no entity of any kind has an empty name. */
export const ORIGIN = { entity: '', field: 'origin' } as const;

export const isOrigin = (named: { entity: string; field: string }): boolean =>
  named.entity === ORIGIN.entity && named.field === ORIGIN.field;

/** The record that says a partition's changelog starts with its state, at input offset `startOffset`. */
export function originRecord(
  topic: TopicSpec,
  partition: number,
  startOffset: bigint,
  codec: TopicCodec,
): PreparedRecord {
  return {
    topic: topic.name,
    partition,
    key: changelogKey(ORIGIN.entity, ORIGIN.field),
    value: codec.encode(topic, 'state-change', { ...ORIGIN, text: String(startOffset) }),
  };
}

export const changelogKey = (entity: string, field: string): string => JSON.stringify([entity, field]);

/** The entity and field a changelog key names; undefined for a key the hub did not write. */
export function parseChangelogKey(key: string): { entity: string; field: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(key);
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    ) {
      return { entity: parsed[0], field: parsed[1] };
    }
  } catch {
    // not JSON: not a changelog key
  }
  return undefined;
}

/** The changelog records of one chunk's state write, all on the input's partition. */
export function changelogRecords(
  topic: TopicSpec,
  partition: number,
  plan: StateWrite,
  codec: TopicCodec,
): PreparedRecord[] {
  const records: PreparedRecord[] = [];
  for (const { entity, changes } of plan.entities) {
    for (const [field, text] of changes.set) {
      records.push({
        topic: topic.name,
        partition,
        key: changelogKey(entity, field),
        value: codec.encode(topic, 'state-change', { entity, field, text }),
      });
    }
    for (const field of changes.del) {
      records.push({ topic: topic.name, partition, key: changelogKey(entity, field), value: null });
    }
  }
  return records;
}

/**
 * The fields of a partition's entities, folded from its changelog in offset order: a later record of
 * a field replaces an earlier one, a tombstone deletes it. `drain` hands over what was folded so far
 * (to write it to Redis in batches, in order) and starts again.
 */
export class ChangelogFold {
  private pending = new Map<string, Map<string, string | null>>();
  private count = 0;

  set(entity: string, field: string, text: string | null): void {
    let fields = this.pending.get(entity);
    if (fields === undefined) {
      fields = new Map();
      this.pending.set(entity, fields);
    }
    fields.set(field, text);
    this.count += 1;
  }

  /** Records folded since the last drain. */
  get size(): number {
    return this.count;
  }

  drain(): Map<string, Map<string, string | null>> {
    const drained = this.pending;
    this.pending = new Map();
    this.count = 0;
    return drained;
  }
}
