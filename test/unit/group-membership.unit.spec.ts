import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { HubError, StateLostError } from '../../shared/errors.js';
import { isGroupMembershipError, isRetriable } from '../../shared/runner/backoff.js';

// The chaos run found services stopping for good on a heartbeat answered "The coordinator is not aware
// of this member" (a session that timed out on a loaded machine): such an error means re-join, not stop.

const protocolError = (type: string, code: number, message: string) =>
  Object.assign(new KafkaJSProtocolError(message), { type, code, retriable: false });

describe('a lost group membership', () => {
  it.each([
    ['UNKNOWN_MEMBER_ID', 25, 'The coordinator is not aware of this member'],
    ['REBALANCE_IN_PROGRESS', 27, 'The group is rebalancing, so a rejoin is needed'],
    ['ILLEGAL_GENERATION', 22, 'Specified group generation id is not valid'],
  ])('%s is not retriable in place but is a membership error (re-join)', (type, code, message) => {
    const error = protocolError(type, code, message);
    expect(isRetriable(error)).toBe(false);
    expect(isGroupMembershipError(error)).toBe(true);
  });

  it('is found inside the error kafkajs throws once it gives up retrying (an offset commit, say)', () => {
    const cause = protocolError('UNKNOWN_MEMBER_ID', 25, 'The coordinator is not aware of this member');
    const wrapped = Object.assign(new KafkaJSNonRetriableError(cause), { cause });
    expect(isGroupMembershipError(wrapped)).toBe(true);
  });

  it('lost state, a bug or a broker away are not membership errors', () => {
    expect(isGroupMembershipError(new StateLostError('state of partition 1 is missing from Redis'))).toBe(
      false,
    );
    expect(isGroupMembershipError(new TypeError('x is undefined'))).toBe(false);
    expect(isGroupMembershipError(new HubError('bad config', { retriable: false }))).toBe(false);
    expect(isGroupMembershipError(new KafkaJSConnectionError('Connection error'))).toBe(false);
    expect(isGroupMembershipError(undefined)).toBe(false);
  });
});
