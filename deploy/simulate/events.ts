/** The events a simulated year publishes: Avro records with their topic and key, or raw bytes. */
import type { RecordBySchemaName } from '../../shared/records.js';
import type { TopicSpec } from '../../shared/topics.js';
import type { PublishedKind } from './truth.js';

/** The records the simulator publishes: the input topics' records. */
export type InputSchemaName = Exclude<PublishedKind, 'raw-bytes'>;

/** One Avro record to publish, with its topic and key (shared/topics.ts documents each topic's key). */
export type SimRecordEvent = {
  [N in InputSchemaName]: {
    readonly topic: TopicSpec;
    readonly record: N;
    readonly key: string;
    readonly value: RecordBySchemaName[N];
  };
}[InputSchemaName];

/** Bytes that are not Avro at all, published as they are. */
export interface SimRawEvent {
  readonly topic: TopicSpec;
  readonly key: string;
  readonly bytes: Buffer;
}

export type SimEvent = SimRecordEvent | SimRawEvent;

export const isRawEvent = (event: SimEvent): event is SimRawEvent => 'bytes' in event;
