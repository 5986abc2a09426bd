import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createKafka, kafkaLogVerdict } from '../../shared/kafka.js';
import type { Logger } from '../../shared/logger.js';
import { retryTransient } from '../../shared/runner/backoff.js';

/**
 * Quiet logs (issue 12, item 6): kafkajs writes every retried broker answer at error level. The lines
 * below are copied from kafkajs 2.2.4's output during a broker restart and a busy demo run.
 */

/** A pino logger whose lines are kept, parsed. */
function capturing(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino<never>({ level: 'debug' }, sink), lines };
}

const response = (api: string, error: string) => [`Response ${api}(key: 10, version: 2)`, error] as const;

describe('kafkajs log levels', () => {
  it.each([
    [
      'CONCURRENT_TRANSACTIONS',
      ...response(
        'AddPartitionsToTxn',
        'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing',
      ),
    ],
    [
      'COORDINATOR_LOAD_IN_PROGRESS',
      ...response(
        'FindCoordinator',
        "The coordinator is loading and hence can't process requests for this group",
      ),
    ],
    ['NOT_COORDINATOR', ...response('Heartbeat', 'This is not the correct coordinator for this group')],
    ['COORDINATOR_NOT_AVAILABLE', ...response('FindCoordinator', 'The group coordinator is not available')],
    ['REBALANCE_IN_PROGRESS', ...response('Heartbeat', 'The group is rebalancing, so a rejoin is needed')],
    ['UNKNOWN_MEMBER_ID', 'The coordinator is not aware of this member, re-joining the group', undefined],
    [
      'NOT_LEADER_FOR_PARTITION',
      ...response('Produce', 'This server is not the leader for that topic-partition'),
    ],
  ])('a retried %s answer goes to debug and is counted', (answer, message, error) => {
    expect(kafkaLogVerdict(logLevel.ERROR, message, error)).toEqual({ level: 'debug', expected: answer });
  });

  it.each([
    'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:29092',
    'Connection error: connect ECONNREFUSED 127.0.0.1:29092',
    'Connection timeout',
  ])('a broker away is a warning, counted: %s', (message) => {
    expect(kafkaLogVerdict(logLevel.ERROR, message)).toEqual({ level: 'warn', expected: 'BROKER_AWAY' });
  });

  it('a failure that is not an expected answer stays an error', () => {
    expect(kafkaLogVerdict(logLevel.ERROR, ...response('Produce', 'Topic authorization failed'))).toEqual({
      level: 'error',
    });
    expect(kafkaLogVerdict(logLevel.ERROR, 'Crash: KafkaJSNonRetriableError: boom')).toEqual({
      level: 'error',
    });
    expect(kafkaLogVerdict(logLevel.WARN, 'Could not create topics')).toEqual({ level: 'warn' });
    expect(kafkaLogVerdict(logLevel.INFO, 'Starting')).toEqual({ level: 'info' });
  });

  it("creating the runner's producers writes no warning: the partitioner and the bounded retries are settled in code", () => {
    const { logger, lines } = capturing();
    const kafka = createKafka(
      {
        kafkaBrokers: ['127.0.0.1:1'],
        schemaRegistryUrl: 'http://127.0.0.1:1',
        redisUrl: 'redis://127.0.0.1:1',
      },
      'kafka-logs-unit',
      logger,
    );
    const previous = process.env.KAFKAJS_NO_PARTITIONER_WARNING;
    delete process.env.KAFKAJS_NO_PARTITIONER_WARNING;
    try {
      kafka.producer();
      kafka.producer({
        transactionalId: 't',
        idempotent: true,
        maxInFlightRequests: 1,
        retry: { retries: 30 },
      });
    } finally {
      if (previous !== undefined) process.env.KAFKAJS_NO_PARTITIONER_WARNING = previous;
    }
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    // The bounded-retries warning arrives, at debug (20).
    expect(
      lines.filter((l) => l.msg.includes('Limiting retries for the idempotent producer')).map((l) => l.level),
    ).toEqual([20]);
  });
});

describe("the runner's own retries", () => {
  const failing = (times: number, message: string) => {
    let calls = 0;
    return async () => {
      calls += 1;
      if (calls <= times) throw new Error(message);
      return calls;
    };
  };
  const concurrent =
    'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

  it('an expected broker answer is retried at debug for three attempts, then at warn', async () => {
    const { logger, lines } = capturing();
    const step = failing(4, concurrent);
    await retryTransient(step, {
      log: logger,
      what: 'commit transaction',
      isRunning: () => true,
      maxDelayMs: 5,
    });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [20, 'commit transaction failed; retrying'],
      [20, 'commit transaction failed; retrying'],
      [20, 'commit transaction failed; retrying'],
      [40, 'commit transaction failed; retrying'],
    ]);
  });

  it('any other I/O failure is a warning from the first attempt', async () => {
    const { logger, lines } = capturing();
    await retryTransient(failing(1, 'connect ECONNREFUSED 127.0.0.1:6379'), {
      log: logger,
      what: 'write state',
      isRunning: () => true,
      maxDelayMs: 5,
    });
    expect(lines.map((l) => l.level)).toEqual([40]);
  });
});
