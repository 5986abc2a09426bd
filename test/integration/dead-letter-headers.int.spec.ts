import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { premiumIngestService } from '../../services/premium-ingest/adapter.js';
import { topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import {
  consumeUntil,
  type HubTestBed,
  hubTestBed,
  startInProcess,
  testKafka,
  uniqueName,
} from '../support/stack.js';

const CONFIG = testConfig();
const TOPICS = topicsFor(CONFIG);
const premiumIngest = premiumIngestService(TOPICS);

// Every dead letter carries Kafka Connect's error headers (issue 12, item 3): read here by a plain
// kafkajs consumer, without the registry or the dead-letter schema, as kcat or a Kafka UI would.

const kafka = testKafka('dead-letter-headers-int');
let bed: HubTestBed;

beforeAll(async () => {
  bed = await hubTestBed(kafka, CONFIG);
  bed.running.push(await startInProcess(CONFIG, premiumIngest));
});

afterAll(async () => {
  await bed?.close();
});

describe('dead-letter headers', () => {
  it("say where the refused message was read and why, in Connect's header names, without the national ID", async () => {
    const id = '11010519491231002X';
    const input = TOPICS.taxPremium.name;
    const [tombstone] = await bed.producer.send({
      topic: input,
      messages: [{ key: id, value: null, partition: 2 }],
    });
    const [json] = await bed.producer.send({
      topic: input,
      messages: [{ key: id, value: JSON.stringify({ nationalId: id, amount: '12.00' }), partition: 2 }],
    });

    const received = await consumeUntil(
      kafka.consumer({ groupId: uniqueName('dlq-reader') }),
      TOPICS.premiumDeadLetters.name,
      (messages) => messages.length >= 2,
      60_000,
    );
    expect(received).toHaveLength(2);
    const headers = received.map((m) =>
      Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
    );
    expect(headers[0]).toEqual({
      '__connect.errors.topic': input,
      '__connect.errors.partition': '2',
      '__connect.errors.offset': tombstone?.baseOffset,
      '__connect.errors.connector.name': 'premium-ingest',
      '__connect.errors.exception.class.name': 'cn.medfund.hub.errors.NOT_AVRO',
      '__connect.errors.exception.message': expect.stringMatching(
        /^NOT_AVRO at value: a tombstone \(null value\)/,
      ),
      '__hub.errors.code': 'NOT_AVRO',
      '__hub.errors.field': 'value',
    });
    expect(headers[1]).toMatchObject({
      '__connect.errors.offset': json?.baseOffset,
      '__connect.errors.exception.message': expect.stringMatching(/^NOT_AVRO at value: JSON text, not Avro/),
      '__hub.errors.code': 'NOT_AVRO',
    });
    for (const h of headers) expect(Object.values(h).join('\n')).not.toContain(id);
  });
});
