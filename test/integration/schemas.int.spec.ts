import { describe, expect, it } from 'vitest';
import { registerTopicSchema, SchemaRegistrationError, topicValueSchema } from '../../shared/registry.js';
import { allTopics, type TopicSpec, topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import { stack, uniqueName } from '../support/stack.js';

const CONFIG = testConfig();
const TOPICS = topicsFor(CONFIG);
const ALL_TOPICS = allTopics(TOPICS);

// Every schema in schemas/ registers under its topic's subject, and the registry enforces how the
// contract may evolve (shared/topics.ts: FULL for the agencies' input topics, BACKWARD for the rest).

type RecordSchema = { name: string; fields: Array<{ name: string; type: unknown; default?: unknown }> };

/** A copy of a topic under a unique name, so the test has subjects of its own. */
const copyOf = (topic: TopicSpec): TopicSpec => ({ ...topic, name: uniqueName(topic.name) });

/** Registers `schema` as the next version of the topic's subject, as a producer's client would. */
async function registerNext(topic: TopicSpec, schema: unknown): Promise<Response> {
  return fetch(
    `${stack().schemaRegistryUrl}/subjects/${encodeURIComponent(`${topic.name}-value`)}/versions`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schemaType: 'AVRO', schema: JSON.stringify(schema) }),
    },
  );
}

/** The topic's value schema with `change` applied to the record named `record`. */
function evolved(topic: TopicSpec, record: string, change: (r: RecordSchema) => void): unknown {
  const schema = structuredClone(topicValueSchema(topic)) as RecordSchema | RecordSchema[];
  const records = Array.isArray(schema) ? schema : [schema];
  const target = records.find((r) => r.name === record);
  if (!target) throw new Error(`no record ${record}`);
  change(target);
  return schema;
}

describe('schema registration and evolution', () => {
  it('registers every topic value schema (hub topics create does the same)', async () => {
    for (const topic of ALL_TOPICS) {
      const id = await registerTopicSchema(stack().schemaRegistryUrl, copyOf(topic));
      expect(id, topic.name).toBeGreaterThan(0);
    }
  });

  it('an input topic (FULL): a new optional field is accepted, a removed required field is refused', async () => {
    const topic = copyOf(TOPICS.taxPremium);
    await registerTopicSchema(stack().schemaRegistryUrl, topic);
    const withNote = evolved(topic, 'PremiumCollected', (r) =>
      r.fields.push({ name: 'note', type: ['null', 'string'], default: null }),
    );
    expect((await registerNext(topic, withNote)).status).toBe(200);
    const withoutVoucher = evolved(topic, 'PremiumCollected', (r) => {
      r.fields = r.fields.filter((f) => f.name !== 'taxVoucherNo');
    });
    const refused = await registerNext(topic, withoutVoucher);
    expect(refused.status).toBe(409);
  });

  it('a topic the hub writes (BACKWARD): a new required field is refused', async () => {
    const topic = copyOf(TOPICS.ledger);
    await registerTopicSchema(stack().schemaRegistryUrl, topic);
    const withRequired = evolved(topic, 'LedgerPosting', (r) =>
      r.fields.push({ name: 'approvedBy', type: 'string' }),
    );
    expect((await registerNext(topic, withRequired)).status).toBe(409);
    const withOptional = evolved(topic, 'LedgerPosting', (r) =>
      r.fields.push({ name: 'approvedBy', type: ['null', 'string'], default: null }),
    );
    expect((await registerNext(topic, withOptional)).status).toBe(200);
  });

  it('the registration path turns a refusal into a SchemaRegistrationError naming the subject', async () => {
    const topic = copyOf(TOPICS.ledger);
    await registerTopicSchema(stack().schemaRegistryUrl, topic);
    // The same subject, now claimed by an unrelated record: incompatible.
    const other: TopicSpec = { ...topic, records: ['dead-letter'] };
    await expect(registerTopicSchema(stack().schemaRegistryUrl, other)).rejects.toThrow(
      SchemaRegistrationError,
    );
    await expect(registerTopicSchema(stack().schemaRegistryUrl, other)).rejects.toThrow(topic.name);
  });
});
