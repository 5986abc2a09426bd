/**
 * Errors are of two kinds, and callers ask one question (after kafkajs's errors.js):
 * - InvalidInput: the message is wrong. A value, never thrown across a service boundary; the
 *   runner turns it into a dead-letter record. Retrying cannot help.
 * - HubError with retriable=true: I/O failed (broker, registry, Redis). Thrown, retried with backoff.
 */

/*
 * Every code a refusal carries, by where it is raised: a union, so each is spelled in one place and a
 * mistyped or new code does not compile until it is listed here. Dead letters carry the code as text
 * (shared/runner/dead-letter-headers.ts) and operators count them by it: a code is added, never renamed.
 * The unions are types only, so shared/ names the services' codes without importing from services/.
 */

/** The runner, for a message whose decision threw (the dead letter names the cause). */
export type RunnerRefusal = 'CONFIGURATION' | 'INTERNAL_ERROR';

/** Reading a message's bytes: the Confluent frame, the writer's schema, the record on its topic. */
export type DecodeRefusal =
  | 'NOT_AVRO'
  | 'UNKNOWN_SCHEMA_ID'
  | 'UNDECODABLE'
  | 'INCOMPATIBLE_SCHEMA'
  | 'UNEXPECTED_RECORD';

/** A national ID (GB 11643-1999), shared/identity.ts. */
export type IdentityRefusal = 'ID_FORMAT' | 'ID_AREA_CODE' | 'ID_BIRTH_DATE' | 'ID_CHECKSUM';

/** The region policies and the working-day calendar, shared/policy/. */
export type PolicyRefusal =
  | 'UNKNOWN_REGION'
  | 'NO_POLICY_IN_FORCE'
  | 'COVER_YEAR'
  | 'HOLIDAYS_UNKNOWN'
  | 'PAID_BEFORE_RECEIVED';

/** The checks the ingest services share, shared/ingest/. */
export type IngestRefusal =
  | 'MISSING_EVENT_ID'
  | 'INVALID_DATE'
  | 'MONTH_FORMAT'
  | 'AMOUNT_PRECISION'
  | 'AMOUNT_NOT_POSITIVE'
  | 'AMOUNT_NEGATIVE'
  | 'AMOUNT_POSITIVE'
  | 'AMOUNT_ZERO'
  | 'CERTIFICATE_TYPE'
  | 'UNKNOWN_HOSPITAL'
  | 'REFERRAL_INCONSISTENT';

/** A `hub policy` request as JSON (shared/policy/input.ts, exactJson.ts, services/hub-cli/policy-requests.ts). */
export type PolicyRequestRefusal =
  | 'INVALID_JSON'
  | 'MISSING_FIELD'
  | 'NOT_AN_OBJECT'
  | 'NOT_A_BOOLEAN'
  | 'NOT_A_LIST'
  | 'NOT_ALLOWED'
  | 'INVALID_AMOUNT'
  | 'AMOUNT_NEGATIVE'
  | 'AMOUNT_NOT_TEXT'
  | 'INVALID_DATE'
  | 'INVALID_YEAR'
  | 'INVALID_REGION';

export type PremiumIngestRefusal = 'PAYER_TYPE_NOT_ACCEPTED' | 'NOTICE_BEFORE_WINDOW_CLOSED' | 'COVER_YEAR';

export type SettlementIngestRefusal =
  | 'INVALID_DATE'
  | 'INSURANCE_TYPE'
  | 'REVERSAL_MISMATCH'
  | 'SERVICE_DATE_OUTSIDE_COVER'
  | 'AMOUNT_INCONSISTENT';

export type PayoutIngestRefusal =
  | 'PAID_BEFORE_MONTH'
  | 'SERVICE_DATE_OUTSIDE_YEAR'
  | 'RECEIVED_BEFORE_SERVICE'
  | 'NO_SETTLEMENTS'
  | 'DUPLICATE_SETTLEMENT_ID';

export type AccountingRefusal =
  | 'PSEUDONYM_FORMAT'
  | 'DUPLICATE_EVENT'
  | 'UNKNOWN_PREMIUM_EVENT'
  | 'CORRECTION_BEFORE_PAYMENT'
  | 'CORRECTION_NO_CHANGE'
  | 'UNKNOWN_SETTLEMENT'
  | 'ALREADY_REVERSED'
  | 'REVERSAL_MISMATCH';

export type ReconcilerRefusal = 'INVALID_DATE' | 'POSTING_ID_EMPTY' | 'POSTING_INCOMPLETE';

export type HospitalReconcilerRefusal = 'CHANGE_INCOMPLETE';

export type DisclosureRefusal = 'INVALID_DATE' | 'PSEUDONYM_FORMAT' | 'REGION_FORMAT';

export type RefusalCode =
  | RunnerRefusal
  | DecodeRefusal
  | IdentityRefusal
  | PolicyRefusal
  | IngestRefusal
  | PolicyRequestRefusal
  | PremiumIngestRefusal
  | SettlementIngestRefusal
  | PayoutIngestRefusal
  | AccountingRefusal
  | ReconcilerRefusal
  | HospitalReconcilerRefusal
  | DisclosureRefusal;

/** A precise reason a message was refused: which field, which rule, what value. */
export interface InvalidInput {
  readonly kind: 'invalid-input';
  /** Stable machine-readable code, e.g. ID_CHECKSUM, AMOUNT_NEGATIVE, UNKNOWN_REGION: one of RefusalCode. */
  readonly code: RefusalCode;
  /** Path of the offending field in the input, e.g. "member.nationalId" or "claim.inScopeAmount". */
  readonly field: string;
  /** The rule broken, with its article where there is one, e.g. "Dehong art. 8: paid by 20 April". */
  readonly rule: string;
  /** The offending value as text, already safe to publish (a national ID is never put here). */
  readonly value?: string;
}

export function invalidInput(code: RefusalCode, field: string, rule: string, value?: string): InvalidInput {
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
