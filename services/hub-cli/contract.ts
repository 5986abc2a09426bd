import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSchema } from '../../shared/avro.js';
import { DEFAULT_NAMESPACE, hubConfig } from '../../shared/config.js';
import { DEAD_LETTER_HEADERS } from '../../shared/runner/dead-letter-headers.js';
import { type TopicSpec, topicsFor } from '../../shared/topics.js';
import { serviceInputs } from './status.js';

/**
 * The hub's contract as an AsyncAPI 3 document, built from the topic catalogue (shared/topics.ts), the
 * schemas (schemas/*.avsc) and the services' own inputs: a topic or a record added there is in the document
 * once `npm run contract` runs again, and a unit test fails until it has. Nothing here is a hand-kept list.
 */

export const CONTRACT_FILE = fileURLToPath(new URL('../../schemas/asyncapi.json', import.meta.url));

const ASYNCAPI_VERSION = '3.1.0';
const KAFKA_BINDING = '0.5.0';
const AVRO_FORMAT = 'application/vnd.apache.avro+json;version=1.9.0';

const WIRE_FORMAT =
  'Every value is in the Confluent wire format: the magic byte 0x00, the schema id as 4 bytes big-endian, then the Avro binary encoding. ' +
  'The value schema registered under <topic>-value is the topic’s record, or for a topic of several records the union of them in the order listed here ' +
  '(written with that schema, the Avro binary starts with the union branch index). Money is an Avro decimal (bytes) at scale 2: yuan with exactly 2 decimals (fen); ' +
  'the ratios of the public disclosures are decimals at scale 4. ' +
  'The hub reads no headers, and a null value (tombstone) is dead-lettered. README.md, "Integration guide for agency developers", says how to produce.';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const packageVersion = (): string =>
  (
    JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
      version: string;
    }
  ).version;

/** Kafka's own value types for the AsyncAPI Kafka binding: cleanup.policy a list, sizes and times integers. */
function topicConfiguration(config: Readonly<Record<string, string>>): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [name, value] of Object.entries(config)) {
    out[name] = name === 'cleanup.policy' ? value.split(',') : /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** The record's short name from its .avsc file: the message id, e.g. HospitalSettlement. */
const messageId = (record: string): string => loadSchema(record).name.split('.').at(-1) as string;

const capitalised = (text: string): string => `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}`;
const camel = (text: string): string =>
  text.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** The Kafka Connect error headers every dead letter carries (shared/runner/dead-letter-headers.ts). */
const DEAD_LETTER_HEADER_SCHEMA: Json = {
  type: 'object',
  description:
    "Kafka Connect's dead-letter-queue header names, so kcat and Kafka UIs show the reason without the Avro schema; never the refused value",
  properties: Object.fromEntries(
    Object.values(DEAD_LETTER_HEADERS).map((name) => [name, { type: 'string' }]),
  ),
  required: Object.values(DEAD_LETTER_HEADERS),
};

function message(topic: TopicSpec, record: string): { [key: string]: Json } {
  const schema = loadSchema(record);
  const union =
    topic.records.length > 1
      ? ` On ${topic.name} it is branch ${topic.records.indexOf(record as never)} of the union ${topic.records.map(messageId).join(' | ')}.`
      : '';
  return {
    name: messageId(record),
    title: `${messageId(record)} (schemas/${record}.avsc)`,
    summary: schema.doc ?? '',
    description: `${WIRE_FORMAT}${union}`,
    contentType: 'application/octet-stream',
    ...(record === 'dead-letter' ? { headers: DEAD_LETTER_HEADER_SCHEMA } : {}),
    payload: { schemaFormat: AVRO_FORMAT, schema: schema as unknown as Json },
    bindings: {
      kafka: {
        key: { type: 'string', description: `UTF-8 text: ${topic.key}` },
        schemaIdLocation: 'payload',
        schemaIdPayloadEncoding: 'confluent',
        schemaLookupStrategy: 'TopicNameStrategy',
        bindingVersion: KAFKA_BINDING,
      },
    },
  };
}

/** The whole document, in a stable order (the catalogue's), so the committed file compares exactly. */
export function asyncApiDocument(): { [key: string]: Json } {
  // Addresses carry the default namespace, whatever HUB_NAMESPACE the generator runs under.
  const catalogue = topicsFor(hubConfig());
  const topics = Object.entries(catalogue) as [string, TopicSpec][];
  const channels: { [key: string]: Json } = {};
  const messages: { [key: string]: Json } = {};
  const operations: { [key: string]: Json } = {};
  const refs = (id: string, topic: TopicSpec) =>
    topic.records.map((record) => ({ $ref: `#/channels/${id}/messages/${messageId(record)}` }));

  for (const [id, topic] of topics) {
    for (const record of topic.records) messages[messageId(record)] ??= message(topic, record);
    channels[id] = {
      address: topic.name,
      title: topic.name,
      description: `${topic.doc}. Key: ${topic.key}. The prefix "${DEFAULT_NAMESPACE}" is the hub's HUB_NAMESPACE (--namespace): another hub on the same cluster uses its own. Value schema: subject ${topic.name}-value, compatibility ${topic.compatibility}.`,
      messages: Object.fromEntries(
        topic.records.map((record) => [
          messageId(record),
          { $ref: `#/components/messages/${messageId(record)}` },
        ]),
      ),
      bindings: {
        kafka: {
          topic: topic.name,
          partitions: topic.partitions,
          topicConfiguration: topicConfiguration(topic.config),
          bindingVersion: KAFKA_BINDING,
        },
      },
    };
    // BACKWARD is the catalogue's mark of a topic the hub writes (FULL: the agencies write it).
    if (topic.compatibility === 'BACKWARD') {
      operations[`hubSends${capitalised(id)}`] = {
        action: 'send',
        channel: { $ref: `#/channels/${id}` },
        summary: `the hub publishes ${topic.doc}`,
        messages: refs(id, topic),
      };
    }
  }
  for (const [service, input] of serviceInputs(catalogue)) {
    const entry = topics.find(([, topic]) => topic.name === input.name);
    if (entry === undefined)
      throw new Error(`${service} reads ${input.name}, which is not in the topic catalogue`);
    const [id, topic] = entry;
    operations[`${camel(service)}Receives${capitalised(id)}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      summary: `${service} consumes ${topic.name} as consumer group ${DEFAULT_NAMESPACE}.${service}`,
      messages: refs(id, topic),
    };
  }

  return {
    asyncapi: ASYNCAPI_VERSION,
    info: {
      title: 'medfund hub: 职工大额医疗费用补助 integration hub',
      version: packageVersion(),
      description: `The topics the agencies publish to (tax authority, hospitals, the insurer) and the topics the hub publishes, with their Avro records. ${WIRE_FORMAT} Generated from shared/topics.ts and schemas/*.avsc by \`npm run contract\`; do not edit by hand.`,
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: 'application/octet-stream',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description:
          'the local stack of `npm run stack:up` (HUB_KAFKA_PORT, HUB_REGISTRY_PORT); production brokers are the bureau’s',
        bindings: {
          kafka: {
            schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
            schemaRegistryVendor: 'confluent',
            bindingVersion: KAFKA_BINDING,
          },
        },
      },
    },
    channels,
    operations,
    components: { messages },
  };
}
