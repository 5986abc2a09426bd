import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { stackDown, stackOptionsFromEnvironment, stackUp } from '../../deploy/local/launcher.js';
import { secretsDir } from '../../deploy/local/secure.js';
import { type Endpoints, endpointsFromEnvironment } from '../../shared/config.js';
import { ioredisSecurity, redisConnectUrl, withoutPassword } from '../../shared/security.js';

/**
 * Resolves the real Kafka, schema registry and Redis the integration tests run against, in this order:
 * 1. KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL from the environment;
 * 2. testcontainers, when a container runtime answers;
 * 3. the local stack from deploy/local (started here, and stopped here if this run started it): secured
 *    by default (HUB_STACK_SECURE=0 for the plain one), each service then runs under its own principal.
 *
 * `secretsDir` is where a secured stack keeps every principal's password (`<principal>.password`) and
 * `ca.pem`: the local stack's HUB_STACK_DIR/secrets; for endpoints from the environment,
 * HUB_TEST_SECRETS_DIR or else the directory of HUB_KAFKA_PASSWORD_FILE.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    stack: Endpoints & { source: 'environment' | 'testcontainers' | 'local-stack'; secretsDir?: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now();
  const fromEnv = endpointsFromEnvironment();
  if (fromEnv) {
    announce('environment', fromEnv);
    const passwordFile = process.env.HUB_KAFKA_PASSWORD_FILE;
    const dir = process.env.HUB_TEST_SECRETS_DIR || (passwordFile ? dirname(passwordFile) : undefined);
    project.provide('stack', {
      ...fromEnv,
      source: 'environment',
      ...(fromEnv.security?.kafka && dir ? { secretsDir: dir } : {}),
    });
    return async () => {
      await deleteNamespacesSince(fromEnv, startedAt);
    };
  }
  if (process.env.HUB_TEST_STACK !== 'local' && (await containerRuntimeAnswers())) {
    const { startContainers } = await import('./containers.js');
    const containers = await startContainers();
    announce('testcontainers', containers.endpoints);
    project.provide('stack', { ...containers.endpoints, source: 'testcontainers' });
    return containers.stop;
  }
  const options = stackOptionsFromEnvironment(process.env, {
    log: (line) => process.stderr.write(`[stack] ${line}\n`),
  });
  const { endpoints, started } = await stackUp(options);
  announce(started ? 'local-stack (started for this run)' : 'local-stack (already running)', endpoints);
  project.provide('stack', {
    ...endpoints,
    source: 'local-stack',
    ...(endpoints.security?.kafka ? { secretsDir: secretsDir(options.stateDir) } : {}),
  });
  return async () => {
    await deleteNamespacesSince(endpoints, startedAt);
    if (started && process.env.HUB_TEST_KEEP_STACK !== '1') await stackDown(options);
  };
}

/**
 * The test files' namespaces (testConfig in test/support/config.ts: "test-<base-36 time>-…", and their "-b",
 * "-c" siblings) leave their keys in Redis, which may be a machine's shared one: this run deletes those
 * it created, and nothing older.
 */
async function deleteNamespacesSince(endpoints: Endpoints, since: number): Promise<void> {
  const security = endpoints.security?.redis;
  const redis = new Redis(redisConnectUrl(endpoints.redisUrl, security), {
    ...ioredisSecurity(security),
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  try {
    await redis.connect();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'test-*', 'COUNT', 1000);
      cursor = next;
      const ours = keys.filter((key) => {
        const time = /^test-([0-9a-z]+)-/.exec(key)?.[1];
        return time !== undefined && Number.parseInt(time, 36) >= since;
      });
      if (ours.length > 0) deleted += await redis.unlink(...ours);
    } while (cursor !== '0');
    process.stderr.write(`[stack] deleted ${deleted} Redis keys of this run's test namespaces\n`);
  } catch (error) {
    process.stderr.write(`[stack] could not delete this run's Redis keys: ${(error as Error).message}\n`);
  } finally {
    redis.disconnect();
  }
}

function announce(source: string, endpoints: Endpoints): void {
  process.stderr.write(
    `[stack] integration tests use ${source}: kafka=${endpoints.kafkaBrokers.join(',')} ` +
      `registry=${endpoints.schemaRegistryUrl} redis=${withoutPassword(endpoints.redisUrl)}` +
      `${endpoints.security?.kafka ? ' (secured: SASL_SSL, SCRAM-SHA-512, ACLs)' : ''}\n`,
  );
}

/** Cheap check: a Docker-compatible socket that answers /_ping within a second. */
async function containerRuntimeAnswers(): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
  if (host && !host.startsWith('unix://')) return true; // a remote daemon: let testcontainers try it
  if (!existsSync(socketPath)) return false;
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}
