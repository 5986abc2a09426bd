import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { NAMESPACE } from '../namespace.js';
import type { StateView, StateWrite } from './service.js';

/**
 * The runner's Redis I/O, two round trips per batch (perf-notes.md: never one per event):
 * `load` reads every memo and state hash the batch needs in one pipeline; `apply` writes every
 * event's state changes and memo in one Lua script, atomically, and skips an event whose memo
 * already exists, so applying a batch twice changes nothing.
 */

/** What the runner remembers of an applied event: where it was read and exactly what it emitted. */
export interface Memo {
  /** "topic/partition/offset" of the message that was applied. */
  readonly at: string;
  /** [topic, key, value as base64] of every record emitted for it, encoded once. */
  readonly outputs: ReadonlyArray<readonly [string, string, string]>;
}

export const memoKey = (service: string, eventId: string) => `${NAMESPACE}:memo:${service}:{${eventId}}`;

const APPLY_SCRIPT = `
-- ARGV[1] = memo ttl (seconds); then per event: memo key index, memo value, write count,
-- and per write: key index, field count, field, value, ...
local ttl = tonumber(ARGV[1])
local i = 2
local applied = 0
while i <= #ARGV do
  local memoKey = KEYS[tonumber(ARGV[i])]
  local fresh = redis.call('SET', memoKey, ARGV[i + 1], 'NX', 'EX', ttl)
  local writes = tonumber(ARGV[i + 2])
  i = i + 3
  for _ = 1, writes do
    local key = KEYS[tonumber(ARGV[i])]
    local fields = tonumber(ARGV[i + 1])
    i = i + 2
    if fresh then
      for f = 0, fields - 1 do
        redis.call('HSET', key, ARGV[i + 2 * f], ARGV[i + 2 * f + 1])
      end
    end
    i = i + 2 * fields
  end
  if fresh then applied = applied + 1 end
end
return applied
`;

const APPLY_SCRIPT_SHA = createHash('sha1').update(APPLY_SCRIPT).digest('hex');

export interface PendingEvent {
  readonly memoKey: string;
  readonly memo: Memo;
  readonly writes: readonly StateWrite[];
}

export class BatchState implements StateView {
  private constructor(
    private readonly hashes: Map<string, Record<string, string>>,
    readonly memos: Map<string, Memo>,
  ) {}

  static async load(
    redis: Redis,
    memoKeys: readonly string[],
    stateKeys: readonly string[],
  ): Promise<BatchState> {
    const pipeline = redis.pipeline();
    for (const key of memoKeys) pipeline.get(key);
    for (const key of stateKeys) pipeline.hgetall(key);
    const results = (await pipeline.exec()) ?? [];
    const memos = new Map<string, Memo>();
    const hashes = new Map<string, Record<string, string>>();
    results.forEach(([error, value], index) => {
      if (error) throw error;
      if (index < memoKeys.length) {
        if (typeof value === 'string') memos.set(memoKeys[index] as string, JSON.parse(value) as Memo);
      } else {
        hashes.set(stateKeys[index - memoKeys.length] as string, (value ?? {}) as Record<string, string>);
      }
    });
    return new BatchState(hashes, memos);
  }

  hash(key: string): Readonly<Record<string, string>> {
    return this.hashes.get(key) ?? {};
  }

  /** Makes a decision's writes visible to the rest of the batch before they reach Redis. */
  stage(writes: readonly StateWrite[]): void {
    for (const write of writes) this.hashes.set(write.key, { ...this.hash(write.key), ...write.fields });
  }
}

export async function applyBatch(
  redis: Redis,
  events: readonly PendingEvent[],
  memoTtlSeconds: number,
): Promise<number> {
  if (events.length === 0) return 0;
  const keys: string[] = [];
  const index = new Map<string, number>();
  const keyIndex = (key: string) => {
    let i = index.get(key);
    if (i === undefined) {
      keys.push(key);
      i = keys.length;
      index.set(key, i);
    }
    return String(i);
  };
  const args: string[] = [String(memoTtlSeconds)];
  for (const event of events) {
    args.push(keyIndex(event.memoKey), JSON.stringify(event.memo), String(event.writes.length));
    for (const write of event.writes) {
      const fields = Object.entries(write.fields);
      args.push(keyIndex(write.key), String(fields.length));
      for (const [field, value] of fields) args.push(field, value);
    }
  }
  // EVALSHA sends 40 bytes instead of the script; a server that has not seen it yet (or was restarted)
  // answers NOSCRIPT once, and EVAL loads it.
  try {
    return (await redis.evalsha(APPLY_SCRIPT_SHA, keys.length, ...keys, ...args)) as number;
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return (await redis.eval(APPLY_SCRIPT, keys.length, ...keys, ...args)) as number;
  }
}
