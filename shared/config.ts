import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { type ClientSecurity, kafkaSecurityFrom, redisSecurityFrom } from './security.js';

/** Root of the repository, found from this file so commands work from any directory. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where `npm run stack:up` writes the endpoints of the local stack it started (git-ignored). */
export const STACK_ENV_FILE = join(REPO_ROOT, '.stack.env');

/**
 * What one hub is, built once at start-up (from the environment, or the CLI's `--namespace`) and passed
 * to everything that names a topic, a consumer group, a transactional id or a Redis key.
 */
export interface HubConfig {
  /**
   * The prefix of every topic, consumer group, transactional id and Redis key (`HUB_NAMESPACE`, default
   * "medfund"): two hubs, or two test runs, can share one Kafka cluster and one Redis without seeing
   * each other's data.
   */
  readonly namespace: string;
  /**
   * How long the input topics, which carry national IDs, keep a message (`HUB_INPUT_RETENTION_DAYS`,
   * default 30): once on the journal it is never read again.
   */
  readonly inputRetentionDays: number;
}

export const DEFAULT_NAMESPACE = 'medfund';
const DEFAULT_INPUT_RETENTION_DAYS = 30;

/** A configuration from values in hand (a test's namespace, the contract's defaults); checked alike. */
export function hubConfig(values: Partial<HubConfig> = {}): HubConfig {
  const days = values.inputRetentionDays ?? DEFAULT_INPUT_RETENTION_DAYS;
  return {
    namespace: namespaceFrom(values.namespace),
    inputRetentionDays: inputRetentionDaysFrom(String(days)),
  };
}

/**
 * HUB_NAMESPACE and HUB_INPUT_RETENTION_DAYS, checked; `namespace` (the CLI's `--namespace`) wins over
 * HUB_NAMESPACE. A bad value throws a ConfigError that starts with the variable's name.
 */
export function hubConfigFromEnvironment(env: NodeJS.ProcessEnv, namespace?: string): HubConfig {
  return {
    namespace: namespaceFrom(namespace ?? env.HUB_NAMESPACE),
    inputRetentionDays: inputRetentionDaysFrom(env.HUB_INPUT_RETENTION_DAYS),
  };
}

export function namespaceFrom(text: string | undefined): string {
  const value = text === undefined || text === '' ? DEFAULT_NAMESPACE : text;
  // Kafka topic names allow [a-zA-Z0-9._-]; keep to that so one prefix serves Kafka and Redis alike.
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,100}$/.test(value)) {
    throw new ConfigError(`HUB_NAMESPACE: '${value}' must be letters, digits, '.', '_' or '-' (at most 101)`);
  }
  return value;
}

function inputRetentionDaysFrom(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_INPUT_RETENTION_DAYS;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1) {
    throw new ConfigError(`HUB_INPUT_RETENTION_DAYS: '${text}' is not a whole number of days ≥ 1`);
  }
  return days;
}

/** The three pieces of infrastructure every part of the hub talks to. */
export interface Endpoints {
  /** Comma-separated host:port list, e.g. "127.0.0.1:9092". */
  readonly kafkaBrokers: string[];
  /** Confluent-compatible API root, e.g. "http://127.0.0.1:8081/apis/ccompat/v7". */
  readonly schemaRegistryUrl: string;
  /** e.g. "redis://127.0.0.1:6379"; with `redisCluster`, any one node of the cluster. */
  readonly redisUrl: string;
  /** REDIS_CLUSTER=1: REDIS_URL is a node of a Redis Cluster (shared/redis.ts), not a single server. */
  readonly redisCluster?: boolean;
  /** Credentials and TLS of a secured stack (shared/security.ts); absent for a plaintext one. */
  readonly security?: ClientSecurity;
}

const ENDPOINT_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL'] as const;
type EndpointVariable = (typeof ENDPOINT_VARIABLES)[number];

/** Parses `KEY=value` lines; blank lines and # comments are ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq > 0) values[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return values;
}

/** `extra`: a secured stack's HUB_KAFKA_USERNAME, HUB_KAFKA_PASSWORD_FILE, … (paths, never secrets). */
export function writeStackEnv(
  endpoints: Endpoints,
  file = STACK_ENV_FILE,
  extra: Readonly<Record<string, string>> = {},
): void {
  const lines = [
    '# Written by `npm run stack:up`; read by the hub and the tests when these variables are not set.',
    `KAFKA_BROKERS=${endpoints.kafkaBrokers.join(',')}`,
    `SCHEMA_REGISTRY_URL=${endpoints.schemaRegistryUrl}`,
    `REDIS_URL=${endpoints.redisUrl}`,
    ...(endpoints.redisCluster ? ['REDIS_CLUSTER=1'] : []),
    ...Object.entries(extra).map(([name, value]) => `${name}=${value}`),
    '',
  ];
  writeFileSync(file, lines.join('\n'));
}

/** The endpoints from the environment only; undefined unless all three are set. */
export function endpointsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Endpoints | undefined {
  const set = ENDPOINT_VARIABLES.filter((name) => (env[name] ?? '') !== '');
  if (set.length === 0) return undefined;
  if (set.length < ENDPOINT_VARIABLES.length) {
    const missing = ENDPOINT_VARIABLES.filter((name) => !set.includes(name));
    throw new ConfigError(
      `set all of ${ENDPOINT_VARIABLES.join(', ')} or none of them; missing: ${missing.join(', ')}`,
    );
  }
  return withSecurity(parseEndpoints(env as Record<EndpointVariable, string>), env);
}

/**
 * The endpoints the hub's commands use: the environment first, else the file `stack:up` wrote.
 * One clear line when neither is there.
 */
export function loadEndpoints(env: NodeJS.ProcessEnv = process.env, file = STACK_ENV_FILE): Endpoints {
  const fromEnv = endpointsFromEnvironment(env);
  if (fromEnv) return fromEnv;
  if (existsSync(file)) {
    const values = parseEnvFile(readFileSync(file, 'utf8'));
    if (ENDPOINT_VARIABLES.every((name) => values[name]))
      // The environment's own credentials win over the file's (a service started with its principal).
      return withSecurity(parseEndpoints(values as Record<EndpointVariable, string>), { ...values, ...env });
  }
  throw new ConfigError(
    `no Kafka, registry and Redis endpoints: set ${ENDPOINT_VARIABLES.join(', ')} or run \`npm run stack:up\``,
  );
}

function withSecurity(endpoints: Endpoints, values: Readonly<Record<string, string | undefined>>): Endpoints {
  const kafka = kafkaSecurityFrom(values);
  const redis = redisSecurityFrom(values, endpoints.redisUrl);
  if (kafka === undefined && redis === undefined) return endpoints;
  return { ...endpoints, security: { ...(kafka ? { kafka } : {}), ...(redis ? { redis } : {}) } };
}

function parseEndpoints(
  values: Record<EndpointVariable, string> & { readonly REDIS_CLUSTER?: string },
): Endpoints {
  const kafkaBrokers = values.KAFKA_BROKERS.split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  for (const broker of kafkaBrokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(broker))
      throw new ConfigError(`KAFKA_BROKERS: '${broker}' is not host:port`);
  }
  for (const name of ['SCHEMA_REGISTRY_URL', 'REDIS_URL'] as const) {
    try {
      new URL(values[name]);
    } catch {
      throw new ConfigError(`${name}: '${values[name]}' is not a URL`);
    }
  }
  const redisCluster = redisClusterFrom(values.REDIS_CLUSTER);
  return {
    kafkaBrokers,
    schemaRegistryUrl: values.SCHEMA_REGISTRY_URL,
    redisUrl: values.REDIS_URL,
    ...(redisCluster ? { redisCluster } : {}),
  };
}

/** REDIS_CLUSTER: unset, empty or 0 a single server; 1 a Redis Cluster. */
function redisClusterFrom(text: string | undefined): boolean {
  if (text === undefined || text === '' || text === '0') return false;
  if (text === '1') return true;
  throw new ConfigError(`REDIS_CLUSTER: '${text}' is neither 1 (a Redis Cluster) nor 0 (a single server)`);
}
