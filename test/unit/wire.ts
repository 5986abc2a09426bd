import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import { avroLogicalTypes } from '../../shared/avro.js';
import { TopicCodec } from '../../shared/registry.js';
import type { TopicSpec } from '../../shared/topics.js';

/** Bytes on the wire, built in the tests: the Confluent framing and the hub's codec with a registry from a table. */

/** The hub's Avro options (shared/registry.ts): its logical types, unions wrapped when needed. */
export const hubAvroOptions = () => ({
  logicalTypes: avroLogicalTypes,
  wrapUnions: 'auto' as const,
  assertLogicalTypes: true,
});

export const avroTypeOf = (schema: unknown): avsc.Type =>
  avsc.Type.forSchema(schema as avsc.Schema, hubAvroOptions());

/** Confluent framing: 0x00, the 4-byte big-endian schema id, the body. */
export function framed(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

/**
 * The hub's codec for one topic whose own schema has id `hubId`; the registry answers getSchema from
 * `writers` and 404 otherwise, as the real one does. No network.
 */
export async function codecWith(
  topic: TopicSpec,
  hubId: number,
  writers: ReadonlyMap<number, () => avsc.Type>,
): Promise<TopicCodec> {
  const registry = {
    getSchema: async (id: number) => {
      const writer = writers.get(id);
      if (writer === undefined) throw Object.assign(new Error('Schema not found'), { status: 404 });
      return writer();
    },
  } as unknown as SchemaRegistry;
  const codec = new TopicCodec(registry, 'http://registry.invalid', async () => hubId);
  await codec.prepare([topic]);
  return codec;
}
