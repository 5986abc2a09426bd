/**
 * Errors are of two kinds, and callers ask one question (after kafkajs's errors.js):
 * - InvalidInput: the message is wrong. A value, never thrown across a service boundary; the
 *   runner turns it into a dead-letter record. Retrying cannot help.
 * - HubError with retriable=true: I/O failed (broker, registry, Redis). Thrown, retried with backoff.
 */

/** A precise reason a message was refused: which field, which rule, what value. */
export interface InvalidInput {
  readonly kind: 'invalid-input';
  /** Stable machine-readable code, e.g. ID_CHECKSUM, AMOUNT_NEGATIVE, UNKNOWN_REGION. */
  readonly code: string;
  /** Path of the offending field in the input, e.g. "member.nationalId" or "claim.inScopeAmount". */
  readonly field: string;
  /** The rule broken, with its article where there is one, e.g. "Dehong art. 8: paid by 20 April". */
  readonly rule: string;
  /** The offending value as text, already safe to publish (a national ID is never put here). */
  readonly value?: string;
}

export function invalidInput(code: string, field: string, rule: string, value?: string): InvalidInput {
  return value === undefined
    ? { kind: 'invalid-input', code, field, rule }
    : { kind: 'invalid-input', code, field, rule, value };
}

export function describeInvalidInput(e: InvalidInput): string {
  const value = e.value === undefined ? '' : ` (value: ${e.value})`;
  return `${e.code} at ${e.field}: ${e.rule}${value}`;
}

/** A result of a pure decision: either the value or the precise reason it was refused. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: InvalidInput };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const refuse = <T = never>(error: InvalidInput): Result<T> => ({ ok: false, error });

/** Thrown errors: configuration or I/O. `retriable` tells the runner whether to back off and try again. */
export class HubError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'HubError';
    this.retriable = options.retriable ?? false;
  }
}

/** Bad configuration: the process stops with one clear line. */
export class ConfigError extends HubError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'ConfigError';
  }
}

/** The hub's own state cannot be read: a bug or tampering, never input. Not retried: retrying reads the same bytes. */
export class CorruptStateError extends HubError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'CorruptStateError';
  }
}

/**
 * A partition's state in Redis is missing or belongs to another epoch (flushed, failed over to an empty
 * replica, rebuilt under a running service). The service must not decide against it: it stops and says
 * how to rebuild.
 */
export class StateLostError extends HubError {
  constructor(message: string) {
    super(message, { retriable: false });
    this.name = 'StateLostError';
  }
}
