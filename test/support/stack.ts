import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Admin, type Consumer, Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import { inject } from 'vitest';
import { endpointsAs, principalEnvironment } from '../../deploy/local/secure.js';
import { SERVICE_NAMES } from '../../services/catalogue.js';
import { applyAcls, hubAcls } from '../../services/hub-cli/acl.js';
import { createTopics as createHubTopics } from '../../services/hub-cli/topics.js';
import { ADMIN_PRINCIPAL } from '../../shared/acl.js';
import type { Endpoints, HubConfig } from '../../shared/config.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { type RunnerOptions, type RunningService, startService } from '../../shared/runner/runner.js';
import type { Service } from '../../shared/runner/service.js';
import { ioredisSecurity, kafkajsSecurity, redisConnectUrl } from '../../shared/security.js';
import { allTopics, topicsFor } from '../../shared/topics.js';

/** The stack resolved by test/setup/stack.ts. */
export const stack = () => inject('stack');

/** A name no other test or run uses, so tests never see each other's topics or groups. */
export function uniqueName(prefix: string): string {
  return `test.${prefix}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Who runs as whom on a secured stack (the default): every hub service of the catalogue under its own
 * principal (its name), with only the ACLs and Redis keys the catalogue gives it; the tests' own clients,
 * which stand in for the agencies and for operators (producing inputs, reading outputs, creating topics,
 * `hub` commands), and services a test makes up, as the admin principal. On a plain stack nobody has
 * credentials.
 */
const CATALOGUE_PRINCIPALS = new Set(SERVICE_NAMES);
const principalFor = (service: string) => (CATALOGUE_PRINCIPALS.has(service) ? service : ADMIN_PRINCIPAL);

/** The stack's endpoints as `principal` sees them (the stack's own, admin, when it is plain). */
export function endpointsOf(principal: string): Endpoints {
  const { source: _, secretsDir, ...endpoints } = stack();
  if (endpoints.security?.kafka === undefined) return endpoints;
  if (secretsDir === undefined)
    throw new Error(
      "a secured stack from the environment, but no secrets directory: set HUB_TEST_SECRETS_DIR to the principals' <name>.password files",
    );
  return endpointsAs(endpoints, secretsDir, principal);
}

/**
 * The environment of a process that runs as `principal`: the endpoints, and on a secured stack its name,
 * password file, CA file and Redis user (paths, never secrets). For a spawned service or `hub` command.
 */
export function processEnvironment(principal: string): Record<string, string> {
  return principalEnvironment(stack(), stack().secretsDir, principal);
}

/** A spawned catalogue service's environment: its own principal. */
export const serviceEnvironment = (service: string) => processEnvironment(principalFor(service));

/** A `hub` command's environment, as the operator (admin) runs it. */
export const hubCommandEnvironment = () => processEnvironment(ADMIN_PRINCIPAL);

/** A client of the test itself (an agency, an operator), as admin on a secured stack. */
export function testKafka(clientId = 'int-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: stack().kafkaBrokers,
    ...kafkajsSecurity(stack().security?.kafka),
    logLevel: logLevel.NOTHING,
  });
}

/** The test's own Redis client, as admin on a secured stack. */
export function testRedis(): Redis {
  const security = stack().security?.redis;
  return new Redis(redisConnectUrl(stack().redisUrl, security), ioredisSecurity(security));
}

/** On a secured stack, every service's ACLs in the config's namespace (from the catalogue), visible once this returns. */
export async function applyNamespaceAcls(admin: Admin, config: HubConfig): Promise<void> {
  if (stack().security?.kafka !== undefined) await applyAcls(admin, hubAcls(config));
}

export async function createTopics(admin: Admin, topics: string[], numPartitions = 1): Promise<void> {
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions })),
    waitForLeaders: true,
  });
}

/**
 * Consumes a topic from the beginning until `done` says so or the time runs out; returns what came.
 * A timeout is not an error here: the caller's assertion says what was missing.
 */
export async function consumeUntil(
  consumer: Consumer,
  topic: string,
  done: (received: KafkaMessage[]) => boolean,
  timeoutMs = 20_000,
): Promise<KafkaMessage[]> {
  const received: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        received.push(message);
        if (done(received)) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return received;
}

/** Runs a service in this process against the test stack, in the config's namespace, with test settings; overrides win. */
export function startInProcess<I>(
  config: HubConfig,
  service: Service<I>,
  overrides: Partial<RunnerOptions> = {},
): Promise<RunningService> {
  return startService(service, {
    config,
    endpoints: endpointsOf(principalFor(service.name)),
    instanceId: uniqueName('i'),
    healthPort: 0,
    maxChunk: 1000,
    stateCacheEntries: 100_000,
    partitionsConcurrently: 1,
    sessionTimeoutMs: 10_000,
    pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
    logger: createLogger(service.name, 'error'),
    ...overrides,
  });
}

/** What a test of the hub's services needs: its topics created, their schemas registered, clients. */
export interface HubTestBed {
  readonly admin: Admin;
  readonly producer: Producer;
  readonly redis: Redis;
  readonly codec: TopicCodec;
  /** Services started in this process; stopped by close(). */
  readonly running: RunningService[];
  close(): Promise<void>;
}

/**
 * Creates every hub topic of the config's namespace, registers its schema and, on a secured stack, applies
 * its ACLs (as `hub topics create`). `kafka` is the test's own client (testKafka: admin).
 */
export async function hubTestBed(kafka: Kafka, config: HubConfig): Promise<HubTestBed> {
  const topics = allTopics(topicsFor(config));
  const admin = kafka.admin();
  await admin.connect();
  await createHubTopics(admin, topics, stack().kafkaBrokers.length);
  await applyNamespaceAcls(admin, config);
  const codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
  await codec.prepare(topics);
  const producer = kafka.producer();
  await producer.connect();
  const redis = testRedis();
  const running: RunningService[] = [];
  return {
    admin,
    producer,
    redis,
    codec,
    running,
    close: async () => {
      for (const service of running) await service.stop();
      await producer.disconnect();
      await admin.disconnect();
      redis.disconnect();
    },
  };
}

/** Waits until every service's group (in the config's namespace) has committed the end of every partition of its input. */
export async function caughtUp(
  config: HubConfig,
  services: ReadonlyArray<Pick<Service<unknown>, 'name' | 'input'>>,
  timeoutMs = 120_000,
): Promise<void> {
  const admin = testKafka('caught-up').admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let behind: string | undefined;
      for (const service of services) {
        const ends = await admin.fetchTopicOffsets(service.input.name);
        const [committed] = await admin.fetchOffsets({
          groupId: `${config.namespace}.${service.name}`,
          topics: [service.input.name],
        });
        for (const end of ends) {
          const done = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
          if (Number(end.high) > Math.max(done, 0)) behind = `${service.name} partition ${end.partition}`;
        }
      }
      if (behind === undefined) return;
      if (Date.now() > deadline) throw new Error(`${behind} did not catch up within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
