import { describe, expect, it } from 'vitest';
import { ReplayProgress } from '../../shared/runner/replay-progress.js';

// `hub rebuild` once finished every partition that had been quiet for 3 s: with a broker away, a
// partition read only part of the way got the committed offset as its watermark, and the state missed
// a member's second premium (most likely the full chaos run's two claims, seed 1). Done now means read
// up to the committed offset.
describe('ReplayProgress (shared/runner/replay-progress.ts)', () => {
  const targets = new Map([
    [0, 120n],
    [1, 40n],
  ]);

  it('finishes a partition only once it is read up to its committed offset, however long it was quiet', () => {
    const progress = new ReplayProgress(targets, 0);
    expect(progress.reached(0, 60n)).toBeUndefined();
    expect(progress.stalledFor(600_000)).toBe(600_000);
    expect(progress.done).toBe(false);
    expect(progress.describe()).toBe('p0 at 60 of 120, p1 at 0 of 40');
    expect(progress.reached(0, 121n)).toBe(120n); // the batch ran past the committed offset
    progress.finished(0);
    expect(progress.describe()).toBe('p1 at 0 of 40');
    expect(progress.done).toBe(false);
  });

  it('finishes a partition whose last offsets are transaction markers when kafkajs reports moving past them', () => {
    const progress = new ReplayProgress(targets, 0);
    expect(progress.reached(1, 38n)).toBeUndefined(); // records 0..37, then markers at 38 and 39
    expect(progress.reached(1, 40n)).toBe(40n); // an empty-after-filtering batch ending at offset 39
    progress.finished(1);
    expect(progress.endOf(1)).toBeUndefined();
  });

  it('hands out a partition to finish once, even when two reports cross its end together', () => {
    const progress = new ReplayProgress(targets, 0);
    expect(progress.reached(1, 45n)).toBe(40n);
    expect(progress.reached(1, 46n)).toBeUndefined();
    expect(progress.endOf(1)).toBeUndefined();
    expect(progress.reached(0, 120n)).toBe(120n);
    progress.finished(0);
    progress.finished(1);
    expect(progress.done).toBe(true);
  });

  it('never moves a position back, and counts quiet time from the last read', () => {
    const progress = new ReplayProgress(targets, 1_000);
    progress.reached(0, 80n);
    progress.reached(0, 50n);
    expect(progress.describe()).toBe('p0 at 80 of 120, p1 at 0 of 40');
    progress.touch(5_000);
    expect(progress.stalledFor(12_000)).toBe(7_000);
  });
});
