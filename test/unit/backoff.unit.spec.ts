import {
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSProtocolError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../shared/errors.js';
import { isRetriable } from '../../shared/runner/backoff.js';

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
});
