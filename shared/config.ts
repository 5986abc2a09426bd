import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { type ClientSecurity, kafkaSecurityFrom, redisSecurityFrom } from './security.js';

/** Root of the repository, found from this file so commands work from any directory. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where `npm run stack:up` writes the endpoints of the local stack it started (git-ignored). */
export const STACK_ENV_FILE = join(REPO_ROOT, '.stack.env');

/** The three pieces of infrastructure every part of the hub talks to. */
export interface Endpoints {
  /** Comma-separated host:port list, e.g. "127.0.0.1:9092". */
  readonly kafkaBrokers: string[];
  /** Confluent-compatible API root, e.g. "http://127.0.0.1:8081/apis/ccompat/v7". */
  readonly schemaRegistryUrl: string;
  /** e.g. "redis://127.0.0.1:6379". */
  readonly redisUrl: string;
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

function parseEndpoints(values: Record<EndpointVariable, string>): Endpoints {
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
  return { kafkaBrokers, schemaRegistryUrl: values.SCHEMA_REGISTRY_URL, redisUrl: values.REDIS_URL };
}
