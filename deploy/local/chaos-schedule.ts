import { Rng } from '../simulate/random.js';

/**
 * The faults of one chaos run (`npm run chaos`), drawn from a seed: pure, so a seed names one schedule
 * and the tests can check its shape. The year is published in `slices` parts; each fault happens after
 * the slice it names is published, while the services are working through it, in array order.
 *
 * Kills come in three moments:
 * - `transaction`: while the service is busy (its committed offsets moving, lag above zero), so the
 *   SIGKILL lands inside or between the transactions of its chunks;
 * - `rebalance`: while its consumer group is rebalancing, right after the service was restarted from the
 *   kill before it or a second instance joined;
 * - `startup`: again right after its restart, before it has joined its group: the service killed twice
 *   in a row.
 */

export type KillMoment = 'transaction' | 'rebalance' | 'startup';

export type ChaosFault =
  | {
      readonly slice: number;
      readonly kind: 'kill';
      readonly service: string;
      readonly moment: KillMoment;
      readonly downMs: number;
    }
  | { readonly slice: number; readonly kind: 'broker-kill' | 'broker-start'; readonly node: number }
  | { readonly slice: number; readonly kind: 'registry-restart' | 'redis-loss' }
  | { readonly slice: number; readonly kind: 'second-start' | 'second-stop'; readonly service: string };

export interface ScheduleOptions {
  readonly seed: number;
  /** SIGKILLs of services in all, at least 3 (the rebalance one, and the twice-in-a-row pair). */
  readonly kills: number;
  /** Every service, each its own process; all are killed at least once when there are enough kills. */
  readonly services: readonly string[];
  /** The services that may get a second instance (their inputs have more than one partition). */
  readonly scalable: readonly string[];
  /** Kafka nodes, numbered from 1. */
  readonly brokers: number;
  /** Parts the year is published in; default: enough for the kills. */
  readonly slices?: number;
  /** Faults left out (the short version in `npm test` keeps the kills and the broker). */
  readonly without?: readonly OptionalFault[];
}

/** The faults besides the kills and the broker that a schedule may leave out. */
export const OPTIONAL_FAULTS = ['second-instance', 'registry', 'redis'] as const;
export type OptionalFault = (typeof OPTIONAL_FAULTS)[number];

export const MIN_KILLS = 3;

export function slicesFor(kills: number): number {
  return Math.max(12, kills + 4);
}

export function chaosSchedule(options: ScheduleOptions): ChaosFault[] {
  const { kills, services, scalable } = options;
  if (!Number.isInteger(kills) || kills < MIN_KILLS)
    throw new RangeError(`kills: at least ${MIN_KILLS}, got ${kills}`);
  if (scalable.length === 0 || !scalable.every((s) => services.includes(s)))
    throw new RangeError('scalable: one or more of the services');
  const slices = options.slices ?? slicesFor(kills);
  if (slices < 8) throw new RangeError(`slices: at least 8, got ${slices}`);
  const rng = Rng.seeded(options.seed).fork('chaos');
  const at = (fraction: number) => Math.floor(fraction * slices);
  const downMs = () => rng.int(500, 3000);

  const without = new Set(options.without ?? []);
  const second = rng.pick(scalable);
  const node = rng.int(1, options.brokers);
  const secondRebalanceKill = downMs();
  const fixed: ChaosFault[] = [
    ...(without.has('second-instance')
      ? []
      : ([
          { slice: at(0.15), kind: 'second-start', service: second },
          {
            slice: at(0.15),
            kind: 'kill',
            service: second,
            moment: 'rebalance',
            downMs: secondRebalanceKill,
          },
        ] as const)),
    { slice: at(0.25), kind: 'broker-kill', node },
    ...(without.has('registry') ? [] : [{ slice: at(0.35), kind: 'registry-restart' } as const]),
    ...(without.has('second-instance')
      ? []
      : [{ slice: at(0.45), kind: 'second-stop', service: second } as const]),
    { slice: at(0.5), kind: 'broker-start', node },
    ...(without.has('redis') ? [] : [{ slice: at(0.7), kind: 'redis-loss' } as const]),
  ];

  // Kill episodes: the twice-in-a-row pair, then pairs with a rebalance, then single kills.
  const left = kills - (without.has('second-instance') ? 0 : 1);
  // Without a second instance, one kill pair still lands in a rebalance (when there are kills enough).
  const atLeast = without.has('second-instance') && left >= 4 ? 1 : 0;
  const pairs = Math.min(Math.max(Math.floor((left - 3) / 5), atLeast), 3);
  const singles = left - 2 - 2 * pairs;
  const targets = shuffled(rng, services);
  let next = 0;
  const target = () => targets[next++ % targets.length] as string;
  const episodes: (readonly Omit<Extract<ChaosFault, { kind: 'kill' }>, 'slice'>[])[] = [];
  const twice = target();
  episodes.push([
    { kind: 'kill', service: twice, moment: 'transaction', downMs: downMs() },
    { kind: 'kill', service: twice, moment: 'startup', downMs: downMs() },
  ]);
  for (let i = 0; i < pairs; i++) {
    const service = target();
    episodes.push([
      { kind: 'kill', service, moment: 'transaction', downMs: downMs() },
      { kind: 'kill', service, moment: 'rebalance', downMs: downMs() },
    ]);
  }
  for (let i = 0; i < singles; i++)
    episodes.push([{ kind: 'kill', service: target(), moment: 'transaction', downMs: downMs() }]);

  // Spread over the year, never in the first or last slice nor beside the Redis loss, at most two a slice.
  const redisSlice = at(0.7);
  const open = Array.from({ length: slices }, (_, i) => i).filter(
    (i) => i > 0 && i < slices - 1 && i !== redisSlice,
  );
  const load = new Map<number, number>();
  const placed: ChaosFault[] = [];
  for (const episode of shuffled(rng, episodes)) {
    const free = open.filter((i) => (load.get(i) ?? 0) < 2);
    const least = Math.min(...free.map((i) => load.get(i) ?? 0));
    const slice = rng.pick(free.filter((i) => (load.get(i) ?? 0) === least));
    load.set(slice, (load.get(slice) ?? 0) + 1);
    for (const kill of episode) placed.push({ ...kill, slice });
  }
  const order = (f: ChaosFault) => f.slice;
  // Stable: within a slice the fixed faults first, then the kills in the order drawn.
  return [...fixed, ...placed].sort((a, b) => order(a) - order(b));
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** How many SIGKILLs of services a schedule holds. */
export const killCount = (schedule: readonly ChaosFault[]): number =>
  schedule.filter((f) => f.kind === 'kill').length;
