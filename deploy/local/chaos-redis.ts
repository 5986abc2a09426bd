import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.js';
import { redisAnswers } from './launcher.js';

/**
 * The chaos run's own Redis: a redis-server without persistence, started by `npm run chaos` on a port of
 * its own, so that it can be killed and started again empty ("Redis restarted with its data lost")
 * without touching any other Redis on the machine. Its pid is kept in `<dir>/chaos-redis.json`.
 */

const pidFile = (dir: string) => join(dir, 'chaos-redis.json');

export const chaosRedisUrl = (port: number) => `redis://127.0.0.1:${port}`;

function isOurs(pid: number, port: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('redis-server') && cmdline.includes(`:${port}`);
  } catch {
    return false;
  }
}

function recorded(dir: string): { pid: number; port: number } | undefined {
  if (!existsSync(pidFile(dir))) return undefined;
  return JSON.parse(readFileSync(pidFile(dir), 'utf8')) as { pid: number; port: number };
}

/** True when the Redis recorded in `dir` is running. */
export function chaosRedisRunning(dir: string): boolean {
  const r = recorded(dir);
  return r !== undefined && isOurs(r.pid, r.port);
}

/** Starts an empty redis-server on the port and waits until it answers PING. */
export async function startChaosRedis(dir: string, port: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (await answers(port))
    throw new StackError(`something already answers on port ${port}: choose HUB_CHAOS_REDIS_PORT`);
  const out = openSync(join(dir, 'chaos-redis.log'), 'a');
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { detached: true, stdio: ['ignore', out, out] },
  );
  if (child.pid === undefined)
    throw new StackError('could not start redis-server (apt-get install redis-server)');
  child.unref();
  writeFileSync(pidFile(dir), JSON.stringify({ pid: child.pid, port }));
  const deadline = Date.now() + 15_000;
  while (!(await answers(port))) {
    if (Date.now() > deadline) throw new StackError(`redis-server on port ${port} did not answer in 15 s`);
    await sleep(100);
  }
}

/** SIGKILLs the Redis recorded in `dir` (its data is in memory only: gone). */
export async function killChaosRedis(dir: string): Promise<void> {
  const r = recorded(dir);
  if (r === undefined || !isOurs(r.pid, r.port)) return;
  process.kill(r.pid, 'SIGKILL');
  while (isOurs(r.pid, r.port)) await sleep(50);
}

const answers = (port: number) => redisAnswers(chaosRedisUrl(port));
