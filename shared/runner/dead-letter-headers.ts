import type { InvalidInput } from '../errors.js';

/**
 * The Kafka headers every dead letter carries beside its Avro value, named as Kafka Connect names its
 * dead-letter-queue headers (`errors.deadletterqueue.context.headers.enable`), so that kcat, Kafka UIs
 * and a Connect-aware consumer show where a message came from and why it was refused without the
 * registry or the dead-letter schema. Only the code, the field and the rule are written: never the
 * refused value, which may hold a national ID.
 */
export const DEAD_LETTER_HEADERS = {
  topic: '__connect.errors.topic',
  partition: '__connect.errors.partition',
  offset: '__connect.errors.offset',
  connector: '__connect.errors.connector.name',
  exceptionClass: '__connect.errors.exception.class.name',
  exceptionMessage: '__connect.errors.exception.message',
  code: '__hub.errors.code',
  field: '__hub.errors.field',
} as const;

/** Where the refused message was read, and by which service. */
export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly service: string;
}

/** Header values stay short: a Kafka UI shows them in one line. */
const MAX_MESSAGE = 1_000;

// An 18-character mainland ID (17 digits and a digit or X) anywhere in a text; a rule never holds one,
// and a header must not either, whatever a future rule says.
const NATIONAL_ID_SHAPE = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g;

/** `cn.medfund.hub.errors.<CODE>`: Connect names the exception's class; the hub's errors are codes. */
export const exceptionClassOf = (code: string): string => `cn.medfund.hub.errors.${code}`;

export function deadLetterHeaders(source: DeadLetterSource, error: InvalidInput): Record<string, string> {
  const text = `${error.code} at ${error.field}: ${error.rule}`.replace(NATIONAL_ID_SHAPE, '[national ID]');
  const h = DEAD_LETTER_HEADERS;
  return {
    [h.topic]: source.topic,
    [h.partition]: String(source.partition),
    [h.offset]: source.offset,
    [h.connector]: source.service,
    [h.exceptionClass]: exceptionClassOf(error.code),
    [h.exceptionMessage]: text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text,
    [h.code]: error.code,
    [h.field]: error.field,
  };
}
