import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/**
 * Credentials and TLS for Kafka and Redis, from the environment (or the local stack's .stack.env),
 * parsed once at start-up with the endpoints. A secured hub sets HUB_KAFKA_USERNAME; then the password
 * (HUB_KAFKA_PASSWORD or HUB_KAFKA_PASSWORD_FILE) and the CA (HUB_KAFKA_CA_FILE) are required, and a
 * missing one stops the process with one line that names the variable, never its value.
 *
 * Redis: REDIS_URL may name a user (`redis://premium-ingest@host:port`); its password is in the URL or
 * in HUB_REDIS_PASSWORD / HUB_REDIS_PASSWORD_FILE. `rediss://` uses TLS, trusting HUB_REDIS_CA_FILE
 * (default: HUB_KAFKA_CA_FILE).
 */
export interface KafkaSecurity {
  readonly username: string;
  readonly password: string;
  /** PEM of the CA that signed the brokers' certificates. */
  readonly ca: string;
}

export interface RedisSecurity {
  readonly username?: string;
  readonly password?: string;
  /** PEM of the CA for a `rediss://` URL. */
  readonly ca?: string;
}

export interface ClientSecurity {
  readonly kafka?: KafkaSecurity;
  readonly redis?: RedisSecurity;
}

type Values = Readonly<Record<string, string | undefined>>;

const given = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return value === undefined || value === '' ? undefined : value;
};

/** A secret from NAME or NAME_FILE (the file's content, trimmed); undefined when neither is set. */
export function secretFrom(values: Values, name: string): string | undefined {
  const direct = given(values, name);
  const file = given(values, `${name}_FILE`);
  if (direct !== undefined && file !== undefined)
    throw new ConfigError(`set ${name} or ${name}_FILE, not both`);
  if (direct !== undefined) return direct;
  if (file === undefined) return undefined;
  const text = readText(file, `${name}_FILE`).trim();
  if (text === '') throw new ConfigError(`${name}_FILE: ${file} is empty`);
  return text;
}

function readText(file: string, variable: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`);
  }
}

function caFrom(values: Values, variable: string, required: string): string {
  const file = given(values, variable);
  if (file === undefined) throw new ConfigError(`${variable}: not set (needed with ${required})`);
  const pem = readText(file, variable);
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(`${variable}: ${file} holds no PEM certificate`);
  return pem;
}

export function kafkaSecurityFrom(values: Values): KafkaSecurity | undefined {
  const username = given(values, 'HUB_KAFKA_USERNAME');
  if (username === undefined) {
    for (const name of ['HUB_KAFKA_PASSWORD', 'HUB_KAFKA_PASSWORD_FILE', 'HUB_KAFKA_CA_FILE'])
      if (given(values, name) !== undefined)
        throw new ConfigError(`HUB_KAFKA_USERNAME: not set, but ${name} is`);
    return undefined;
  }
  const password = secretFrom(values, 'HUB_KAFKA_PASSWORD');
  if (password === undefined)
    throw new ConfigError(
      'HUB_KAFKA_PASSWORD or HUB_KAFKA_PASSWORD_FILE: not set (needed with HUB_KAFKA_USERNAME)',
    );
  return { username, password, ca: caFrom(values, 'HUB_KAFKA_CA_FILE', 'HUB_KAFKA_USERNAME') };
}

export function redisSecurityFrom(values: Values, redisUrl: string): RedisSecurity | undefined {
  const url = new URL(redisUrl);
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const inUrl = url.password === '' ? undefined : decodeURIComponent(url.password);
  const fromEnv = secretFrom(values, 'HUB_REDIS_PASSWORD');
  if (inUrl !== undefined && fromEnv !== undefined)
    throw new ConfigError('REDIS_URL carries a password and HUB_REDIS_PASSWORD is set too: use one');
  const password = inUrl ?? fromEnv;
  if (username !== undefined && password === undefined)
    throw new ConfigError(
      `HUB_REDIS_PASSWORD or HUB_REDIS_PASSWORD_FILE: not set (REDIS_URL names user ${username})`,
    );
  const tls = url.protocol === 'rediss:';
  const caVariable = given(values, 'HUB_REDIS_CA_FILE') ? 'HUB_REDIS_CA_FILE' : 'HUB_KAFKA_CA_FILE';
  const ca = tls && given(values, caVariable) ? caFrom(values, caVariable, 'rediss://') : undefined;
  if (username === undefined && password === undefined && ca === undefined) return undefined;
  return {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(ca !== undefined ? { ca } : {}),
  };
}

/** A URL safe to print: its password, if any, replaced. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The kafkajs `ssl` and `sasl` settings for a secured client; nothing for a plaintext one. */
export function kafkajsSecurity(security: KafkaSecurity | undefined) {
  if (security === undefined) return {};
  return {
    ssl: { ca: [security.ca], rejectUnauthorized: true },
    sasl: {
      mechanism: 'scram-sha-512' as const,
      username: security.username,
      password: security.password,
    },
  };
}

/**
 * The URL to hand ioredis: without its user and password when they come as options (ioredis lets a
 * URL's user with no password override the options' password).
 */
export function redisConnectUrl(url: string, security: RedisSecurity | undefined): string {
  if (security === undefined) return url;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** The ioredis options for a user, a password and TLS (use with redisConnectUrl). */
export function ioredisSecurity(security: RedisSecurity | undefined) {
  if (security === undefined) return {};
  return {
    ...(security.username !== undefined ? { username: security.username } : {}),
    ...(security.password !== undefined ? { password: security.password } : {}),
    ...(security.ca !== undefined ? { tls: { ca: [security.ca], rejectUnauthorized: true } } : {}),
  };
}
