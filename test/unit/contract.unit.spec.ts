import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument, CONTRACT_FILE } from '../../services/hub-cli/contract.js';
import { SCHEMA_RECORD_NAMES } from '../../shared/records.js';
import { topicValueSchema } from '../../shared/registry.js';
import { avroSamples } from '../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../support/config.js';
import { avroTypeOf, codecWith, framed } from './wire.js';

/**
 * schemas/asyncapi.json, the contract with the agencies: the committed file is what the generator gives now,
 * it validates with @asyncapi/parser, and what it and the integration guide say about the wire format holds
 * for the hub's own decoder.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The parts of the document the tests read. */
interface Contract {
  channels: Record<
    string,
    {
      address: string;
      description: string;
      messages: Record<string, unknown>;
      bindings: { kafka: { topicConfiguration: unknown } };
    }
  >;
  components: {
    messages: Record<string, { payload: unknown; description: string; bindings: { kafka: unknown } }>;
  };
}
const committed = () => JSON.parse(readFileSync(CONTRACT_FILE, 'utf8')) as Contract;
const avsc_ = (name: string) =>
  JSON.parse(readFileSync(`${ROOT}schemas/${name}.avsc`, 'utf8')) as { name: string };

describe('schemas/asyncapi.json', () => {
  it('is what `npm run contract` gives from the catalogue and the schemas now (run it after a change)', () => {
    expect(committed()).toEqual(asyncApiDocument());
  });

  it('validates with @asyncapi/parser: no error, no warning', async () => {
    const diagnostics = await new Parser().validate(readFileSync(CONTRACT_FILE, 'utf8'));
    const shown = diagnostics
      .filter((d) => d.severity <= 1)
      .map((d) => `${d.severity === 0 ? 'error' : 'warning'} ${d.code} at ${d.path.join('.')}: ${d.message}`);
    expect(shown).toEqual([]);
  }, 30_000);

  it('has a channel per topic, at its address in the default namespace, with partitions and config', () => {
    const { channels } = committed();
    expect(Object.keys(channels)).toEqual(Object.keys(TOPICS));
    expect(channels.hospitalSettlement).toMatchObject({
      address: 'medfund.hospital.settlement.v1',
      bindings: {
        kafka: {
          topic: 'medfund.hospital.settlement.v1',
          partitions: 6,
          // 30 days, the input topics' default retention (HUB_INPUT_RETENTION_DAYS, shared/config.ts)
          topicConfiguration: { 'cleanup.policy': ['delete'], 'retention.ms': 30 * 86_400_000 },
        },
      },
    });
    expect(channels.ledger?.bindings.kafka.topicConfiguration).toEqual({
      'cleanup.policy': ['delete'],
      'retention.ms': -1,
      'retention.bytes': -1,
    });
    expect(channels.taxPremium?.description).toContain('The prefix "medfund" is the hub\'s HUB_NAMESPACE');
  });

  it('has one message per record of a topic’s union, its payload the .avsc file as it is', () => {
    const doc = committed();
    expect(Object.keys(doc.channels.insurerPayout?.messages ?? {})).toEqual([
      'InsurerMonthlySettlement',
      'ManualReimbursement',
      'OperatingCost',
    ]);
    for (const name of ['hospital-settlement', 'hospital-settlement-reversal', 'dead-letter']) {
      const message = doc.components.messages[avsc_(name).name];
      expect(message?.payload).toEqual({
        schemaFormat: 'application/vnd.apache.avro+json;version=1.9.0',
        schema: avsc_(name),
      });
    }
    expect(doc.components.messages.HospitalSettlementReversal?.description).toContain(
      'On medfund.hospital.settlement.v1 it is branch 1 of the union HospitalSettlement | HospitalSettlementReversal.',
    );
  });

  it('states the key and the Confluent framing in each message binding', () => {
    const binding = committed().components.messages.PremiumCollected?.bindings.kafka;
    expect(binding).toEqual({
      key: { type: 'string', description: expect.stringMatching(/^UTF-8 text: the member's national ID/) },
      schemaIdLocation: 'payload',
      schemaIdPayloadEncoding: 'confluent',
      schemaLookupStrategy: 'TopicNameStrategy',
      bindingVersion: '0.5.0',
    });
  });

  it('is the same whatever HUB_NAMESPACE the generator runs under', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'services/hub-cli/write-contract.ts', '--check'],
      {
        cwd: ROOT,
        env: { ...process.env, HUB_NAMESPACE: 'another-hub' },
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 30_000);
});

describe('the wire format the integration guide describes, as the hub decodes it', () => {
  const topic = TOPICS.hospitalSettlement;
  const SUBJECT_ID = 7; // the union under medfund.hospital.settlement.v1-value
  const RECORD_ID = 8; // the record alone, as TopicRecordNameStrategy registers it
  const recordSchema = avsc_('hospital-settlement');
  const decode = async (bytes: Buffer) => {
    const codec = await codecWith(topic, SUBJECT_ID, new Map([[RECORD_ID, () => avroTypeOf(recordSchema)]]));
    const result = await codec.decode(topic, bytes);
    if (!result.ok) throw new Error(result.error.rule);
    return result.value;
  };
  const sample = avroSamples['hospital-settlement'];

  it("written with the subject's latest version (the union): the body starts with the branch index", async () => {
    const union = avroTypeOf(topicValueSchema(topic));
    const body = union.toBuffer({ [SCHEMA_RECORD_NAMES['hospital-settlement']]: sample });
    expect(body[0]).toBe(0); // branch 0, zigzag varint
    const decoded = await decode(framed(SUBJECT_ID, body));
    expect(decoded.record).toBe('hospital-settlement');
    expect(decoded.value).toMatchObject({ settlementId: sample.settlementId });
  });

  it('written with the record alone under its own id (TopicRecordNameStrategy): accepted too', async () => {
    const body = avroTypeOf(recordSchema).toBuffer(sample);
    const decoded = await decode(framed(RECORD_ID, body));
    expect(decoded).toMatchObject({ record: 'hospital-settlement', schemaId: RECORD_ID });
    expect(decoded.value).toMatchObject({ settlementId: sample.settlementId, visitId: sample.visitId });
  });

  it("the key's partition: kafkajs (the hub, hub dead-letters redrive) agrees with Java's murmur2 partitioner", () => {
    // Expected values from Apache Kafka 4.3.1's Java client: Utils.toPositive(Utils.murmur2(utf8(key))) % n.
    const java: [string, number, number][] = [
      ['11010519491231002X', 5, 2],
      ['533100', 4, 1],
      ['H41020000001', 0, 0],
    ];
    const partitioner = Partitioners.DefaultPartitioner();
    const partitions = (n: number) =>
      Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0 }));
    for (const [key, of6, of3] of java) {
      const on = (n: number) =>
        partitioner({ topic: 't', partitionMetadata: partitions(n) as never, message: { key, value: null } });
      expect([key, on(6), on(3)]).toEqual([key, of6, of3]);
    }
  });
});
