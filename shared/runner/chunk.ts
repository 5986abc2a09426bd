import type { KafkaMessage } from 'kafkajs';
import { ConfigError, type InvalidInput, invalidInput } from '../errors.js';
import { chinaDateOf } from '../policy/dates.js';
import type { DeadLetter } from '../records.js';
import type { RedisClient } from '../redis.js';
import type { TopicCodec } from '../registry.js';
import type { TopicSpec } from '../topics.js';
import { changelogRecords } from './changelog.js';
import { deadLetterHeaders } from './dead-letter-headers.js';
import type { RunnerMetrics } from './observability.js';
import { NO_STATE_WRITE, type PartitionState, type StateWrite } from './partition-state.js';
import {
  type DecideContext,
  type Decided,
  type EntityRef,
  NO_STATE,
  type ParseContext,
  type Service,
  type SourcePosition,
} from './service.js';

/** A record ready for the chunk's transaction. */
export interface PreparedRecord {
  readonly topic: string;
  readonly key: string | null;
  /** null: a tombstone (a changelog field deleted). */
  readonly value: Buffer | null;
  readonly partition?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One chunk's outcome: what to commit, and the entities it changed (written once it is committed). */
export interface PreparedChunk {
  readonly records: readonly PreparedRecord[];
  readonly deadLetters: ReadonlyArray<{ code: string }>;
  /** The entities the chunk changed: on the changelog in `records` (decide), written to Redis once committed. */
  readonly stateWrite: StateWrite;
}

/** A decision whose outputs a later one with the same `latest` may replace (Decided.latest). */
interface LatestEntry {
  readonly latest: string;
  readonly decided: Decided;
  readonly message: KafkaMessage;
}

type Item<Input> =
  | { kind: 'refused'; message: KafkaMessage; error: InvalidInput }
  | { kind: 'parsed'; message: KafkaMessage; input: Input; receivedOn: string };

/**
 * `decide` publishes: its outputs and dead letters are records. `replay` rebuilds state from records an
 * earlier owner already committed: decisions are applied to the entities and nothing is encoded.
 */
export type ChunkMode = 'decide' | 'replay';

// An input may name entities listed in another entity (a notice and the members it releases).
const MAX_LOAD_ROUNDS = 4;

/** Turns a chunk of messages into records to commit, deciding each against the partition's entities. */
export class ChunkProcessor<Input> {
  constructor(
    private readonly service: Service<Input>,
    private readonly codec: TopicCodec,
    private readonly redis: RedisClient | undefined,
    private readonly options: { readonly pseudonymKey: ParseContext['pseudonymKey'] },
    private readonly partitionsOf: (topic: TopicSpec) => number,
  ) {}

  async prepare(
    topic: string,
    partition: number,
    chunk: readonly KafkaMessage[],
    state: PartitionState | undefined,
    mode: ChunkMode,
  ): Promise<PreparedChunk> {
    const items = await this.parseAll(topic, partition, chunk);
    const work = state?.work();
    if (state && this.redis) await this.loadEntities(state, items);

    // A decision with `latest` keeps its place, rendered at the end unless a later one replaces it.
    const entries: Array<PreparedRecord | LatestEntry> = [];
    const deadLetters: { code: string }[] = [];
    const refuse = (message: KafkaMessage, error: InvalidInput) => {
      deadLetters.push({ code: error.code });
      if (mode === 'decide') entries.push(this.deadLetter(topic, partition, message, error));
    };

    for (const item of items) {
      if (item.kind === 'refused') {
        refuse(item.message, item.error);
        continue;
      }
      const source: SourcePosition = { topic, partition, offset: item.message.offset };
      const context: DecideContext = {
        source,
        receivedOn: item.receivedOn,
        partitionsOf: this.partitionsOf,
      };
      work?.beginEvent();
      try {
        const decision = this.service.decide(item.input, work ?? NO_STATE, context);
        if (!decision.ok) {
          work?.dropEvent();
          refuse(item.message, decision.error);
          continue;
        }
        const latest = decision.value.latest;
        if (mode === 'decide' && latest !== undefined) {
          entries.push({ latest, decided: decision.value, message: item.message });
        } else if (mode === 'decide') {
          entries.push(...this.encodeAll(decision.value));
        }
        work?.acceptEvent();
      } catch (error) {
        // A bug or a configuration gap must not block the partition: the message waits in the dead-letter topic.
        work?.dropEvent();
        refuse(item.message, internalError(error));
      }
    }
    const records: PreparedRecord[] = [];
    for (const entry of withoutReplaced(entries, (e) => ('latest' in e ? e.latest : undefined))) {
      if (!('latest' in entry)) records.push(entry);
      else {
        try {
          records.push(...this.encodeAll(entry.decided));
        } catch (error) {
          // Its state is applied; the message waits in the dead-letter topic, as a failed decision's would.
          deadLetters.push({ code: internalError(error).code });
          records.push(this.deadLetter(topic, partition, entry.message, internalError(error)));
        }
      }
    }
    const stateWrite = state ? state.plan(work) : NO_STATE_WRITE;
    const changelog = this.service.state?.changelog;
    if (mode === 'decide' && changelog) {
      records.push(...changelogRecords(changelog, partition, stateWrite, this.codec));
    }
    return { records, deadLetters, stateWrite };
  }

  private encodeAll(decided: Decided): PreparedRecord[] {
    return decided.outputs().map(
      (output): PreparedRecord => ({
        topic: output.topic.name,
        key: output.key,
        value: this.codec.encode(output.topic, output.record, output.value as never),
        ...(output.partition === undefined ? {} : { partition: output.partition }),
      }),
    );
  }

  /** Counts a committed chunk in the metrics. */
  count(metrics: RunnerMetrics, inputTopic: string, messages: number, prepared: PreparedChunk): void {
    metrics.messagesIn.inc({ topic: inputTopic }, messages);
    for (const record of prepared.records) metrics.messagesOut.inc({ topic: record.topic });
    for (const dead of prepared.deadLetters) metrics.deadLettered.inc({ code: dead.code });
  }

  /** Loads every entity the chunk's inputs name, and those named by entities just loaded. */
  private async loadEntities(state: PartitionState, items: readonly Item<Input>[]): Promise<void> {
    const model = this.service.state;
    if (!model) return;
    for (let round = 0; round < MAX_LOAD_ROUNDS; round++) {
      const refs: EntityRef[] = [];
      for (const item of items) {
        if (item.kind !== 'parsed') continue;
        try {
          refs.push(...model.entitiesOf(item.input, state));
        } catch {
          // decide fails the same way and dead-letters the message
        }
      }
      if ((await state.load(this.redis as RedisClient, refs)) === 0) return;
    }
  }

  private async parseAll(
    topic: string,
    partition: number,
    chunk: readonly KafkaMessage[],
  ): Promise<Item<Input>[]> {
    const items: Item<Input>[] = [];
    for (const message of chunk) {
      const timestamp = Number(message.timestamp);
      const receivedOn = chinaDateOf(timestamp);
      const decoded =
        this.codec.decodeKnown(this.service.input, message.value) ??
        (await this.codec.decode(this.service.input, message.value));
      if (!decoded.ok) {
        items.push({ kind: 'refused', message, error: decoded.error });
        continue;
      }
      try {
        const parsed = this.service.parse(decoded.value, {
          pseudonymKey: this.options.pseudonymKey,
          receivedOn,
          source: { topic, partition, offset: message.offset },
          timestamp,
        });
        items.push(
          parsed.ok
            ? { kind: 'parsed', message, input: parsed.value, receivedOn }
            : { kind: 'refused', message, error: parsed.error },
        );
      } catch (error) {
        items.push({ kind: 'refused', message, error: internalError(error) });
      }
    }
    return items;
  }

  private deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    error: InvalidInput,
  ): PreparedRecord {
    const record: DeadLetter = {
      originalValue: message.value ?? Buffer.alloc(0),
      originalKey: message.key ?? null,
      topic,
      partition,
      offset: Number(message.offset),
      service: this.service.name,
      errorCode: error.code,
      field: error.field,
      rule: error.rule,
      value: error.value ?? null,
      // The message's own time: a replay writes the very same dead letter.
      failedAt: new Date(Number(message.timestamp)),
      attempt: 1,
    };
    return {
      topic: this.service.deadLetters.name,
      key: message.key?.toString() ?? null,
      value: this.codec.encode(this.service.deadLetters, 'dead-letter', record),
      headers: deadLetterHeaders(
        { topic, partition, offset: message.offset, service: this.service.name },
        error,
      ),
    };
  }
}

/**
 * The entries in order, without those a later entry replaces: one with a `latest` key is dropped when
 * another entry after it has the same key (Decided.latest); entries without one all stay.
 */
export function withoutReplaced<E>(entries: readonly E[], latestOf: (entry: E) => string | undefined): E[] {
  const last = new Map<string, number>();
  entries.forEach((entry, index) => {
    const key = latestOf(entry);
    if (key !== undefined) last.set(key, index);
  });
  return entries.filter((entry, index) => {
    const key = latestOf(entry);
    return key === undefined || last.get(key) === index;
  });
}

function internalError(error: unknown): InvalidInput {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ConfigError ? 'CONFIGURATION' : 'INTERNAL_ERROR';
  return invalidInput(
    code,
    'value',
    'the hub could not decide this message; redrive it once fixed',
    message.slice(0, 500),
  );
}
