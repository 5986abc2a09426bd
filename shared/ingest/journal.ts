import type { JournalOrigin, RecordBySchemaName } from '../records.js';
import type { Output, ParseContext } from '../runner/service.js';
import type { TopicSpec } from '../topics.js';

/**
 * What the ingest services publish: every accepted input becomes one journal record, keyed so that the
 * facts one decision depends on share a partition (shared/topics.ts, `journal`).
 */

/** The journal's record names. */
export type JournalRecordName = Extract<keyof RecordBySchemaName, `journal-${string}`>;

/** Where the fact was read: written into the record, so every posting names the message it came from. */
export function journalOrigin(context: ParseContext): JournalOrigin {
  return {
    topic: context.source.topic,
    partition: context.source.partition,
    offset: Number(context.source.offset),
    receivedAt: new Date(context.timestamp),
  };
}

/** One journal record as an output, under the key its decisions are taken by. */
export function journalOutput<N extends JournalRecordName>(
  journal: TopicSpec,
  record: N,
  key: string,
  value: RecordBySchemaName[N],
  partition?: number,
): Output {
  const output = { topic: journal, key, record, value } as Output;
  return partition === undefined ? output : { ...output, partition };
}
