import { expect } from 'vitest';
import {
  type EntityKind,
  type EntityStore,
  type FieldChanges,
  fieldDifference,
} from '../../../shared/runner/service.js';

/** Entities as values, as the runner holds them while it owns a partition (no trip through a codec). */
export class ValueStore implements EntityStore {
  private readonly values = new Map<string, unknown>();
  get<T>(kind: EntityKind<T>, id: string): T {
    return (this.values.get(`${kind.name}:${id}`) as T | undefined) ?? kind.empty(id);
  }
  put<T>(kind: EntityKind<T>, id: string, value: T): void {
    this.values.set(`${kind.name}:${id}`, value);
  }
}

const sorted = (c: FieldChanges) => ({
  set: [...c.set].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
  del: [...c.del].sort(),
});

/**
 * A kind's `changes(before, after)` between every two of `values` (a chunk may hold any run of them)
 * is exactly the difference of their encodings, the runner's write without `changes`.
 */
export function expectExactChanges<T>(kind: EntityKind<T>, values: readonly T[]): void {
  if (kind.changes === undefined) throw new Error(`${kind.name} has no changes()`);
  const exact = (before: T, after: T) =>
    expect(sorted((kind.changes as NonNullable<typeof kind.changes>)(before, after))).toEqual(
      sorted(fieldDifference(kind.encode(before), kind.encode(after))),
    );
  // First as the runner writes: chunks of 1, 2, 3, … values, each write starting where the last ended
  // (a kind that remembers how a value was derived, KeyLineage, answers these from that).
  for (let start = 0, size = 1; start < values.length - 1; start += size, size += 1) {
    exact(values[start] as T, values[Math.min(start + size, values.length - 1)] as T);
  }
  for (let i = 0; i < values.length; i++) {
    for (let j = i; j < values.length; j++) {
      exact(values[i] as T, values[j] as T);
    }
  }
}
