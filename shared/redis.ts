import { Redis } from 'ioredis';
import type { Endpoints } from './config.js';
import { ioredisSecurity, redisConnectUrl } from './security.js';

/**
 * A Redis client that keeps retrying the connection (Redis down is a transient fault: the runner
 * waits, it never drops work) and fails a command quickly while disconnected so the runner can back off.
 */
export function createRedis(endpoints: Endpoints): Redis {
  return new Redis(redisConnectUrl(endpoints.redisUrl, endpoints.security?.redis), {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 5_000),
    connectionName: 'medfund-hub',
    ...ioredisSecurity(endpoints.security?.redis),
  });
}
