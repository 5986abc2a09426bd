import { networkInterfaces } from 'node:os';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';
import { bindAddress } from './observability.js';
import { serviceKeyPrefix } from './partition-state.js';

/**
 * Each instance of a service announces where its health endpoints listen (the port is picked at
 * random unless HUB_HEALTH_PORT says otherwise) in one Redis hash per service:
 * `<namespace>:<service>:health`, a field per instance whose value says the address and until when the
 * announcement holds. The instance renews it every few seconds and removes it when it stops; one that
 * was killed is recognised by its expired time (`hub status` says so) and the whole key expires once
 * no instance renews it.
 */

export const HEALTH_RENEW_MS = 5_000;
/** An announcement not renewed for this long is stale: the instance is gone or hung. */
export const HEALTH_TTL_MS = 15_000;

export const healthKey = (namespace: string, service: string): string =>
  `${serviceKeyPrefix(namespace, service)}health`;

export interface Announcement {
  readonly instance: string;
  /** host:port of /healthz, /readyz and /metrics. */
  readonly address: string;
  readonly pid: number;
  readonly startedAt: string;
  /** Epoch milliseconds until which the announcement holds. */
  readonly expiresAt: number;
}

/** The address others reach this process at: HUB_HEALTH_HOST, else the first non-loopback IPv4. */
export function advertisedHost(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HUB_HEALTH_HOST) return env.HUB_HEALTH_HOST;
  // The health server listens on HUB_BIND_ADDRESS (loopback by default): a specific address is the one
  // that answers; only a wildcard bind is reached through the machine's own address.
  const bound = bindAddress(env);
  if (bound !== '0.0.0.0' && bound !== '::') return bound;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export interface Announcer {
  stop(): Promise<void>;
}

export function announceHealth(
  redis: RedisClient,
  options: {
    readonly namespace: string;
    readonly service: string;
    readonly instance: string;
    readonly address: string;
    readonly log: Logger;
  },
): Announcer {
  const key = healthKey(options.namespace, options.service);
  const startedAt = new Date().toISOString();
  const renew = async () => {
    const value: Announcement = {
      instance: options.instance,
      address: options.address,
      pid: process.pid,
      startedAt,
      expiresAt: Date.now() + HEALTH_TTL_MS,
    };
    await redis
      .multi()
      .hset(key, options.instance, JSON.stringify(value))
      .pexpire(key, HEALTH_TTL_MS * 4)
      .exec();
  };
  const attempt = () =>
    renew().catch((error: Error) =>
      options.log.warn({ err: error.message }, 'could not announce the health address in Redis'),
    );
  void attempt();
  const timer = setInterval(() => void attempt(), HEALTH_RENEW_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await redis.hdel(key, options.instance).catch(() => {});
    },
  };
}

/** Every instance a service announced, as read from its hash (unparseable fields are skipped). */
export async function announcedInstances(
  redis: RedisClient,
  namespace: string,
  service: string,
): Promise<Announcement[]> {
  const fields = await redis.hgetall(healthKey(namespace, service));
  const out: Announcement[] = [];
  for (const text of Object.values(fields)) {
    try {
      out.push(JSON.parse(text) as Announcement);
    } catch {
      // a value another version wrote: not ours to read
    }
  }
  return out.sort((a, b) => a.instance.localeCompare(b.instance));
}
