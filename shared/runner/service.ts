import type { Result } from '../errors.js';
import type { PseudonymKey } from '../identity.js';
import type { RecordBySchemaName, SchemaName } from '../records.js';
import type { DecodedValue } from '../registry.js';
import type { TopicSpec } from '../topics.js';

/**
 * What a service gives the runner: pure functions only. The runner does all I/O: it decodes, reads
 * the state the service names, calls `decide`, writes the state changes and the outputs, and commits
 * the consumed offsets, effectively once.
 */
export interface IngestService<Input> {
  /** Also the consumer group, the transactional-id prefix and the metrics label. */
  readonly name: string;
  readonly input: TopicSpec;
  readonly deadLetters: TopicSpec;
  /** Every topic `decide` may write to (their schemas are registered at start-up). */
  readonly outputs: readonly TopicSpec[];
  /** Validates a decoded value and replaces personal identifiers by pseudonyms. */
  parse(decoded: DecodedValue, context: ParseContext): Result<Input>;
  /** The id the source system gave the event: a second delivery with the same id changes nothing. */
  eventId(input: Input): string;
  /** The Redis hashes `decide` needs to read (and may write). */
  stateKeys(input: Input): readonly string[];
  /** The decision: outputs and state changes, or the precise reason the event is refused. */
  decide(input: Input, state: StateView, context: DecideContext): Result<Decision>;
}

export interface ParseContext {
  readonly pseudonymKey: PseudonymKey;
  /** The message's own timestamp as a date: pure code never reads the clock, so replays decide alike. */
  readonly receivedOn: string;
}

export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface DecideContext {
  readonly source: SourcePosition;
  readonly receivedOn: string;
}

/** A record to publish. `key` decides the partition (see the topic's `key` doc). */
export type Output = {
  [N in SchemaName]: { topic: TopicSpec; key: string; record: N; value: RecordBySchemaName[N] };
}[SchemaName];

/** Fields to set on a Redis hash (values are strings: money as "1234.50"). */
export interface StateWrite {
  readonly key: string;
  readonly fields: Readonly<Record<string, string>>;
}

export interface Decision {
  readonly outputs: readonly Output[];
  readonly writes: readonly StateWrite[];
}

/** The state of the keys a batch needs, as of this point in the batch. */
export interface StateView {
  hash(key: string): Readonly<Record<string, string>>;
}
