import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Consumer, KafkaMessage, Producer } from 'kafkajs';
import { type Endpoints, loadEndpoints } from '../config.js';
import { ConfigError, HubError, type InvalidInput, invalidInput } from '../errors.js';
import { loadPseudonymKey, type PseudonymKey } from '../identity.js';
import { createKafka } from '../kafka.js';
import { createLogger, type Logger } from '../logger.js';
import { NAMESPACE } from '../namespace.js';
import type { DeadLetter } from '../records.js';
import { createRedis } from '../redis.js';
import { createRegistry, TopicCodec } from '../registry.js';
import type { TopicSpec } from '../topics.js';
import { retryTransient } from './backoff.js';
import { RunnerMetrics, serveHealth } from './observability.js';
import type { IngestService, Output, SourcePosition } from './service.js';
import { applyBatch, BatchState, type Memo, memoKey, type PendingEvent } from './state.js';

/**
 * The one consume-decide-produce loop every ingest service runs (style.md: shared/runner).
 *
 * Per chunk of a partition's batch: decode through the registry, parse and decide with the service's
 * pure functions, then (1) one Lua script writes every state change together with a memo of each
 * event's encoded outputs, and (2) one Kafka transaction writes the outputs and the consumed offset.
 * A crash between (1) and (2) replays the chunk: the memos make it emit the very same records, and
 * the state is not applied twice. Poison input becomes a dead letter inside the same transaction.
 */

export interface RunnerOptions {
  readonly endpoints: Endpoints;
  /** Distinguishes instances of one service: each gets its own transactional id (kafkajs has no KIP-447). */
  readonly instanceId: string;
  /** 0 picks a free port (logged). */
  readonly healthPort: number;
  /** Messages per transaction; kafkajs's send is quadratic past ~1k per partition (perf-notes.md). */
  readonly maxChunk: number;
  /** How long an event's memo is kept: far longer than any replay after a crash. */
  readonly memoTtlSeconds: number;
  /** How long the group waits for a silent member (a killed one) before moving its partitions. */
  readonly sessionTimeoutMs: number;
  readonly pseudonymKey: PseudonymKey;
  readonly logger: Logger;
}

export function runnerOptionsFromEnvironment(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
): RunnerOptions {
  const integer = (name: string, fallback: number, min: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new ConfigError(`${name}: '${text}' is not an integer ≥ ${min}`);
    return value;
  };
  return {
    endpoints: loadEndpoints(env),
    instanceId: env.HUB_INSTANCE_ID || hostname(),
    healthPort: integer('HUB_HEALTH_PORT', 0, 0),
    maxChunk: integer('HUB_MAX_CHUNK', 1000, 1),
    memoTtlSeconds: integer('HUB_MEMO_TTL_SECONDS', 60 * 24 * 60 * 60, 60),
    sessionTimeoutMs: integer('HUB_SESSION_TIMEOUT_MS', 30_000, 6_000),
    pseudonymKey: loadPseudonymKey(env),
    logger: createLogger(service),
  };
}

export interface RunningService {
  readonly healthPort: number;
  readonly metrics: RunnerMetrics;
  isReady(): boolean;
  /** Finishes the batch in hand, commits it, leaves the group and closes every connection. */
  stop(): Promise<void>;
}

/** Entry point of a service's main.ts: start, then stop cleanly on SIGTERM or SIGINT. */
export async function runService<Input>(service: IngestService<Input>): Promise<void> {
  let running: RunningService;
  try {
    running = await startService(service, runnerOptionsFromEnvironment(service.name));
  } catch (error) {
    if (error instanceof HubError) {
      process.stderr.write(`${service.name}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const shutdown = (signal: string) => {
    process.stderr.write(`${service.name}: ${signal}: finishing the batch in hand and leaving the group\n`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

export async function startService<Input>(
  service: IngestService<Input>,
  options: RunnerOptions,
): Promise<RunningService> {
  const log = options.logger.child({ service: service.name, instance: options.instanceId });
  const metrics = new RunnerMetrics(service.name);
  const kafka = createKafka(options.endpoints, `${service.name}-${options.instanceId}`, log);
  const redis = createRedis(options.endpoints);
  redis.on('error', (error) => log.warn({ err: error.message }, 'redis connection problem'));
  const codec = new TopicCodec(createRegistry(options.endpoints), options.endpoints.schemaRegistryUrl);

  await requireTopics(kafka, [service.input, service.deadLetters, ...service.outputs]);
  await retryTransient(() => codec.prepare([service.input, service.deadLetters, ...service.outputs]), {
    log,
    what: 'register schemas',
    isRunning: () => true,
  });

  const groupId = `${NAMESPACE}.${service.name}`;
  const transactionalId = `${groupId}-${options.instanceId}`;
  const newProducer = () =>
    kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
      // The broker answers CONCURRENT_TRANSACTIONS while the previous transaction's markers are still
      // being written; a 200 ms first backoff would cap a partition near five transactions a second.
      retry: { initialRetryTime: 10, maxRetryTime: 2_000, retries: 30 },
    });
  let producer: Producer = newProducer();
  await producer.connect();

  const consumer: Consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(options.sessionTimeoutMs / 3)),
  });
  let joined = false;
  let stopping = false;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joined = true;
    log.info({ assignment: event.payload.memberAssignment }, 'joined consumer group');
  });
  consumer.on(consumer.events.CRASH, (event) => {
    joined = false;
    log.error({ err: event.payload.error.message, restart: event.payload.restart }, 'consumer crashed');
    if (!event.payload.restart && !stopping) process.exitCode = 1;
  });
  // A fetch that held only transaction markers (our inputs' producers may be transactional) never
  // reaches eachBatch, and with autoCommit off kafkajs never commits past it: the group would show a
  // lag of one marker per partition forever. No data lies in between, so a plain commit is safe.
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize !== 0 || payload.lastOffset === null || payload.lastOffset === undefined) return;
    const offset = (BigInt(payload.lastOffset) + 1n).toString();
    consumer
      .commitOffsets([{ topic: payload.topic, partition: payload.partition, offset }])
      .catch((error: Error) =>
        log.warn(
          { partition: payload.partition, err: error.message },
          'could not commit past transaction markers',
        ),
      );
  });
  await consumer.connect();
  await consumer.subscribe({ topic: service.input.name, fromBeginning: true });

  /** Replaces a producer that a failed transaction may have left fenced or in an error state. */
  const renewProducer = async () => {
    await producer.disconnect().catch(() => {});
    producer = newProducer();
    await producer.connect();
  };

  const processor = new ChunkProcessor(service, codec, redis, metrics, options);

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const partitionLog = log.child({ partition: batch.partition });
      for (let start = 0; start < batch.messages.length; start += options.maxChunk) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(start, start + options.maxChunk);
        const lastChunk = start + options.maxChunk >= batch.messages.length;
        const lastInChunk = chunk[chunk.length - 1]?.offset ?? batch.lastOffset();
        // The last chunk commits the batch's position, past any transaction markers it ended with.
        const position = BigInt(lastChunk ? batch.lastOffset() : lastInChunk) + 1n;
        const nextOffset = (
          position > BigInt(lastInChunk) + 1n ? position : BigInt(lastInChunk) + 1n
        ).toString();
        const startedAt = process.hrtime.bigint();
        const prepared = await retryTransient(
          () => processor.prepare(batch.topic, batch.partition, chunk, partitionLog),
          {
            log: partitionLog,
            what: 'decide and apply state',
            isRunning: () => isRunning() && !isStale(),
            heartbeat,
            onRetry: () => metrics.retries.inc({ stage: 'state' }),
          },
        );
        await retryTransient(
          async () => {
            try {
              await commitTransaction(producer, groupId, batch.topic, batch.partition, nextOffset, prepared);
            } catch (error) {
              await renewProducer();
              throw error;
            }
          },
          {
            log: partitionLog,
            what: 'commit transaction',
            isRunning: () => isRunning() && !isStale(),
            heartbeat,
            onRetry: () => metrics.retries.inc({ stage: 'transaction' }),
          },
        );
        processor.count(batch.topic, chunk.length, prepared);
        metrics.batchSeconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
        const last = chunk[chunk.length - 1];
        if (last) resolveOffset(last.offset);
        await heartbeat();
      }
      metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(batch.offsetLag()));
    },
  });

  const isReady = () => joined && !stopping && redis.status === 'ready';
  const server: Server = await serveHealth(options.healthPort, metrics, isReady);
  const healthPort = (server.address() as AddressInfo).port;
  log.info({ healthPort, input: service.input.name, transactionalId }, 'service started');

  return {
    healthPort,
    metrics,
    isReady,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      await consumer.disconnect();
      await producer.disconnect();
      await redis.quit().catch(() => redis.disconnect());
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.info('service stopped');
    },
  };
}

/** One chunk's outcome, ready to be committed. */
interface PreparedChunk {
  readonly records: ReadonlyArray<{ topic: string; key: string | null; value: Buffer }>;
  readonly deadLetters: ReadonlyArray<{ code: string }>;
  readonly duplicates: number;
}

async function commitTransaction(
  producer: Producer,
  groupId: string,
  topic: string,
  partition: number,
  nextOffset: string,
  prepared: PreparedChunk,
): Promise<void> {
  const byTopic = new Map<string, { key: string | null; value: Buffer }[]>();
  for (const record of prepared.records) {
    const list = byTopic.get(record.topic) ?? [];
    list.push({ key: record.key, value: record.value });
    byTopic.set(record.topic, list);
  }
  const transaction = await producer.transaction();
  try {
    if (byTopic.size > 0) {
      await transaction.sendBatch({
        topicMessages: [...byTopic].map(([name, messages]) => ({ topic: name, messages })),
      });
    }
    await transaction.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
    });
    await transaction.commit();
  } catch (error) {
    await transaction.abort().catch(() => {});
    throw error;
  }
}

type Item<Input> =
  | { kind: 'refused'; message: KafkaMessage; error: InvalidInput }
  | { kind: 'parsed'; message: KafkaMessage; input: Input; eventId: string; receivedOn: string };

/** Turns a chunk of messages into the records to commit, applying state along the way. */
class ChunkProcessor<Input> {
  constructor(
    private readonly service: IngestService<Input>,
    private readonly codec: TopicCodec,
    private readonly redis: Redis,
    private readonly metrics: RunnerMetrics,
    private readonly options: RunnerOptions,
  ) {}

  async prepare(
    topic: string,
    partition: number,
    chunk: KafkaMessage[],
    log: Logger,
  ): Promise<PreparedChunk> {
    const items = await this.parseAll(chunk);
    const parsed = items.filter((i): i is Extract<Item<Input>, { kind: 'parsed' }> => i.kind === 'parsed');
    const memoKeys = [...new Set(parsed.map((i) => memoKey(this.service.name, i.eventId)))];
    const stateKeys = [...new Set(parsed.flatMap((i) => this.safeStateKeys(i.input)))];
    const state = await BatchState.load(this.redis, memoKeys, stateKeys);

    const records: { topic: string; key: string | null; value: Buffer }[] = [];
    const deadLetters: { code: string }[] = [];
    const pending: PendingEvent[] = [];
    const seenInChunk = new Set<string>();
    let duplicates = 0;
    const refuse = (message: KafkaMessage, error: InvalidInput) => {
      records.push(this.deadLetter(topic, partition, message, error));
      deadLetters.push({ code: error.code });
      log.info(
        {
          offset: message.offset,
          code: error.code,
          field: error.field,
          rule: error.rule,
          value: error.value,
        },
        'dead-lettered',
      );
    };

    for (const item of items) {
      if (item.kind === 'refused') {
        refuse(item.message, item.error);
        continue;
      }
      const at = `${topic}/${partition}/${item.message.offset}`;
      const key = memoKey(this.service.name, item.eventId);
      const memo = state.memos.get(key);
      if (memo?.at === at) {
        // A replay of a chunk whose state was applied but whose transaction never committed.
        for (const [t, k, v] of memo.outputs)
          records.push({ topic: t, key: k, value: Buffer.from(v, 'base64') });
        continue;
      }
      if (memo || seenInChunk.has(key)) {
        duplicates += 1;
        refuse(
          item.message,
          invalidInput(
            'DUPLICATE_EVENT',
            'eventId',
            'an event id is applied once; this one was already',
            item.eventId,
          ),
        );
        continue;
      }
      const source: SourcePosition = { topic, partition, offset: item.message.offset };
      let outputs: Array<readonly [string, string, Buffer]>;
      let writes: PendingEvent['writes'];
      try {
        const decision = this.service.decide(item.input, state, { source, receivedOn: item.receivedOn });
        if (!decision.ok) {
          refuse(item.message, decision.error);
          continue;
        }
        outputs = decision.value.outputs.map((o) => [o.topic.name, o.key, this.encode(o)] as const);
        writes = decision.value.writes;
      } catch (error) {
        // A bug or a configuration gap must not block the partition: the message waits in the dead-letter topic.
        refuse(item.message, internalError(error));
        continue;
      }
      seenInChunk.add(key);
      state.stage(writes);
      const memoValue: Memo = {
        at,
        outputs: outputs.map(([t, k, v]) => [t, k, v.toString('base64')] as const),
      };
      pending.push({ memoKey: key, memo: memoValue, writes });
      for (const [t, k, v] of outputs) records.push({ topic: t, key: k, value: v });
    }

    await applyBatch(this.redis, pending, this.options.memoTtlSeconds);
    return { records, deadLetters, duplicates };
  }

  /** Counts a committed chunk in the metrics. */
  count(inputTopic: string, messages: number, prepared: PreparedChunk): void {
    this.metrics.messagesIn.inc({ topic: inputTopic }, messages);
    for (const record of prepared.records) this.metrics.messagesOut.inc({ topic: record.topic });
    for (const dead of prepared.deadLetters) this.metrics.deadLettered.inc({ code: dead.code });
    this.metrics.duplicates.inc(prepared.duplicates);
  }

  private async parseAll(chunk: KafkaMessage[]): Promise<Item<Input>[]> {
    const items: Item<Input>[] = [];
    for (const message of chunk) {
      const receivedOn = chinaDateOf(Number(message.timestamp));
      const decoded = await this.codec.decode(this.service.input, message.value);
      if (!decoded.ok) {
        items.push({ kind: 'refused', message, error: decoded.error });
        continue;
      }
      try {
        const parsed = this.service.parse(decoded.value, {
          pseudonymKey: this.options.pseudonymKey,
          receivedOn,
        });
        items.push(
          parsed.ok
            ? {
                kind: 'parsed',
                message,
                input: parsed.value,
                eventId: this.service.eventId(parsed.value),
                receivedOn,
              }
            : { kind: 'refused', message, error: parsed.error },
        );
      } catch (error) {
        items.push({ kind: 'refused', message, error: internalError(error) });
      }
    }
    return items;
  }

  private safeStateKeys(input: Input): readonly string[] {
    try {
      return this.service.stateKeys(input);
    } catch {
      return []; // decide will fail the same way and dead-letter the message
    }
  }

  private encode(output: Output): Buffer {
    return this.codec.encode(output.topic, output.record, output.value as never);
  }

  private deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    error: InvalidInput,
  ): { topic: string; key: string | null; value: Buffer } {
    const record: DeadLetter = {
      originalValue: message.value ?? Buffer.alloc(0),
      originalKey: message.key ?? null,
      topic,
      partition,
      offset: Number(message.offset),
      service: this.service.name,
      errorCode: error.code,
      field: error.field,
      rule: error.rule,
      value: error.value ?? null,
      failedAt: new Date(),
      attempt: 1,
    };
    return {
      topic: this.service.deadLetters.name,
      key: message.key?.toString() ?? null,
      value: this.codec.encode(this.service.deadLetters, 'dead-letter', record),
    };
  }
}

function internalError(error: unknown): InvalidInput {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ConfigError ? 'CONFIGURATION' : 'INTERNAL_ERROR';
  return invalidInput(
    code,
    'value',
    'the hub could not decide this message; redrive it once fixed',
    message.slice(0, 500),
  );
}

/** The calendar date in China (UTC+8, no daylight saving) of an instant: the agencies' business day. */
function chinaDateOf(epochMs: number): string {
  return new Date(epochMs + 8 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

/** Topics are created by `hub topics create`, never by a service: say so at start, in one line. */
async function requireTopics(
  kafka: ReturnType<typeof createKafka>,
  topics: readonly TopicSpec[],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name)).map((t) => t.name);
    if (missing.length > 0) {
      throw new ConfigError(`topics missing: ${missing.join(', ')}; run \`npx hub topics create\` first`);
    }
  } finally {
    await admin.disconnect();
  }
}
