import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Admin, type Consumer, Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import { inject } from 'vitest';
import { createTopics as createHubTopics } from '../../services/hub-cli/topics.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { createLogger } from '../../shared/logger.js';
import { NAMESPACE } from '../../shared/namespace.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { type RunnerOptions, type RunningService, startService } from '../../shared/runner/runner.js';
import type { Service } from '../../shared/runner/service.js';
import { ALL_TOPICS } from '../../shared/topics.js';

/** The stack resolved by test/setup/stack.ts. */
export const stack = () => inject('stack');

/** A name no other test or run uses, so tests never see each other's topics or groups. */
export function uniqueName(prefix: string): string {
  return `test.${prefix}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function testKafka(clientId = 'int-test'): Kafka {
  return new Kafka({ clientId, brokers: stack().kafkaBrokers, logLevel: logLevel.NOTHING });
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

/** Runs a service in this process against the test stack, with test settings; overrides win. */
export function startInProcess<I>(
  service: Service<I>,
  overrides: Partial<RunnerOptions> = {},
): Promise<RunningService> {
  return startService(service, {
    endpoints: stack(),
    instanceId: uniqueName('i'),
    healthPort: 0,
    maxChunk: 1000,
    stateCacheEntries: 100_000,
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

/** Creates every hub topic of this file's namespace and registers its schema (as `hub topics create`). */
export async function hubTestBed(kafka: Kafka): Promise<HubTestBed> {
  const admin = kafka.admin();
  await admin.connect();
  await createHubTopics(admin, ALL_TOPICS, stack().kafkaBrokers.length);
  const codec = new TopicCodec(createRegistry(stack()), stack().schemaRegistryUrl);
  await codec.prepare(ALL_TOPICS);
  const producer = kafka.producer();
  await producer.connect();
  const redis = new Redis(stack().redisUrl);
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

/** Waits until every service's group has committed the end of every partition of its input. */
export async function caughtUp(
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
          groupId: `${NAMESPACE}.${service.name}`,
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
