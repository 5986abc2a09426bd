import { describe, expect, it } from 'vitest';
import { withoutReplaced } from '../../shared/runner/chunk.js';

// A chunk's decisions that only state the latest view of something (Decided.latest): a later one with
// the same key replaces an earlier one; everything else is published as decided, in order.
describe('a chunk publishes the latest view of each item once', () => {
  type Entry = { readonly name: string; readonly latest?: string };
  const names = (entries: readonly Entry[]) => withoutReplaced(entries, (e) => e.latest).map((e) => e.name);

  it('keeps the last entry of each key, where it stood, and every entry without a key', () => {
    const entries: Entry[] = [
      { name: 'a1', latest: 'A' },
      { name: 'dead letter' },
      { name: 'b1', latest: 'B' },
      { name: 'a2', latest: 'A' },
      { name: 'posting' },
      { name: 'a3', latest: 'A' },
    ];
    expect(names(entries)).toEqual(['dead letter', 'b1', 'posting', 'a3']);
  });

  it('changes nothing when no key repeats', () => {
    const entries: Entry[] = [{ name: 'x', latest: 'X' }, { name: 'y' }, { name: 'z', latest: 'Z' }];
    expect(names(entries)).toEqual(['x', 'y', 'z']);
  });

  it('an empty chunk publishes nothing', () => {
    expect(names([])).toEqual([]);
  });
});
