import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avsc from 'avsc';
import {
  type AvroRecordSchema,
  avroLogicalTypes,
  DecimalType,
  LogicalTypeError,
  loadSchema,
} from './avro.js';
import type { Endpoints } from './config.js';
import { HubError, type InvalidInput, invalidInput, ok, type Result, refuse } from './errors.js';
import {
  RECORD_NAMESPACE,
  type RecordBySchemaName,
  SCHEMA_RECORD_NAMES,
  type SchemaName,
} from './records.js';
import { subjectFor, type TopicSpec, unexpectedRecord } from './topics.js';

/**
 * Avro on Kafka through the Confluent-compatible registry, in the Confluent wire format
 * (magic byte 0, 4-byte schema id, Avro binary). Ids are resolved once at start-up and every type
 * and resolver is built once per writer id (the registry client's own decode with a reader schema
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
  /** Per topic and writer schema id: how to read it as our reader type of the topic. */
  private readonly readers = new Map<string, Map<number, (bytes: Buffer) => unknown>>();

  constructor(
    private readonly registry: SchemaRegistry,
    private readonly registryUrl: string,
    /** How prepare() registers a topic's schema; a unit test passes its own ids. */
    private readonly register: (
      registryUrl: string,
      topic: TopicSpec,
    ) => Promise<number> = registerTopicSchema,
  ) {}

  /** Registers (or finds) each topic's schema; call once at start-up. */
  async prepare(topics: readonly TopicSpec[]): Promise<void> {
    for (const topic of topics) {
      if (this.writerIds.has(topic.name)) continue;
      const type = avsc.Type.forSchema(topicValueSchema(topic) as avsc.Schema, avroOptions());
      const id = await this.register(this.registryUrl, topic);
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
    // Framing and body are written into one scratch buffer, then copied out once.
    let end = type.encode(payload, this.scratch, HEADER_BYTES);
    if (end < 0) {
      this.scratch = Buffer.allocUnsafe(
        Math.max(2 * this.scratch.length, this.scratch.length - end + HEADER_BYTES),
      );
      end = type.encode(payload, this.scratch, HEADER_BYTES);
    }
    this.scratch.writeUInt8(0, 0);
    this.scratch.writeInt32BE(this.schemaId(topic), 1);
    const framed = Buffer.allocUnsafe(end);
    this.scratch.copy(framed, 0, 0, end);
    return framed;
  }

  private scratch = Buffer.allocUnsafe(64 * 1024);

  /**
   * `decode` without a promise when the writer schema is known already (every message after the first of
   * each schema id): the runner calls this per message and awaits `decode` only when it returns undefined.
   */
  decodeKnown(topic: TopicSpec, bytes: Buffer | null): Result<DecodedValue> | undefined {
    if (bytes === null || bytes.length < HEADER_BYTES || bytes[0] !== 0) return undefined;
    const schemaId = bytes.readInt32BE(1);
    const read = this.readers.get(topic.name)?.get(schemaId);
    if (read === undefined) return undefined;
    return this.read(topic, read, bytes, schemaId);
  }

  private read(
    topic: TopicSpec,
    read: (bytes: Buffer) => unknown,
    bytes: Buffer,
    schemaId: number,
  ): Result<DecodedValue> {
    let decoded: unknown;
    try {
      decoded = read(bytes.subarray(HEADER_BYTES));
    } catch (error) {
      return refuse(undecodable(schemaId, bytes.length - HEADER_BYTES, (error as Error).message));
    }
    return this.unwrap(topic, decoded, schemaId);
  }

  /**
   * Decodes a value read from `topic`. Bad bytes and unknown schemas are InvalidInput (dead letters);
   * a registry that does not answer throws a retriable HubError.
   */
  async decode(topic: TopicSpec, bytes: Buffer | null): Promise<Result<DecodedValue>> {
    if (bytes === null) return refuse(tombstone());
    const framing = wireFormatProblem(bytes);
    if (framing !== undefined) return refuse(framing);
    const schemaId = bytes.readInt32BE(1);
    const read = await this.readerFor(topic, schemaId);
    if (!read.ok) return read;
    return this.read(topic, read.value, bytes, schemaId);
  }

  private unwrap(topic: TopicSpec, decoded: unknown, schemaId: number): Result<DecodedValue> {
    if (topic.records.length === 1) {
      return ok({ record: topic.records[0], value: decoded, schemaId } as DecodedValue);
    }
    const [branch, value] = Object.entries(decoded as Record<string, unknown>)[0] ?? [];
    const record = branch === undefined ? undefined : schemaNameByFullName.get(branch);
    if (record === undefined || !topic.records.includes(record)) {
      return refuse(unexpectedRecord(topic, branch));
    }
    return ok({ record, value, schemaId } as DecodedValue);
  }

  private async readerFor(topic: TopicSpec, schemaId: number): Promise<Result<(bytes: Buffer) => unknown>> {
    const cached = this.readers.get(topic.name)?.get(schemaId);
    if (cached) return ok(cached);
    const reader = this.readerTypes.get(topic.name);
    if (!reader) throw new HubError(`codec not prepared for ${topic.name}`);
    let read: (bytes: Buffer) => unknown;
    if (schemaId === this.writerIds.get(topic.name)) {
      read = (bytes) => reader.fromBuffer(bytes);
    } else {
      const writer = await this.writerType(schemaId);
      if (!writer.ok) return writer;
      const decimals = decimalMismatch(reader, writer.value, schemaId);
      if (decimals !== undefined) return refuse(decimals);
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
    const ofTopic = this.readers.get(topic.name) ?? new Map<number, (bytes: Buffer) => unknown>();
    ofTopic.set(schemaId, read);
    this.readers.set(topic.name, ofTopic);
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
      if (error instanceof LogicalTypeError) {
        return refuse(
          invalidInput('INCOMPATIBLE_SCHEMA', 'value', `schema id ${schemaId}: ${error.message}`),
        );
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

// ---------------------------------------------------------------------------------------------
// What an agency can fix: the framing, a truncated body, a decimal at another scale

/** Confluent wire format: magic byte 0x00, a 4-byte big-endian schema id, then the Avro binary body. */
const HEADER_BYTES = 5;
const WIRE_FORMAT =
  'expected the Confluent wire format: magic byte 0x00, a 4-byte big-endian schema id, then the Avro body';

const notAvro = (rule: string, value?: string): InvalidInput =>
  invalidInput('NOT_AVRO', 'value', rule, value);

const tombstone = (): InvalidInput =>
  notAvro(
    'a tombstone (null value): the hub keeps every event and a null deletes nothing; to undo an event, publish its reversal or correction record',
  );

const hex = (byte: number | undefined): string => `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;

/** True for UTF-8 JSON text (an object or a list); never echoed, it may hold a national ID. */
function isJsonText(bytes: Buffer): boolean {
  const first = bytes.toString('utf8', 0, Math.min(bytes.length, 64)).trimStart()[0];
  if (first !== '{' && first !== '[') return false;
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a value is not in the Confluent wire format, in words a producer's developer can act on, or undefined
 * when the framing is right. Nothing of the value is quoted but its first bytes and lengths.
 */
export function wireFormatProblem(bytes: Buffer | null): InvalidInput | undefined {
  if (bytes === null) return tombstone();
  if (bytes.length === 0) return notAvro(`an empty value (0 bytes); ${WIRE_FORMAT}`);
  if (isJsonText(bytes)) {
    return notAvro(
      `JSON text, not Avro: produce with an Avro serializer and the schema registry; ${WIRE_FORMAT}`,
    );
  }
  const magic = bytes[0];
  if (magic === 0xc3 && bytes[1] === 0x01) {
    return notAvro(
      `Avro single-object encoding (0xc3 0x01 and a schema fingerprint), not the registry's framing; ${WIRE_FORMAT}`,
    );
  }
  if (magic === 0x01) {
    return notAvro(
      `magic byte 0x01 (a schema GUID instead of an id): the hub reads magic byte 0x00 and a 4-byte schema id; ${WIRE_FORMAT}`,
      hex(magic),
    );
  }
  if (magic !== 0x00) {
    return notAvro(
      `first byte ${hex(magic)} is not the magic byte 0x00: plain Avro without the registry's header, or another format (a schema id in Kafka headers is not read: the hub ignores headers); ${WIRE_FORMAT}`,
      hex(magic),
    );
  }
  if (bytes.length < HEADER_BYTES) {
    return notAvro(
      `${bytes.length} bytes: too short for the 5-byte header; ${WIRE_FORMAT}`,
      String(bytes.length),
    );
  }
  if (bytes.readInt32BE(1) === 0 && bytes.length >= 9 && bytes.readUInt32BE(5) !== 0) {
    // Registries number schemas from 1, so a 4-byte id of 0 followed by a number is the high half of an 8-byte id.
    return notAvro(
      `an 8-byte schema id (Apicurio's default framing), global id ${bytes.readUInt32BE(5)}: the hub reads a 4-byte id; set apicurio.registry.as-confluent=true in the Apicurio serializer, or use Confluent's; ${WIRE_FORMAT}`,
      String(bytes.readUInt32BE(5)),
    );
  }
  return undefined;
}

/** The body did not decode: say whether it was cut short or has bytes left over, not avsc's words alone. */
function undecodable(schemaId: number, bodyBytes: number, message: string): InvalidInput {
  const rule =
    message === 'truncated buffer'
      ? `truncated: the ${bodyBytes}-byte Avro body ends before the record of schema id ${schemaId} does (a message cut short, or written with another schema)`
      : message === 'trailing data'
        ? `the ${bodyBytes}-byte Avro body goes on after the record of schema id ${schemaId} ends (written with another schema than the id says)`
        : `Avro body does not match schema id ${schemaId}`;
  return invalidInput(
    'UNDECODABLE',
    'value',
    rule,
    message === 'truncated buffer' || message === 'trailing data' ? undefined : message,
  );
}

/** Every decimal in a type, by record and field path ("HospitalSettlement.hifobPay", "LedgerPosting.entries[].amount"). */
function decimalsOf(
  type: avsc.Type,
  path: string,
  out: Map<string, DecimalType>,
  within: Set<avsc.Type>,
): void {
  if (type instanceof DecimalType) {
    out.set(path, type);
    return;
  }
  // Only a recursive type can lead back to itself; a named type used twice is walked on each path.
  if (within.has(type)) return;
  within.add(type);
  if (type instanceof avsc.types.RecordType) {
    const at = path === '' ? (type.name ?? '').split('.').at(-1) : path;
    for (const field of type.fields) decimalsOf(field.type, `${at}.${field.name}`, out, within);
  } else if (type instanceof avsc.types.UnwrappedUnionType || type instanceof avsc.types.WrappedUnionType) {
    for (const branch of type.types) decimalsOf(branch, path, out, within);
  } else if (type instanceof avsc.types.ArrayType) {
    decimalsOf(type.itemsType, `${path}[]`, out, within);
  } else if (type instanceof avsc.types.MapType) {
    decimalsOf(type.valuesType, `${path}{}`, out, within);
  }
  within.delete(type);
}

/**
 * Avro reads a decimal only at its own precision and scale; avsc would say only "cannot read X as [union]".
 * Names the first amount the writer schema writes otherwise than the hub reads it, and how many more.
 */
export function decimalMismatch(
  reader: avsc.Type,
  writer: avsc.Type,
  schemaId: number,
): InvalidInput | undefined {
  const wanted = new Map<string, DecimalType>();
  const written = new Map<string, DecimalType>();
  decimalsOf(reader, '', wanted, new Set());
  decimalsOf(writer, '', written, new Set());
  const differ = [...written].filter(([path, w]) => {
    const r = wanted.get(path);
    return r !== undefined && (r.scale !== w.scale || r.precision !== w.precision);
  });
  const [first] = differ;
  if (first === undefined) return undefined;
  const [path, w] = first;
  const r = wanted.get(path) as DecimalType;
  const more = differ.length > 1 ? ` (and ${differ.length - 1} more)` : '';
  const money = r.scale === 2 ? ', money in yuan with exactly 2 decimals (fen)' : '';
  return invalidInput(
    'INCOMPATIBLE_SCHEMA',
    path,
    `schema id ${schemaId} writes ${path} as ${w.label}${more}; the hub reads it as ${r.label}${money}: a decimal is read only at its own precision and scale`,
    w.label,
  );
}
