import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from '../errors.js';
import { expectedBrokerAnswer } from '../kafka.js';
import type { Logger } from '../logger.js';

export interface RetryOptions {
  readonly log: Logger;
  /** What is being tried, for the log line. */
  readonly what: string;
  /** Stop retrying (and rethrow) once this says no: the service is stopping or lost the partition. */
  readonly isRunning: () => boolean;
  /** Keeps the consumer's group membership alive while waiting. */
  readonly heartbeat?: () => Promise<void>;
  readonly onRetry?: () => void;
  readonly maxDelayMs?: number;
}

/** Attempts of an expected broker answer logged at debug before the retries are logged at warn. */
export const QUIET_ATTEMPTS = 3;

/**
 * Whether waiting can help: a HubError says so itself (as kafkajs's errors do with `retriable`); a
 * programming error (TypeError, SyntaxError, RangeError, ReferenceError) never; any other error comes
 * from a client library's I/O (a broker, the registry or Redis away) and is waited out.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof HubError) return error.retriable;
  if (
    error instanceof TypeError ||
    error instanceof SyntaxError ||
    error instanceof RangeError ||
    error instanceof ReferenceError
  )
    return false;
  // kafkajs gives up on these after its own few retries and marks them not retriable, but each is a
  // broker away or moving (a restart, a coordinator loading): for the hub, waiting helps.
  if (brokerAway(error)) return true;
  const flag = (error as { retriable?: unknown } | null)?.retriable;
  return flag !== false;
}

// kafkajs also rethrows a refused connection as a KafkaJSNonRetriableError with the original's message
// and no cause (a broker restart showed "Connection error: connect ECONNREFUSED"): known by its text.
// Only errors where nothing reached the broker: a request in doubt (a commit whose answer was lost)
// must not be sent again in a new transaction.
const BROKER_AWAY_TEXT =
  /^(Connection error: connect ECONNREFUSED|Connection timeout|Failed to connect to seed broker)/;

function brokerAway(error: unknown): boolean {
  return causeChain(error).some(
    ({ name, message }) =>
      typeof name === 'string' &&
      (BROKER_AWAY.has(name) ||
        (name.startsWith('KafkaJS') && typeof message === 'string' && BROKER_AWAY_TEXT.test(message))),
  );
}

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
}

/** An error and the causes it wraps (kafkajs wraps a protocol error it gave up on), at most five deep. */
function causeChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current = error as ErrorLike | null | undefined;
  while (current && chain.length < 5) {
    chain.push(current);
    current = current.cause as ErrorLike | null | undefined;
  }
  return chain;
}

const BROKER_AWAY = new Set([
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSBrokerNotFound',
]);

/** kafkajs's answers that the group moved on without this member: not retriable in place, but a re-join heals them. */
const GROUP_MEMBERSHIP_ERRORS = new Set([
  'UNKNOWN_MEMBER_ID',
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
]);

/**
 * True for an error that says this consumer lost its group membership (a heartbeat after the session
 * timed out, say on a loaded machine): the consumer must re-join, which kafkajs does when eachBatch
 * throws it. Not a reason to stop deciding: the chunk in hand was committed or not, and the next owner
 * of its partition carries on from the committed offset.
 */
export function isGroupMembershipError(error: unknown): boolean {
  return causeChain(error).some(({ type }) => typeof type === 'string' && GROUP_MEMBERSHIP_ERRORS.has(type));
}

/** kafkajs's answers that another producer with this transactional id started since: the partition moved on. */
const FENCED_ERRORS = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);
// kafkajs has no name for PRODUCER_FENCED (newer brokers' answer to newer request versions): its code.
const PRODUCER_FENCED_CODE = 90;

/**
 * True when this process's producer for a partition was fenced: a newer owner of the partition
 * initialised the partition's transactional id, which aborted or settled this process's transaction.
 * Not retriable with this producer, and not a reason to stop: the partition belongs to the other
 * process now.
 */
export function isProducerFenced(error: unknown): boolean {
  return causeChain(error).some(
    ({ type, code }) =>
      (typeof type === 'string' && FENCED_ERRORS.has(type)) || code === PRODUCER_FENCED_CODE,
  );
}

/**
 * Retries an I/O step until it succeeds: a broker, registry or Redis that is away is waited for,
 * never given up on, so nothing is lost. Safe because every step it wraps is idempotent.
 */
export async function retryTransient<T>(step: () => Promise<T>, options: RetryOptions): Promise<T> {
  const maxDelayMs = options.maxDelayMs ?? 15_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      // Only I/O faults are worth waiting out: corrupt state, a bug or bad configuration is raised at once.
      if (!options.isRunning() || !isRetriable(error)) throw error;
      const delayMs = Math.min(maxDelayMs, 200 * 2 ** Math.min(attempt - 1, 10)) * (0.5 + Math.random() / 2);
      const err = error instanceof Error ? error.message : String(error);
      // An expected broker answer (a transaction still finishing, a coordinator moving) is part of the
      // work: debug for the first attempts, a warning once it persists.
      const level = attempt <= QUIET_ATTEMPTS && expectedBrokerAnswer(err) !== undefined ? 'debug' : 'warn';
      options.log[level]({ attempt, delayMs: Math.round(delayMs), err }, `${options.what} failed; retrying`);
      options.onRetry?.();
      await sleep(delayMs);
      await options.heartbeat?.().catch(() => {});
    }
  }
}
