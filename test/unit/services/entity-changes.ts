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
  for (let i = 0; i < values.length; i++) {
    for (let j = i; j < values.length; j++) {
      const [before, after] = [values[i] as T, values[j] as T];
      expect(sorted(kind.changes(before, after))).toEqual(
        sorted(fieldDifference(kind.encode(before), kind.encode(after))),
      );
    }
  }
}
