import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from '../errors.js';
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
      // Only I/O faults are worth waiting out; a HubError that says it is not retriable is a bug or bad config.
      if (!options.isRunning() || (error instanceof HubError && !error.retriable)) throw error;
      const delayMs = Math.min(maxDelayMs, 200 * 2 ** Math.min(attempt - 1, 10)) * (0.5 + Math.random() / 2);
      options.log.warn(
        {
          attempt,
          delayMs: Math.round(delayMs),
          err: error instanceof Error ? error.message : String(error),
        },
        `${options.what} failed; retrying`,
      );
      options.onRetry?.();
      await sleep(delayMs);
      await options.heartbeat?.().catch(() => {});
    }
  }
}
