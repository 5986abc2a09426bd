import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackDown, stackOptionsFromEnvironment, stackUp } from '../../deploy/local/launcher.js';
import { servicesFor } from '../../services/catalogue.js';
import { createDisclosureServer, listen } from '../../services/disclosure/server.js';
import { applyAcls } from '../../services/hub-cli/acl.js';
import { createTopics as createHubTopics } from '../../services/hub-cli/topics.js';
import { kafkaAcls } from '../../shared/acl.js';
import { type Endpoints, REPO_ROOT } from '../../shared/config.js';
import { allTopics, topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import { stack } from '../support/stack.js';

const CONFIG = testConfig();
const NAMESPACE = CONFIG.namespace;
const TOPICS = topicsFor(CONFIG);
const ALL_TOPICS = allTopics(TOPICS);
const SERVICES = servicesFor(TOPICS);

/**
 * Issue 10's "done when", against the real secured stack (`stack:up`, secured by default):
 * each principal is denied what it does not own (the broker's own error codes), bad credentials and
 * plaintext are refused, Redis users get NOPERM, a secret never reaches a log line, and the disclosure
 * server refuses what it does not serve. Against a plaintext local stack it starts a secured one of its own;
 * against other plaintext endpoints the Kafka and Redis parts are skipped, and say why.
 */
// The run's stack when it is secured; otherwise, with the local launcher, a secured stack of this file's
// own on ports of its own (19092-19093, 18081, Redis 16380), started here and stopped after it.
const runStack = stack();
const ownOptions =
  runStack.security?.kafka === undefined && runStack.source === 'local-stack'
    ? stackOptionsFromEnvironment(process.env, {
        secure: true,
        services: SERVICES,
        kafkaPort: 19092,
        registryPort: 18081,
        redisPort: 16380,
        stateDir: join(tmpdir(), `medfund-hub-secure-${process.pid}`),
        envFile: join(tmpdir(), `medfund-hub-secure-${process.pid}.env`),
        log: (line) => process.stderr.write(`[security stack] ${line}\n`),
      })
    : undefined;
const secured = runStack.security?.kafka !== undefined || ownOptions !== undefined;
if (!secured)
  process.stderr.write(
    `security.int.spec.ts: the stack (${runStack.source}) is not secured and this file cannot start one; skipping the Kafka and Redis checks (the local stack is secured by default: HUB_TEST_STACK=local)\n`,
  );
let secureEndpoints: Endpoints = runStack;
// Every principal's <name>.password and ca.pem: the run's stack's (test/setup/stack.ts), or this file's own.
let secrets = runStack.secretsDir ?? join(stackOptionsFromEnvironment().stateDir, 'secrets');
const sec = () => secureEndpoints;

beforeAll(async () => {
  if (!ownOptions) return;
  secureEndpoints = (await stackUp(ownOptions)).endpoints;
  secrets = join(ownOptions.stateDir, 'secrets');
}, 240_000);

afterAll(async () => {
  if (ownOptions) await stackDown(ownOptions);
}, 60_000);

const password = (principal: string) => readFileSync(join(secrets, `${principal}.password`), 'utf8').trim();
const ca = () => sec().security?.kafka?.ca ?? '';
const ns = NAMESPACE;
const topic = (name: keyof typeof TOPICS) => TOPICS[name].name;
const deadLetters = (service: string) => `${ns}.${service}.dead-letter.v1`;

// kafkajs wraps some broker errors (FindCoordinator's GROUP_AUTHORIZATION_FAILED becomes "group coordinator
// not found") but logs the broker's own error first: the codes are recovered from kafkajs's own table.
const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error') as {
  errorCodes: { type: string; code: number; message: string }[];
};
const logged: string[] = [];
const code = (type: string) => errorCodes.find((c) => c.type === type)?.code;

/** The broker error types an attempt met: thrown (with causes) or logged by kafkajs. */
function brokerErrors(error: unknown): string[] {
  const types = new Set<string>();
  const visit = (e: unknown) => {
    const x = e as { type?: string; cause?: unknown; errors?: unknown[] } | undefined;
    if (x === undefined || x === null) return;
    if (x.type) types.add(x.type);
    for (const inner of x.errors ?? []) visit(inner);
    visit(x.cause);
  };
  visit(error);
  for (const line of logged.splice(0)) {
    const known = errorCodes.find((c) => line.includes(c.message));
    if (known) types.add(known.type);
  }
  return [...types];
}

function kafkaAs(principal: string, overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: `security-test-${principal}`,
    brokers: sec().kafkaBrokers,
    ssl: { ca: [ca()] },
    sasl: { mechanism: 'scram-sha-512', username: principal, password: password(principal) },
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      if (typeof entry.log.error === 'string') logged.push(entry.log.error);
    },
    retry: { retries: 0 },
    connectionTimeout: 3000,
    ...overrides,
  });
}

/** The broker errors a consumer of `group` reading `topicName` meets (none: it joined). */
async function readErrors(principal: string, group: string, topicName: string): Promise<string[]> {
  logged.length = 0;
  const consumer = kafkaAs(principal).consumer({ groupId: group, retry: { retries: 0 } });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: topicName, fromBeginning: true });
    const outcome = new Promise<unknown>((resolve) => {
      consumer.on(consumer.events.CRASH, (event) => resolve(event.payload.error));
      consumer.on(consumer.events.GROUP_JOIN, () => resolve(undefined));
    });
    await consumer.run({ eachMessage: async () => {} });
    return brokerErrors(await Promise.race([outcome, new Promise((resolve) => setTimeout(resolve, 15_000))]));
  } catch (error) {
    return brokerErrors(error);
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

async function errorOf(run: () => Promise<unknown>): Promise<{ types: string[]; name: string }> {
  logged.length = 0;
  try {
    await run();
    return { types: brokerErrors(undefined), name: 'no error' };
  } catch (error) {
    return { types: brokerErrors(error), name: (error as Error).name };
  }
}

describe.skipIf(!secured)('a secured stack: Kafka', () => {
  beforeAll(async () => {
    const admin = kafkaAs('admin').admin();
    await admin.connect();
    try {
      await createHubTopics(admin, ALL_TOPICS, sec().kafkaBrokers.length);
      await applyAcls(
        admin,
        kafkaAcls({
          services: SERVICES,
          disclosureTopic: TOPICS.disclosure,
          namespace: ns,
        }),
      );
    } finally {
      await admin.disconnect();
    }
    // The broker's authorizer learns new ACLs from the metadata log a moment after createAcls returns.
    const probe = kafkaAs('premium-ingest').admin();
    await probe.connect();
    for (let tries = 0; ; tries++) {
      try {
        await probe.fetchTopicOffsets(topic('taxPremium'));
        break;
      } catch (error) {
        if (tries > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await probe.disconnect();
  });

  it('lets premium-ingest read its input with its group and use its transactional ids (the control)', async () => {
    expect(await readErrors('premium-ingest', `${ns}.premium-ingest`, topic('taxPremium'))).toEqual([]);
    const producer = kafkaAs('premium-ingest').producer({
      transactionalId: `${ns}.premium-ingest-test`,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 2 },
    });
    expect((await errorOf(() => producer.connect())).name).toBe('no error');
    await producer.disconnect();
  });

  it('denies premium-ingest the hospital topic (TOPIC_AUTHORIZATION_FAILED, 29)', async () => {
    expect(code('TOPIC_AUTHORIZATION_FAILED')).toBe(29);
    expect(await readErrors('premium-ingest', `${ns}.premium-ingest`, topic('hospitalSettlement'))).toContain(
      'TOPIC_AUTHORIZATION_FAILED',
    );
  });

  it('denies settlement-ingest writing the disclosure topic', async () => {
    const producer = kafkaAs('settlement-ingest').producer({ retry: { retries: 1 } });
    await producer.connect();
    const error = await errorOf(() =>
      producer.send({ topic: topic('disclosure'), messages: [{ key: 'x', value: 'x' }] }),
    );
    await producer.disconnect();
    expect(error.types).toContain('TOPIC_AUTHORIZATION_FAILED');
  });

  it('denies the disclosure principal every input and dead-letter topic', async () => {
    for (const t of [topic('taxPremium'), topic('hospitalSettlement'), topic('insurerPayout')])
      expect(await readErrors('disclosure', `${ns}.disclosure`, t)).toContain('TOPIC_AUTHORIZATION_FAILED');
    expect(await readErrors('disclosure', `${ns}.disclosure`, deadLetters('settlement-ingest'))).toContain(
      'TOPIC_AUTHORIZATION_FAILED',
    );
  });

  it("denies joining another service's group (GROUP_AUTHORIZATION_FAILED, 30)", async () => {
    expect(code('GROUP_AUTHORIZATION_FAILED')).toBe(30);
    expect(await readErrors('premium-ingest', `${ns}.settlement-ingest`, topic('taxPremium'))).toContain(
      'GROUP_AUTHORIZATION_FAILED',
    );
  });

  it("denies another service's transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53)", async () => {
    expect(code('TRANSACTIONAL_ID_AUTHORIZATION_FAILED')).toBe(53);
    const producer = kafkaAs('premium-ingest').producer({
      transactionalId: `${ns}.settlement-ingest-test`,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 1 },
    });
    const error = await errorOf(async () => {
      await producer.connect();
      const transaction = await producer.transaction();
      await transaction.send({ topic: topic('journal'), messages: [{ key: 'x', value: 'x' }] });
      await transaction.abort();
    });
    await producer.disconnect().catch(() => {});
    expect(error.types).toContain('TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
  });

  it('refuses a wrong password', async () => {
    const admin = kafkaAs('premium-ingest', {
      sasl: { mechanism: 'scram-sha-512', username: 'premium-ingest', password: 'not-the-password' },
    }).admin();
    const error = await errorOf(() => admin.connect());
    expect(error.name).toBe('KafkaJSSASLAuthenticationError');
  });

  it('refuses a client without credentials, and a plaintext connection to the TLS listener', async () => {
    const anonymously = async (ssl: KafkaConfig['ssl']) => {
      const admin = new Kafka({
        brokers: sec().kafkaBrokers,
        ...(ssl ? { ssl } : {}),
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 3000,
        requestTimeout: 3000,
      }).admin();
      const error = await errorOf(async () => {
        await admin.connect();
        await admin.listTopics();
      });
      await admin.disconnect().catch(() => {});
      return error.name;
    };
    expect(await anonymously({ ca: [ca()] })).not.toBe('no error');
    expect(await anonymously(undefined)).not.toBe('no error');
  });
});

describe.skipIf(!secured)('a secured stack: Redis', () => {
  const redisAs = (user: string) => {
    const url = new URL(sec().redisUrl);
    return new Redis({
      host: url.hostname,
      port: Number(url.port),
      username: user,
      password: password(user),
      ...(url.protocol === 'rediss:' ? { tls: { ca: [ca()] } } : {}),
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
  };
  const nopermOf = async (run: () => Promise<unknown>) => {
    try {
      await run();
      return 'allowed';
    } catch (error) {
      return (error as Error).message.split(' ')[0];
    }
  };

  it('lets each stateful service write its own keys only, and refuses FLUSHALL, KEYS and CONFIG to all', async () => {
    const own = (service: string) => `${ns}:${service}:{${service}.0}:security-test:x`;
    for (const service of SERVICES) {
      const redis = redisAs(service.name);
      await redis.connect();
      try {
        if (service.state !== undefined) expect(await redis.hset(own(service.name), 'f', '1')).toBe(1);
        else expect(await nopermOf(() => redis.hset(own(service.name), 'f', '1'))).toBe('NOPERM');
        const other = service.name === 'accounting' ? 'reconciler' : 'accounting';
        expect(await nopermOf(() => redis.hset(own(other), 'f', '1'))).toBe('NOPERM');
        expect(await nopermOf(() => redis.flushall())).toBe('NOPERM');
        expect(await nopermOf(() => redis.keys('*'))).toBe('NOPERM');
        expect(await nopermOf(() => redis.config('GET', '*'))).toBe('NOPERM');
      } finally {
        redis.disconnect();
      }
    }
  });

  it('lets the disclosure user read, but not write, the reconcilers’ counters', async () => {
    const redis = redisAs('disclosure');
    await redis.connect();
    try {
      const key = `${ns}:reconciler:{reconciler.0}:counters:security-test`;
      expect(await redis.hgetall(key)).toEqual({});
      expect(await nopermOf(() => redis.hset(key, 'f', '1'))).toBe('NOPERM');
    } finally {
      redis.disconnect();
    }
  });
});

/** Runs a service's main.ts for a while with `env` and returns everything it printed, and its exit code. */
function runFor(
  service: string,
  env: Record<string, string>,
  ms: number,
): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${service}/main.ts`], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HUB_PSEUDONYM_KEY: process.env.HUB_PSEUDONYM_KEY ?? '',
        HUB_NAMESPACE: ns,
        LOG_LEVEL: 'debug',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}

describe.skipIf(!secured)('a secured service process', () => {
  const base = () => ({
    KAFKA_BROKERS: sec().kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: sec().schemaRegistryUrl,
    REDIS_URL: sec().redisUrl.replace('//admin@', '//accounting@'),
    HUB_KAFKA_USERNAME: 'accounting',
    HUB_KAFKA_CA_FILE: join(secrets, 'ca.pem'),
    HUB_REDIS_CA_FILE: join(secrets, 'ca.pem'),
    HUB_REDIS_PASSWORD_FILE: join(secrets, 'accounting.password'),
  });

  it('stops with one line naming the missing secret', async () => {
    const { out, code } = await runFor('accounting', base(), 20_000);
    expect(code).toBe(1);
    expect(out.trimEnd().split('\n')).toEqual([
      'accounting: HUB_KAFKA_PASSWORD or HUB_KAFKA_PASSWORD_FILE: not set (needed with HUB_KAFKA_USERNAME)',
    ]);
  });

  it('never prints its secrets, running or refused', async () => {
    const secret = password('accounting');
    const running = await runFor('accounting', { ...base(), HUB_KAFKA_PASSWORD: secret }, 12_000);
    expect(running.out).toContain('service started');
    const refused = await runFor(
      'accounting',
      {
        ...base(),
        HUB_KAFKA_PASSWORD: `${secret}-wrong`,
        HUB_REDIS_PASSWORD_FILE: '',
        HUB_REDIS_PASSWORD: `${secret}-wrong`,
      },
      12_000,
    );
    for (const out of [running.out, refused.out]) {
      expect(out).not.toContain(secret);
    }
    expect(refused.out).not.toBe('');
  }, 60_000);
});

describe('the disclosure server refuses what it does not serve', () => {
  let port = 0;
  const server = createDisclosureServer({
    source: { disclosures: () => [], isReady: () => true },
    key: { publicKeyPem: '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n', keyId: 'test' },
    threshold: 10,
  });
  beforeAll(async () => {
    port = await listen(server, 0, '127.0.0.1');
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      });
      req.on('error', reject);
      req.end(body);
    });

  it('answers GET on the page with strict security headers', async () => {
    const res = await call('GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect((server.address() as AddressInfo).address).toBe('127.0.0.1');
  });

  it('refuses POST, an unknown path, `..` and oversized requests', async () => {
    expect((await call('POST', '/disclosures.json', { 'content-length': '0' })).status).toBe(405);
    expect((await call('PUT', '/')).status).toBe(405);
    expect((await call('GET', '/etc/passwd')).status).toBe(404);
    expect((await call('GET', '/../etc/passwd')).status).toBe(400);
    expect((await call('GET', '/regions/%2e%2e/x')).status).toBe(400);
    expect((await call('GET', `/disclosures.json?region=${'1'.repeat(2000)}`)).status).toBe(414);
    expect((await call('GET', '/', { 'x-big': 'a'.repeat(16_000) })).status).toBe(431);
    expect((await call('GET', '/', { 'content-length': '5' }, 'hello')).status).toBe(413);
  });
});
