import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { decodeRecord, encodeRecord } from '../../../shared/avro.js';
import type { InvalidInput, Result } from '../../../shared/errors.js';
import { type NationalId, pseudonymFor, TEST_ONLY_PSEUDONYM_KEY } from '../../../shared/identity.js';
import type { DecideContext, Decided, Output, ParseContext } from '../../../shared/runner/service.js';
import type { TopicSpec } from '../../../shared/topics.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';

// What the three ingest services' unit tests share: contexts, the personal-data check, refusals and
// the journal records a decision publishes (each checked to survive its Avro schema unchanged).

/** The GB 11643-1999 published example ID (as in the fixtures): it must never appear in any output or refusal. */
export const MEMBER_ID = '11010519491231002X';
export const MEMBER = pseudonymFor(MEMBER_ID as NationalId, TEST_ONLY_PSEUDONYM_KEY);

/** The message's coordinates: journal records carry them as their origin. */
export function parseContextFor(
  topic: TopicSpec,
  partition: number,
  offset: string,
  receivedAt: string,
): ParseContext {
  return {
    pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
    receivedOn: receivedAt.slice(0, 10),
    source: { topic: topic.name, partition, offset },
    timestamp: Date.parse(receivedAt),
  };
}

/** Six journal partitions, as a notice's fan-out sees them. */
export function decideContextFor(context: ParseContext, journalPartitions = 6): DecideContext {
  return {
    source: context.source,
    receivedOn: context.receivedOn,
    partitionsOf: (topic) => {
      if (topic !== TOPICS.journal) throw new Error(`partitionsOf asked for ${topic.name}, not the journal`);
      return journalPartitions;
    },
  };
}

/** Neither the ID, its first 17 digits nor its lower-case form appears in what the service hands on. */
export function expectNoNationalId(value: unknown, ids: readonly string[] = [MEMBER_ID]): void {
  const text = JSON.stringify(value);
  for (const id of ids) {
    expect(text).not.toContain(id);
    expect(text).not.toContain(id.slice(0, 17));
    expect(text).not.toContain(id.toLowerCase());
  }
}

/** The refusal, which must name its code, field and rule, and never show a national ID. */
export function refusal<T>(result: Result<T>, ids: readonly string[] = [MEMBER_ID]): InvalidInput {
  expectNoNationalId(result, ids);
  if (result.ok) throw new Error('expected a refusal');
  expect(result.error.kind).toBe('invalid-input');
  expect(result.error.code).toMatch(/^[A-Z][A-Z_]+$/);
  expect(result.error.field.length).toBeGreaterThan(0);
  expect(result.error.rule.length).toBeGreaterThan(10);
  return result.error;
}

export function accepted<T>(result: Result<T>): T {
  expectNoNationalId(result);
  if (!result.ok)
    throw new Error(`expected the record to be accepted: ${result.error.code} at ${result.error.field}`);
  return result.value;
}

/** The decision's outputs: all on the journal, each writable under its schema and read back equal. */
export function journalOutputs(result: Result<Decided>): readonly Output[] {
  const outputs = accepted(result).outputs();
  for (const output of outputs) {
    expect(output.topic).toBe(TOPICS.journal);
    expect(TOPICS.journal.records).toContain(output.record);
    const roundTrip = decodeRecord(output.record, encodeRecord(output.record, output.value as never));
    // Through JSON: Money and Date compare as their exact text; field order is the schema's, not the value's.
    expect(JSON.parse(JSON.stringify(roundTrip))).toEqual(JSON.parse(JSON.stringify(output.value)));
  }
  expectNoNationalId(outputs);
  return outputs;
}

/**
 * An output as it goes on the wire: its key, its record and the SHA-256 of its Avro bytes, for tests that
 * pin what a fixed input gives (two runs agreeing shows nothing if both are wrong the same way).
 */
export const wireDigest = (output: Pick<Output, 'key' | 'record' | 'value'>): string =>
  `${output.key} ${output.record} ${createHash('sha256')
    .update(encodeRecord(output.record, output.value as never))
    .digest('hex')}`;

/** The decision's one journal output. */
export function onlyJournalOutput(result: Result<Decided>): Output {
  const outputs = journalOutputs(result);
  expect(outputs).toHaveLength(1);
  return outputs[0] as Output;
}
