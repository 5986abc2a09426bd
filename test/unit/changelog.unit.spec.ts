import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { hubConfig } from '../../shared/config.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import {
  ChangelogFold,
  changelogKey,
  changelogRecords,
  isOrigin,
  originRecord,
  parseChangelogKey,
} from '../../shared/runner/changelog.js';
import type { EntityWrite, StateWrite } from '../../shared/runner/partition-state.js';
import { topicsFor } from '../../shared/topics.js';

const TOPICS = topicsFor(hubConfig());
const CHANGELOG = TOPICS.accountingChangelog;

let codec: TopicCodec;
beforeAll(async () => {
  // A fixed schema id: encode and decode need no registry.
  codec = new TopicCodec(
    createRegistry({ kafkaBrokers: [], schemaRegistryUrl: 'http://127.0.0.1:9', redisUrl: '' }),
    'http://127.0.0.1:9',
    async () => 7,
  );
  await codec.prepare([CHANGELOG]);
});

/** A chunk's write as the runner plans it: only `entity` and `changes` reach the changelog. */
const planOf = (entities: ReadonlyArray<[string, Array<[string, string]>, string[]]>): StateWrite => ({
  entities: entities.map(
    ([entity, set, del]) =>
      ({
        key: `ns:accounting:{accounting.0}:${entity}`,
        entity,
        changes: { set, del },
      }) as unknown as EntityWrite,
  ),
});

/** Reads a chunk's changelog records back into a fold, as `hub rebuild` does. */
async function foldRecords(fold: ChangelogFold, plan: StateWrite, partition = 2): Promise<void> {
  for (const record of changelogRecords(CHANGELOG, partition, plan, codec)) {
    expect(record.topic).toBe(CHANGELOG.name);
    expect(record.partition).toBe(partition);
    const named = parseChangelogKey(record.key ?? '');
    if (named === undefined) throw new Error(`unreadable key ${record.key}`);
    if (record.value === null) {
      fold.set(named.entity, named.field, null);
      continue;
    }
    const decoded =
      codec.decodeKnown(CHANGELOG, record.value) ?? (await codec.decode(CHANGELOG, record.value));
    if (!decoded.ok || decoded.value.record !== 'state-change') throw new Error('not a state-change');
    expect([decoded.value.value.entity, decoded.value.value.field]).toEqual([named.entity, named.field]);
    fold.set(named.entity, named.field, decoded.value.value.text);
  }
}

describe('the state changelog (shared/runner/changelog.ts)', () => {
  it('names an entity and a field in a key that reads back, whatever characters they hold', () => {
    const cases: Array<[string, string]> = [
      ['member-year:533100:2025:m_0123456789abcdef0123456789abcdef', 'claim:S-1'],
      ['hospital-month:H"1:2025-03', 'field with "quotes", commas, 中文 and a \\ backslash'],
      ['', ''],
    ];
    for (const [entity, field] of cases)
      expect(parseChangelogKey(changelogKey(entity, field))).toEqual({ entity, field });
  });

  it.each(['member-year:x', '["only one"]', '["a", 2]', '{"entity":"a","field":"b"}', '["a","b","c"]'])(
    'refuses a key it did not write: %s',
    (key) => {
      expect(parseChangelogKey(key)).toBeUndefined();
    },
  );

  it('marks where a state starts with an origin record that no entity field can be mistaken for', async () => {
    const record = originRecord(CHANGELOG, 3, 42n, codec);
    expect([record.topic, record.partition, record.key]).toEqual([CHANGELOG.name, 3, '["","origin"]']);
    const named = parseChangelogKey(record.key ?? '');
    expect(named && isOrigin(named)).toBe(true);
    const decoded = await codec.decode(CHANGELOG, record.value);
    expect(decoded.ok && decoded.value.value).toEqual({ entity: '', field: 'origin', text: '42' });
    expect(isOrigin({ entity: 'member-year:a', field: 'origin' })).toBe(false);
    expect(isOrigin({ entity: '', field: 'h' })).toBe(false);
  });

  it('writes a set field as its text and a deleted field as a tombstone (a null value)', () => {
    const records = changelogRecords(
      CHANGELOG,
      4,
      planOf([['member-year:a', [['h', '{"s":1}']], ['claim:old']]]),
      codec,
    );
    expect(records.map((r) => [r.key, r.value === null])).toEqual([
      ['["member-year:a","h"]', false],
      ['["member-year:a","claim:old"]', true],
    ]);
  });

  it('property: the changelog folded in order holds exactly the fields the hashes hold after the same writes', async () => {
    const entity = fc.constantFrom('member-year:a', 'member-year:b', 'region-year:533100:2025');
    const field = fc.constantFrom('h', 'claim:1', 'claim:2', 'payment:9');
    const write = fc.tuple(
      entity,
      fc.array(fc.tuple(field, fc.string({ maxLength: 12 })), { maxLength: 3 }),
      fc.array(field, { maxLength: 2 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(write, { maxLength: 4 }), { maxLength: 12 }),
        fc.nat(5),
        async (chunks, every) => {
          // The model: Redis hashes after each chunk's HSETs then HDELs (the order the state script applies them).
          const hashes = new Map<string, Map<string, string>>();
          // What hub rebuild writes: folds drained now and then, applied in order (sets, then deletions).
          const rebuilt = new Map<string, Map<string, string>>();
          const fold = new ChangelogFold();
          const drainInto = () => {
            for (const [e, fields] of fold.drain()) {
              const hash = rebuilt.get(e) ?? new Map<string, string>();
              for (const [f, text] of fields) {
                if (text === null) hash.delete(f);
                else hash.set(f, text);
              }
              rebuilt.set(e, hash);
            }
          };
          for (const [i, chunk] of chunks.entries()) {
            // One chunk names an entity once (the runner's staged map), with set and deleted fields apart.
            const byEntity = new Map<string, [Map<string, string>, Set<string>]>();
            for (const [e, sets, dels] of chunk) {
              const [set, del] = byEntity.get(e) ?? [new Map<string, string>(), new Set<string>()];
              for (const [f, t] of sets) {
                set.set(f, t);
                del.delete(f);
              }
              for (const f of dels) if (!set.has(f)) del.add(f);
              byEntity.set(e, [set, del]);
            }
            const plan = planOf([...byEntity].map(([e, [set, del]]) => [e, [...set], [...del]]));
            for (const [e, [set, del]] of byEntity) {
              const hash = hashes.get(e) ?? new Map<string, string>();
              for (const [f, t] of set) hash.set(f, t);
              for (const f of del) hash.delete(f);
              hashes.set(e, hash);
            }
            await foldRecords(fold, plan);
            if (every > 0 && i % every === 0) drainInto();
          }
          drainInto();
          const nonEmpty = (m: Map<string, Map<string, string>>) =>
            Object.fromEntries(
              [...m].filter(([, h]) => h.size > 0).map(([e, h]) => [e, Object.fromEntries([...h].sort())]),
            );
          expect(nonEmpty(rebuilt)).toEqual(nonEmpty(hashes));
        },
      ),
      { numRuns: 300 },
    );
  });
});
