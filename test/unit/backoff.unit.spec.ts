import {
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { CorruptStateError, HubError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { isProducerFenced, isRetriable, retryTransient } from '../../shared/runner/backoff.js';

/** kafkajs's retrier gives up with the error it wraps as the cause; its typings take no options. */
const nonRetriable = (error: Error) =>
  new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(error, {
    cause: error,
  });

describe('isRetriable: which errors the runner waits out', () => {
  it('waits out a broker away or moving, though kafkajs marks some of these not retriable', () => {
    // Seen in a broker restart: the group coordinator is not found for a while, then it is loading.
    // kafkajs's typings take no message for this one; its constructor needs one.
    const notFound = new (KafkaJSGroupCoordinatorNotFound as unknown as new (m: string) => Error)(
      'Failed to find group coordinator',
    );
    expect(isRetriable(notFound)).toBe(true);
    expect(isRetriable(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(true);
  });

  it('waits out a broker away that kafkajs rethrew as not retriable, with only the message kept', () => {
    // As seen in a broker restart: the connection error rethrown as a KafkaJSNonRetriableError.
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(isRetriable(new KafkaJSNonRetriableError(refused))).toBe(true);
    expect(isRetriable(new KafkaJSNonRetriableError('Invalid partition metadata'))).toBe(false);
  });

  it('does not wait out a broker answer that stays the same (authorization, a fenced producer)', () => {
    // kafkajs builds these from its error table; its typings take only the message.
    const denied = new KafkaJSProtocolError({
      type: 'TOPIC_AUTHORIZATION_FAILED',
      code: 29,
      retriable: false,
      message: 'Not authorized to access topics',
    } as unknown as Error);
    expect(isRetriable(denied)).toBe(false);
  });

  it('never waits out a programming error, and takes a HubError at its word', () => {
    expect(isRetriable(new TypeError('x is undefined'))).toBe(false);
    expect(isRetriable(new RangeError('bad'))).toBe(false);
    expect(isRetriable(new HubError('state lost'))).toBe(false);
  });

  it('never waits out corrupt state: a memo that is not JSON, or one a codec refused', () => {
    const notJson = (() => {
      try {
        JSON.parse('{"due":"12.');
      } catch (error) {
        return error;
      }
    })();
    expect(notJson).toBeInstanceOf(SyntaxError);
    expect(isRetriable(notJson)).toBe(false);
    expect(isRetriable(new CorruptStateError('state x: field memo is not JSON'))).toBe(false);
  });
});

describe('retryTransient: only I/O is waited out', () => {
  it('raises a SyntaxError from a corrupt memo at the first attempt, not retrying it forever', async () => {
    let attempts = 0;
    const step = async () => {
      attempts += 1;
      return JSON.parse('{"due":"12.') as unknown;
    };
    const log = createLogger('backoff-test', 'silent');
    await expect(
      retryTransient(step, { log, what: 'read memo', isRunning: () => true, maxDelayMs: 1 }),
    ).rejects.toThrow(SyntaxError);
    expect(attempts).toBe(1);
  });
});

describe('isProducerFenced: a newer owner of the partition took its transactional id', () => {
  const protocolError = (type: string, code: number) =>
    new KafkaJSProtocolError({ type, code, retriable: false, message: type } as unknown as Error);

  it("knows kafkajs's answer for an old epoch, also when wrapped, and the newer code by number", () => {
    expect(isProducerFenced(protocolError('INVALID_PRODUCER_EPOCH', 47))).toBe(true);
    const wrapped = protocolError('INVALID_PRODUCER_EPOCH', 47);
    expect(isProducerFenced(nonRetriable(wrapped))).toBe(true);
    // kafkajs has no name for code 90 (PRODUCER_FENCED).
    expect(isProducerFenced(protocolError('KAFKAJS_UNKNOWN_ERROR_CODE', 90))).toBe(true);
  });

  it('is not fooled by other answers of a transaction', () => {
    expect(isProducerFenced(protocolError('CONCURRENT_TRANSACTIONS', 51))).toBe(false);
    expect(isProducerFenced(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(
      false,
    );
    expect(isProducerFenced(new Error('INVALID_PRODUCER_EPOCH'))).toBe(false);
  });
});

describe('a consumer kafkajs stopped for good on a broker away is started again', () => {
  it("treats kafkajs's wrapped 'Failed to find group coordinator' as a broker away", () => {
    // What the consumer's CRASH event carried (restart: false) while the only broker restarted.
    const notFound = new (KafkaJSGroupCoordinatorNotFound as unknown as new (m: string) => Error)(
      'Failed to find group coordinator',
    );
    expect(isRetriable(nonRetriable(notFound))).toBe(true);
  });
});
