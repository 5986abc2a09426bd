import { describe, expect, it } from 'vitest';
import { invalidInput } from '../../shared/errors.js';
import { deadLetterHeaders } from '../../shared/runner/dead-letter-headers.js';

/** Kafka Connect's dead-letter headers on every dead letter (issue 12, item 3). */

const source = {
  topic: 'medfund.hospital.settlement.v1',
  partition: 3,
  offset: '1207',
  service: 'settlement-ingest',
};

describe('dead-letter headers', () => {
  it("carry Connect's names, the source position and the hub's code and field", () => {
    const headers = deadLetterHeaders(
      source,
      invalidInput('NOT_AVRO', 'value', 'a tombstone (null value): the hub keeps every event'),
    );
    expect(headers).toEqual({
      '__connect.errors.topic': 'medfund.hospital.settlement.v1',
      '__connect.errors.partition': '3',
      '__connect.errors.offset': '1207',
      '__connect.errors.connector.name': 'settlement-ingest',
      '__connect.errors.exception.class.name': 'cn.medfund.hub.errors.NOT_AVRO',
      '__connect.errors.exception.message':
        'NOT_AVRO at value: a tombstone (null value): the hub keeps every event',
      '__hub.errors.code': 'NOT_AVRO',
      '__hub.errors.field': 'value',
    });
  });

  it('never carry the refused value, and mask anything shaped like a national ID in the rule', () => {
    const id = '11010519491231002X';
    const headers = deadLetterHeaders(
      source,
      invalidInput('ID_CHECKSUM', 'member.nationalId', `check character of ${id} is wrong`, id),
    );
    const all = Object.values(headers).join('\n');
    expect(all).not.toContain(id);
    expect(all).not.toContain('110105194912310');
    expect(headers['__connect.errors.exception.message']).toBe(
      'ID_CHECKSUM at member.nationalId: check character of [national ID] is wrong',
    );
  });

  it('keep a long reason to 1000 characters', () => {
    const headers = deadLetterHeaders(source, invalidInput('INCOMPATIBLE_SCHEMA', 'value', 'x'.repeat(5000)));
    const message = headers['__connect.errors.exception.message'] as string;
    expect(message).toHaveLength(1000);
    expect(message.endsWith('…')).toBe(true);
  });
});
