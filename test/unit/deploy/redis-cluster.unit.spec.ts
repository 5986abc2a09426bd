import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterSlotRange, REDIS_CLUSTER_SLOTS } from '../../../deploy/local/launcher.js';
import { endpointsFromEnvironment, loadEndpoints, writeStackEnv } from '../../../shared/config.js';
import { ConfigError } from '../../../shared/errors.js';

const ENDPOINTS = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
  REDIS_URL: 'redis://127.0.0.1:6390',
};

describe('the stack Redis Cluster slot split', () => {
  it('gives three primaries 0–5460, 5461–10922 and 10923–16383, as redis-cli --cluster create does', () => {
    expect([0, 1, 2].map((i) => clusterSlotRange(i, 3))).toEqual([
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ]);
  });

  it('covers every slot exactly once for 1 to 7 primaries', () => {
    for (let nodes = 1; nodes <= 7; nodes++) {
      let next = 0;
      for (let i = 0; i < nodes; i++) {
        const [first, last] = clusterSlotRange(i, nodes);
        expect(first).toBe(next);
        expect(last).toBeGreaterThanOrEqual(first);
        next = last + 1;
      }
      expect(next).toBe(REDIS_CLUSTER_SLOTS);
    }
  });
});

describe('REDIS_CLUSTER', () => {
  it('is a single server unless REDIS_CLUSTER=1', () => {
    expect(endpointsFromEnvironment(ENDPOINTS)?.redisCluster).toBeUndefined();
    expect(endpointsFromEnvironment({ ...ENDPOINTS, REDIS_CLUSTER: '0' })?.redisCluster).toBeUndefined();
    expect(endpointsFromEnvironment({ ...ENDPOINTS, REDIS_CLUSTER: '1' })?.redisCluster).toBe(true);
  });

  it('refuses any other value, naming the variable and the value', () => {
    expect(() => endpointsFromEnvironment({ ...ENDPOINTS, REDIS_CLUSTER: 'yes' })).toThrow(ConfigError);
    expect(() => endpointsFromEnvironment({ ...ENDPOINTS, REDIS_CLUSTER: 'yes' })).toThrow(
      "REDIS_CLUSTER: 'yes' is neither 1",
    );
  });

  it('goes into the stack env file only for a cluster, and comes back from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-env-'));
    try {
      const file = join(dir, '.stack.env');
      const endpoints = {
        kafkaBrokers: ['127.0.0.1:9092'],
        schemaRegistryUrl: ENDPOINTS.SCHEMA_REGISTRY_URL,
        redisUrl: ENDPOINTS.REDIS_URL,
      };
      writeStackEnv(endpoints, file);
      expect(readFileSync(file, 'utf8')).not.toContain('REDIS_CLUSTER');
      expect(loadEndpoints({}, file).redisCluster).toBeUndefined();
      writeStackEnv({ ...endpoints, redisCluster: true }, file);
      expect(readFileSync(file, 'utf8')).toContain('REDIS_CLUSTER=1\n');
      expect(loadEndpoints({}, file)).toEqual({ ...endpoints, redisCluster: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
