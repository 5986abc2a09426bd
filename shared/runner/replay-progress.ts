/**
 * How far a rebuild has read each partition of its input, against the offset the service's group had
 * committed there. Pure: the rebuild feeds it what kafkajs delivered, and it says when a partition is
 * complete. A partition is complete only once read up to its committed offset: how long it has been
 * quiet says nothing (a broker away holds its fetches back), so quiet time only ever feeds the stall
 * report.
 */
export class ReplayProgress {
  private readonly positions = new Map<number, bigint>();
  private readonly ends: Map<number, bigint>;
  private readonly finishing = new Set<number>();
  private lastRead: number;

  constructor(targets: ReadonlyMap<number, bigint>, now = Date.now()) {
    this.ends = new Map(targets);
    for (const partition of targets.keys()) this.positions.set(partition, 0n);
    this.lastRead = now;
  }

  /** The committed offset a partition is read up to, or undefined when it is complete or not rebuilt. */
  endOf(partition: number): bigint | undefined {
    return this.finishing.has(partition) ? undefined : this.ends.get(partition);
  }

  /**
   * The partition was read up to `next` (exclusive). Returns its committed offset the first time the
   * reading reaches it (the caller then finishes the partition's state), otherwise undefined.
   */
  reached(partition: number, next: bigint): bigint | undefined {
    const end = this.endOf(partition);
    if (end === undefined) return undefined;
    const position = this.positions.get(partition) ?? 0n;
    if (next > position) this.positions.set(partition, next);
    if (next < end) return undefined;
    this.finishing.add(partition);
    return end;
  }

  /** The partition's state is finished: it no longer counts as remaining. */
  finished(partition: number): void {
    this.ends.delete(partition);
    this.positions.delete(partition);
  }

  get done(): boolean {
    return this.ends.size === 0;
  }

  /** Something was read (records of any partition). */
  touch(now: number): void {
    this.lastRead = now;
  }

  /** Milliseconds since anything was read. */
  stalledFor(now: number): number {
    return now - this.lastRead;
  }

  /** The partitions still to read, as `p<n> at <position> of <end>`. */
  describe(): string {
    return [...this.ends]
      .filter(([partition]) => !this.finishing.has(partition))
      .map(([partition, end]) => `p${partition} at ${this.positions.get(partition) ?? 0n} of ${end}`)
      .join(', ');
  }
}
