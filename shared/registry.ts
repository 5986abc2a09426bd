import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import { type AvroRecordSchema, avroLogicalTypes, loadSchema } from './avro.js';
import type { Endpoints } from './config.js';
import { HubError, type InvalidInput, invalidInput, ok, type Result, refuse } from './errors.js';
import {
  RECORD_NAMESPACE,
  type RecordBySchemaName,
  SCHEMA_RECORD_NAMES,
  type SchemaName,
} from './records.js';
import { subjectFor, type TopicSpec } from './topics.js';

/**
 * Avro on Kafka through the Confluent-compatible registry, in the Confluent wire format
 * (magic byte 0, 4-byte schema id, Avro binary). Ids are resolved once at start-up and every type
 * and resolver is built once per writer id (perf-notes.md: the client's decode with a reader schema
 * rebuilds the schema on every call).
 */

// A fresh object per call: avsc records every named type it builds in the options it is given.
const avroOptions = () => ({
  logicalTypes: avroLogicalTypes,
  wrapUnions: 'auto' as const,
  assertLogicalTypes: true,
});

export function createRegistry(endpoints: Endpoints): SchemaRegistry {
  return new SchemaRegistry(
    { host: endpoints.schemaRegistryUrl, retry: { retries: 3 } },
    { [SchemaType.AVRO]: avroOptions() },
  );
}

/**
 * The value schema of a topic: its one record, or a union of its records. Records repeat the shared
 * enums (each .avsc stands alone), so in a union a named type's second definition becomes a reference.
 */
export function topicValueSchema(topic: TopicSpec): object {
  const schemas = topic.records.map((name) => loadSchema(name));
  if (schemas.length === 1) return schemas[0] as AvroRecordSchema;
  const defined = new Set<string>();
  return schemas.map((schema) => referenceRepeatedNames(schema, defined, RECORD_NAMESPACE));
}

function referenceRepeatedNames(node: unknown, defined: Set<string>, namespace: string): unknown {
  if (Array.isArray(node)) return node.map((n) => referenceRepeatedNames(n, defined, namespace));
  if (typeof node !== 'object' || node === null) return node;
  const schema = node as Record<string, unknown>;
  const named =
    ['record', 'enum', 'fixed'].includes(schema.type as string) && typeof schema.name === 'string';
  let ns = namespace;
  if (named) {
    const name = schema.name as string;
    ns = typeof schema.namespace === 'string' ? schema.namespace : name.includes('.') ? ns : namespace;
    const fullName = name.includes('.') ? name : `${ns}.${name}`;
    if (defined.has(fullName)) return fullName;
    defined.add(fullName);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] =
      key === 'fields' || key === 'type' || key === 'items' || key === 'values'
        ? referenceRepeatedNames(value, defined, ns)
        : value;
  }
  return out;
}

const fullRecordName = (name: SchemaName) => SCHEMA_RECORD_NAMES[name];
const schemaNameByFullName = new Map(
  (Object.keys(SCHEMA_RECORD_NAMES) as SchemaName[]).map((name) => [fullRecordName(name), name]),
);

/** A decoded message value: which record it is and the record itself. */
export type DecodedValue = {
  [N in SchemaName]: { record: N; value: RecordBySchemaName[N]; schemaId: number };
}[SchemaName];

/** The registry's answer when it refuses a schema; carries the subject and the registry's reason. */
export class SchemaRegistrationError extends HubError {
  constructor(subject: string, reason: string) {
    super(`registry refused the schema of ${subject}: ${reason}`);
    this.name = 'SchemaRegistrationError';
  }
}

/**
 * Registers `<topic>-value` with the topic's compatibility (BACKWARD or FULL) and returns the schema id. Two plain calls to
 * the Confluent-compatible REST API: the client's `register()` insists on a named record, and our
 * event topics carry unions.
 */
export async function registerTopicSchema(registryUrl: string, topic: TopicSpec): Promise<number> {
  const subject = encodeURIComponent(subjectFor(topic));
  await registryCall(
    registryUrl,
    'PUT',
    `/config/${subject}`,
    { compatibility: topic.compatibility },
    subjectFor(topic),
  );
  const body = { schemaType: 'AVRO', schema: JSON.stringify(topicValueSchema(topic)) };
  const { id } = (await registryCall(
    registryUrl,
    'POST',
    `/subjects/${subject}/versions`,
    body,
    subjectFor(topic),
  )) as {
    id: number;
  };
  return id;
}

async function registryCall(
  base: string,
  method: string,
  path: string,
  body: object,
  subject: string,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new HubError(`schema registry at ${base} did not answer: ${(error as Error).message}`, {
      retriable: true,
      cause: error,
    });
  }
  const text = await response.text();
  if (response.status === 409 || response.status === 422) throw new SchemaRegistrationError(subject, text);
  if (!response.ok) {
    throw new HubError(`schema registry ${method} ${path}: HTTP ${response.status} ${text}`, {
      retriable: response.status >= 500,
    });
  }
  return JSON.parse(text) as unknown;
}

/** Encodes and decodes the values of a set of topics, after registering their schemas once. */
export class TopicCodec {
  private readonly writerIds = new Map<string, number>();
  private readonly readerTypes = new Map<string, avsc.Type>();
  /** Per writer schema id: how to read it as our reader type of the topic. */
  private readonly readers = new Map<string, (bytes: Buffer) => unknown>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly registryUrl: string,
  ) {}

  /** Registers (or finds) each topic's schema; call once at start-up. */
  async prepare(topics: readonly TopicSpec[]): Promise<void> {
    for (const topic of topics) {
      if (this.writerIds.has(topic.name)) continue;
      const type = avsc.Type.forSchema(topicValueSchema(topic) as avsc.Schema, avroOptions());
      const id = await registerTopicSchema(this.registryUrl, topic);
      this.readerTypes.set(topic.name, type);
      this.writerIds.set(topic.name, id);
    }
  }

  schemaId(topic: TopicSpec): number {
    const id = this.writerIds.get(topic.name);
    if (id === undefined) throw new HubError(`codec not prepared for ${topic.name}`);
    return id;
  }

  encode<N extends SchemaName>(topic: TopicSpec, record: N, value: RecordBySchemaName[N]): Buffer {
    const type = this.readerTypes.get(topic.name);
    if (!type) throw new HubError(`codec not prepared for ${topic.name}`);
    const payload = topic.records.length === 1 ? value : { [fullRecordName(record)]: value };
    const body = type.toBuffer(payload);
    const header = Buffer.alloc(5);
    header.writeUInt8(0, 0);
    header.writeInt32BE(this.schemaId(topic), 1);
    return Buffer.concat([header, body]);
  }

  /**
   * Decodes a value read from `topic`. Bad bytes and unknown schemas are InvalidInput (dead letters);
   * a registry that does not answer throws a retriable HubError.
   */
  async decode(topic: TopicSpec, bytes: Buffer | null): Promise<Result<DecodedValue>> {
    if (bytes === null || bytes.length < 6 || bytes.readUInt8(0) !== 0) {
      return refuse(
        invalidInput('NOT_AVRO', 'value', 'Confluent wire format: magic byte 0, schema id, Avro body'),
      );
    }
    const schemaId = bytes.readInt32BE(1);
    const read = await this.readerFor(topic, schemaId);
    if (!read.ok) return read;
    let decoded: unknown;
    try {
      decoded = read.value(bytes.subarray(5));
    } catch (error) {
      return refuse(
        invalidInput(
          'UNDECODABLE',
          'value',
          `Avro body does not match schema id ${schemaId}`,
          (error as Error).message,
        ),
      );
    }
    return this.unwrap(topic, decoded, schemaId);
  }

  private unwrap(topic: TopicSpec, decoded: unknown, schemaId: number): Result<DecodedValue> {
    if (topic.records.length === 1) {
      return ok({ record: topic.records[0], value: decoded, schemaId } as DecodedValue);
    }
    const [branch, value] = Object.entries(decoded as Record<string, unknown>)[0] ?? [];
    const record = branch === undefined ? undefined : schemaNameByFullName.get(branch);
    if (record === undefined || !topic.records.includes(record)) {
      return refuse(
        invalidInput(
          'UNEXPECTED_RECORD',
          'value',
          `${topic.name} carries ${topic.records.join(', ')}`,
          branch,
        ),
      );
    }
    return ok({ record, value, schemaId } as DecodedValue);
  }

  private async readerFor(topic: TopicSpec, schemaId: number): Promise<Result<(bytes: Buffer) => unknown>> {
    const cacheKey = `${topic.name}:${schemaId}`;
    const cached = this.readers.get(cacheKey);
    if (cached) return ok(cached);
    const reader = this.readerTypes.get(topic.name);
    if (!reader) throw new HubError(`codec not prepared for ${topic.name}`);
    let read: (bytes: Buffer) => unknown;
    if (schemaId === this.writerIds.get(topic.name)) {
      read = (bytes) => reader.fromBuffer(bytes);
    } else {
      const writer = await this.writerType(schemaId);
      if (!writer.ok) return writer;
      let resolver: avsc.Resolver;
      try {
        resolver = reader.createResolver(writer.value);
      } catch (error) {
        return refuse(
          invalidInput(
            'INCOMPATIBLE_SCHEMA',
            'value',
            `schema id ${schemaId} cannot be read as ${topic.name}`,
            (error as Error).message,
          ),
        );
      }
      read = (bytes) => reader.fromBuffer(bytes, resolver);
    }
    this.readers.set(cacheKey, read);
    return ok(read);
  }

  private async writerType(schemaId: number): Promise<Result<avsc.Type>> {
    try {
      return ok((await this.registry.getSchema(schemaId)) as unknown as avsc.Type);
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 404 || /not found/i.test((error as Error).message)) {
        return refuse(unknownSchema(schemaId));
      }
      throw new HubError(`registry did not answer for schema id ${schemaId}`, {
        retriable: true,
        cause: error,
      });
    }
  }
}

function unknownSchema(schemaId: number): InvalidInput {
  return invalidInput(
    'UNKNOWN_SCHEMA_ID',
    'value',
    'the schema id in the message must be registered',
    String(schemaId),
  );
}
