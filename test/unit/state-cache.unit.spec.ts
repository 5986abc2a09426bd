import { describe, expect, it } from 'vitest';
import { entitiesToDrop } from '../../shared/runner/partition-state.js';

// A service's entities in memory are a cache of Redis: bounded by a count, and shed when the heap
// (its limit: node --max-old-space-size, where a deployment sets one) is nearly full.
describe('the state cache sheds entities, least recently written first', () => {
  it.each([
    { size: 90, max: 100, full: false, drop: 0, why: 'under the ceiling, heap fine: keeps all' },
    { size: 130, max: 100, full: false, drop: 30, why: 'over the ceiling: drops the excess' },
    { size: 90, max: 100, full: true, drop: 45, why: 'heap nearly full: drops half' },
    { size: 130, max: 100, full: true, drop: 80, why: 'both: the excess, then half of the 100 left' },
    { size: 1, max: 100, full: true, drop: 0, why: 'one entity is kept (half of one rounds down)' },
    { size: 0, max: 100, full: true, drop: 0, why: 'nothing to drop' },
  ])('$why', ({ size, max, full, drop }) => {
    expect(entitiesToDrop(size, max, full)).toBe(drop);
  });
});
