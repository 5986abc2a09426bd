import { Cluster, Redis } from 'ioredis';
import type { Endpoints } from './config.js';
import { ioredisSecurity, redisConnectUrl } from './security.js';

/** A single Redis server or a Redis Cluster (REDIS_CLUSTER=1): the hub uses only what both offer. */
export type RedisClient = Redis | Cluster;

// Redis down is a transient fault: the client keeps reconnecting (the runner waits, it never drops
// work) and fails a command quickly while disconnected, so the runner can back off.
const reconnectDelay = (attempt: number) => Math.min(100 * 2 ** attempt, 5_000);

/**
 * The hub's Redis client. With `redisCluster`, REDIS_URL names one node of the cluster and the client
 * learns the others from it; every key a single script or pipeline touches shares one hash tag
 * (shared/runner/partition-state.ts), so each lies in one slot.
 */
export function createRedis(endpoints: Endpoints): RedisClient {
  const security = ioredisSecurity(endpoints.security?.redis);
  const common = { maxRetriesPerRequest: 1, connectionName: 'medfund-hub', ...security };
  if (!endpoints.redisCluster) {
    return new Redis(redisConnectUrl(endpoints.redisUrl, endpoints.security?.redis), {
      ...common,
      enableOfflineQueue: true,
      retryStrategy: reconnectDelay,
    });
  }
  const seed = new URL(endpoints.redisUrl);
  const tls = seed.protocol === 'rediss:' && !('tls' in security) ? { tls: {} } : {};
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    redisOptions: { ...common, ...tls },
    enableOfflineQueue: true,
    clusterRetryStrategy: reconnectDelay,
  });
}
