import type avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import type { InvalidInput } from '../../shared/errors.js';
import { SCHEMA_RECORD_NAMES } from '../../shared/records.js';
import { topicValueSchema } from '../../shared/registry.js';
import { avroSamples } from '../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../support/config.js';
import { avroTypeOf, codecWith, framed } from './wire.js';

/**
 * What a dead letter says when an agency's bytes cannot be read: every case built byte by byte here and
 * decoded by the hub's own codec, with the registry answered from a table (no network).
 */

const topic = TOPICS.hospitalSettlement;
const HUB_ID = 41;
const hubType = avroTypeOf(topicValueSchema(topic));

/** The hub's own value schema with every decimal(18,2) written at another scale. */
const schemaWithScale = (scale: number): avsc.Type =>
  avroTypeOf(
    JSON.parse(
      JSON.stringify(topicValueSchema(topic)).replaceAll(
        '"precision":18,"scale":2',
        `"precision":18,"scale":${scale}`,
      ),
    ),
  );

const writers = new Map<number, () => avsc.Type>([
  [42, () => schemaWithScale(3)],
  [
    43,
    () =>
      avroTypeOf({
        type: 'record',
        name: 'Cents',
        fields: [
          {
            name: 'amount',
            type: { type: 'fixed', name: 'F', size: 8, logicalType: 'decimal', precision: 18, scale: 2 },
          },
        ],
      }),
  ],
]);

const codec = () => codecWith(topic, HUB_ID, writers);

const settlementBody = () =>
  hubType.toBuffer({ [SCHEMA_RECORD_NAMES['hospital-settlement']]: avroSamples['hospital-settlement'] });

async function refusal(bytes: Buffer | null): Promise<InvalidInput> {
  const result = await (await codec()).decode(topic, bytes);
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

const WIRE =
  'expected the Confluent wire format: magic byte 0x00, a 4-byte big-endian schema id, then the Avro body';

describe('NOT_AVRO says which framing arrived instead', () => {
  it.each([
    {
      what: 'a tombstone (null value)',
      bytes: null,
      rule: 'a tombstone (null value): the hub keeps every event and a null deletes nothing; to undo an event, publish its reversal or correction record',
    },
    { what: 'an empty value', bytes: Buffer.alloc(0), rule: `an empty value (0 bytes); ${WIRE}` },
    {
      what: 'JSON text',
      bytes: Buffer.from(' {"settlementId":"533100G0000012345678","nationalId":"11010519491231002X"}'),
      rule: `JSON text, not Avro: produce with an Avro serializer and the schema registry; ${WIRE}`,
    },
    {
      what: "an 8-byte schema id (Apicurio's default framing)",
      bytes: Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 7]), settlementBody()]),
      rule: `an 8-byte schema id (Apicurio's default framing), global id 7: the hub reads a 4-byte id; set apicurio.registry.as-confluent=true in the Apicurio serializer, or use Confluent's; ${WIRE}`,
      value: '7',
    },
    {
      what: 'Avro single-object encoding',
      bytes: Buffer.concat([Buffer.from([0xc3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]), settlementBody()]),
      rule: `Avro single-object encoding (0xc3 0x01 and a schema fingerprint), not the registry's framing; ${WIRE}`,
    },
    {
      what: 'a GUID framing (magic byte 1)',
      bytes: Buffer.concat([Buffer.from([0x01]), Buffer.alloc(16, 0xab), settlementBody()]),
      rule: `magic byte 0x01 (a schema GUID instead of an id): the hub reads magic byte 0x00 and a 4-byte schema id; ${WIRE}`,
      value: '0x01',
    },
    {
      what: 'plain Avro without the header (a reversal: its union index is 0x02)',
      bytes: hubType.toBuffer({
        [SCHEMA_RECORD_NAMES['hospital-settlement-reversal']]: avroSamples['hospital-settlement-reversal'],
      }),
      rule: `first byte 0x02 is not the magic byte 0x00: plain Avro without the registry's header, or another format (a schema id in Kafka headers is not read: the hub ignores headers); ${WIRE}`,
      value: '0x02',
    },
    {
      what: 'a header cut short',
      bytes: Buffer.from([0, 0, 0]),
      rule: `3 bytes: too short for the 5-byte header; ${WIRE}`,
      value: '3',
    },
  ])('$what', async ({ bytes, rule, value }) => {
    const error = await refusal(bytes);
    expect(error).toEqual({
      kind: 'invalid-input',
      code: 'NOT_AVRO',
      field: 'value',
      rule,
      ...(value === undefined ? {} : { value }),
    });
    // A JSON value may hold a national ID: nothing of it is echoed.
    expect(JSON.stringify(error)).not.toContain('11010519491231002X');
  });
});

describe('a body that does not decode says why', () => {
  it('truncated, at every length short of the record: said so, never a JavaScript error', async () => {
    const body = settlementBody();
    const c = await codec();
    const rules = new Set<string>();
    for (let length = 0; length < body.length; length++) {
      const result = await c.decode(topic, framed(HUB_ID, body.subarray(0, length)));
      if (result.ok) throw new Error(`a ${length}-byte prefix decoded`);
      expect(result.error.code).toBe('UNDECODABLE');
      rules.add(result.error.rule.replace(/the \d+-byte/, 'the N-byte'));
    }
    expect([...rules]).toEqual([
      'truncated: the N-byte Avro body ends before the record of schema id 41 does (a message cut short, or written with another schema)',
    ]);
  });

  it('bytes left over after the record', async () => {
    const error = await refusal(framed(HUB_ID, Buffer.concat([settlementBody(), Buffer.from([1, 2, 3])])));
    expect(error).toMatchObject({
      code: 'UNDECODABLE',
      field: 'value',
      rule: `the ${settlementBody().length + 3}-byte Avro body goes on after the record of schema id 41 ends (written with another schema than the id says)`,
    });
  });

  it('the whole record still decodes (the checks refuse nothing that is right)', async () => {
    const result = await (await codec()).decode(topic, framed(HUB_ID, settlementBody()));
    expect(result.ok && result.value.record).toBe('hospital-settlement');
  });
});

describe('a writer schema the hub cannot read names the field and the decimal', () => {
  it('amounts written at scale 3: the first field, how many more, and the scale the hub reads', async () => {
    const error = await refusal(framed(42, Buffer.from([0])));
    expect(error).toEqual({
      kind: 'invalid-input',
      code: 'INCOMPATIBLE_SCHEMA',
      field: 'HospitalSettlement.totalMedicalCost',
      // The two records of the topic hold 20 amounts (schemas/hospital-settlement*.avsc), all decimal(18,2).
      rule: 'schema id 42 writes HospitalSettlement.totalMedicalCost as decimal(18,3) (and 19 more); the hub reads it as decimal(18,2), money in yuan with exactly 2 decimals (fen): a decimal is read only at its own precision and scale',
      value: 'decimal(18,3)',
    });
  });

  it('a decimal on fixed: named, and not retried as if the registry were down', async () => {
    const error = await refusal(framed(43, Buffer.from([0])));
    expect(error).toEqual({
      kind: 'invalid-input',
      code: 'INCOMPATIBLE_SCHEMA',
      field: 'value',
      rule: 'schema id 43: decimal logical type: only the bytes representation is supported',
    });
  });

  it('an id the registry does not have', async () => {
    expect(await refusal(framed(99, Buffer.from([0])))).toMatchObject({
      code: 'UNKNOWN_SCHEMA_ID',
      value: '99',
    });
  });
});
