import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { KafkaMessage } from 'kafkajs';
import { accountingService } from '../../services/accounting/adapter.js';
import { premiumIngestService } from '../../services/premium-ingest/adapter.js';
import { settlementIngestService } from '../../services/settlement-ingest/adapter.js';
import { hubConfig, REPO_ROOT } from '../../shared/config.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { chinaDateOf } from '../../shared/policy/dates.js';
import { createRegistry, TopicCodec } from '../../shared/registry.js';
import { entityWrite, type PersistedEntity } from '../../shared/runner/partition-state.js';
import type {
  DecideContext,
  EntityKind,
  EntityPeek,
  EntityStore,
  Output,
  Service,
} from '../../shared/runner/service.js';
import { allTopics, type TopicSpec, topicsFor } from '../../shared/topics.js';
import { premium, settlement } from '../support/streams.js';

const TOPICS = topicsFor(hubConfig());
const ALL_TOPICS = allTopics(TOPICS);
const accounting = accountingService(TOPICS);
const premiumIngest = premiumIngestService(TOPICS);
const settlementIngest = settlementIngestService(TOPICS);

/**
 * `npm run bench:stages [-- --events N --members M --update]`
 *
 * The pure stages of the hot path, in process, no I/O: for settlement-ingest (settlement → journal) and
 * accounting (journal → ledger), the µs per event of Avro decode, parse, decide, rendering the outputs
 * (the records' contents, built only when published), Avro encode of the
 * outputs and (accounting) the encoding of the changed state once per chunk, as the runner does.
 * Every output byte and every state field written goes into a SHA-256 digest that must equal the one
 * committed in test/bench/stages.digest.json for the same arguments: an optimisation cannot change
 * bytes unnoticed. `--update` writes the digest instead (say why in the commit).
 */

const DIGEST_FILE = `${REPO_ROOT}/test/bench/stages.digest.json`;
const CHUNK = 1000;
const ROUNDS = 3; // the best of three: the first warms the JIT

interface Options {
  events: number;
  members: number;
  update: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { events: 20_000, members: 2_000, update: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--update') {
      options.update = true;
      continue;
    }
    const value = argv[++i];
    const n = Number(value);
    if ((flag === '--events' || flag === '--members') && Number.isInteger(n) && n > 0) {
      options[flag.slice(2) as 'events' | 'members'] = n;
    } else {
      throw new Error(
        `bad argument ${flag} ${value ?? ''}; usage: npm run bench:stages -- [--events N] [--members M] [--update]`,
      );
    }
  }
  return options;
}

/** Schema ids fixed offline: encode and decode need no registry (unknown ids would, and none occur). */
async function offlineCodec(): Promise<TopicCodec> {
  const ids = new Map(ALL_TOPICS.map((topic, i) => [topic.name, 100 + i]));
  const codec = new TopicCodec(
    createRegistry({ kafkaBrokers: [], schemaRegistryUrl: 'http://127.0.0.1:9', redisUrl: '' }),
    'http://127.0.0.1:9',
    async (_url, topic) => ids.get(topic.name) as number,
  );
  await codec.prepare(ALL_TOPICS);
  return codec;
}

/** The partition's entities as the runner holds them: values in memory, the fields last written. */
class MemoryState implements EntityStore, EntityPeek {
  private readonly values = new Map<string, { kind: EntityKind<unknown>; value: unknown }>();
  private readonly persisted = new Map<string, PersistedEntity>();
  private changed = new Set<string>();

  private key(kind: EntityKind<unknown>, id: string): string {
    return `${kind.name}:${id}`;
  }

  peek<T>(kind: EntityKind<T>, id: string): T | undefined {
    return this.values.get(this.key(kind as EntityKind<unknown>, id))?.value as T | undefined;
  }

  get<T>(kind: EntityKind<T>, id: string): T {
    return this.peek(kind, id) ?? kind.empty(id);
  }

  put<T>(kind: EntityKind<T>, id: string, value: T): void {
    const key = this.key(kind as EntityKind<unknown>, id);
    this.values.set(key, { kind: kind as EntityKind<unknown>, value });
    this.changed.add(key);
  }

  /** What the runner's state write sends for a chunk (shared/runner/partition-state.ts entityWrite). */
  flush(digest: (text: string) => void): void {
    for (const key of this.changed) {
      const { kind, value } = this.values.get(key) as { kind: EntityKind<unknown>; value: unknown };
      const { changes, persisted } = entityWrite(this.persisted.get(key), kind, value);
      // Sorted, so the digest does not depend on the order a kind lists its changes in.
      const sets = changes.set.map(([field, text]) => `${key}.${field}=${text}`).sort();
      for (const line of sets) digest(line);
      for (const field of [...changes.del].sort()) digest(`${key}.${field} deleted`);
      this.persisted.set(key, { value, persisted });
    }
    this.changed = new Set();
  }
}

interface Timings {
  decode: number;
  parse: number;
  decide: number;
  render: number;
  encode: number;
  state: number;
}

// CPU time of this process (user + system), not wall time: other work on the machine does not count.
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const now = cpu;
const since = (start: number) => cpu() - start;

/** Runs one stage over `messages` and returns the encoded outputs, timing each step. */
async function runStage<Input>(
  service: Service<Input>,
  codec: TopicCodec,
  messages: readonly KafkaMessage[],
  state: MemoryState | undefined,
  timings: Timings,
  digest: (bytes: Buffer | string) => void,
): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  const partitionsOf = (topic: TopicSpec) => topic.partitions;
  for (let start = 0; start < messages.length; start += CHUNK) {
    const chunk = messages.slice(start, start + CHUNK);
    let t = now();
    const decoded = [];
    for (const m of chunk)
      decoded.push(codec.decodeKnown(service.input, m.value) ?? (await codec.decode(service.input, m.value)));
    timings.decode += since(t);

    t = now();
    const inputs: Array<{ input: Input; message: KafkaMessage; receivedOn: string }> = [];
    for (const [i, d] of decoded.entries()) {
      const message = chunk[i] as KafkaMessage;
      if (!d.ok) throw new Error(`decode: ${d.error.code} ${d.error.rule}`);
      const timestamp = Number(message.timestamp);
      const receivedOn = chinaDateOf(timestamp);
      const parsed = service.parse(d.value, {
        pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
        receivedOn,
        source: { topic: service.input.name, partition: 0, offset: message.offset },
        timestamp,
      });
      if (!parsed.ok) throw new Error(`parse: ${parsed.error.code} ${parsed.error.rule}`);
      inputs.push({ input: parsed.value, message, receivedOn });
    }
    timings.parse += since(t);

    t = now();
    const decided = [];
    for (const { input, message, receivedOn } of inputs) {
      const context: DecideContext = {
        source: { topic: service.input.name, partition: 0, offset: message.offset },
        receivedOn,
        partitionsOf,
      };
      const decision = service.decide(input, state ?? (undefined as never), context);
      if (!decision.ok) throw new Error(`decide: ${decision.error.code} ${decision.error.rule}`);
      decided.push(decision.value);
    }
    timings.decide += since(t);

    t = now();
    const decisions: Output[][] = decided.map((d) => [...d.outputs()]);
    timings.render += since(t);

    t = now();
    for (const [i, outputs] of decisions.entries()) {
      const message = inputs[i]?.message as KafkaMessage;
      for (const o of outputs) {
        const value = codec.encode(o.topic, o.record, o.value as never);
        out.push({ ...message, key: Buffer.from(o.key), value, offset: String(out.length) });
      }
    }
    timings.encode += since(t);
    for (const m of out.slice(out.length - decisions.flat().length)) digest(m.value as Buffer);

    if (state) {
      t = now();
      state.flush(digest);
      timings.state += since(t);
    }
  }
  return out;
}

function asMessages(codec: TopicCodec, topic: TopicSpec, records: Array<{ record: string; value: unknown }>) {
  const base = Date.parse('2025-06-01T02:00:00Z');
  return records.map(
    ({ record, value }, i) =>
      ({
        key: null,
        value: codec.encode(topic, record as never, value as never),
        offset: String(i),
        timestamp: String(base + i),
        attributes: 0,
        size: 0,
        headers: {},
      }) as unknown as KafkaMessage,
  );
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const codec = await offlineCodec();
  const members = Array.from({ length: options.members }, (_, i) => i + 1);
  const premiums = asMessages(
    codec,
    TOPICS.taxPremium,
    members.map((n) => ({ record: 'premium-collected', value: premium(n) })),
  );
  const perMember = Math.ceil(options.events / options.members);
  const settlements = asMessages(
    codec,
    TOPICS.hospitalSettlement,
    Array.from({ length: options.events }, (_, i) => {
      const n = (i % options.members) + 1;
      const over = Math.floor(i / options.members) >= perMember - 2;
      return {
        record: 'hospital-settlement',
        value: settlement(`BENCH-${i}`, n, {
          basic: over ? '60000.00' : '1000.00',
          overCap: over ? '2000.00' : '0.00',
          claimed: over ? '1800.00' : '0.00',
        }),
      };
    }),
  );

  const rows: Array<[string, Timings, number]> = [];
  let digestHex = '';
  for (let round = 0; round < ROUNDS; round++) {
    const hash = createHash('sha256');
    const digest = (bytes: Buffer | string) => hash.update(bytes);
    const ignore = () => {};
    const zero = (): Timings => ({ decode: 0, parse: 0, decide: 0, render: 0, encode: 0, state: 0 });
    const state = new MemoryState();
    // Premiums first, so every member is covered; not timed.
    const premiumJournal = await runStage(premiumIngest, codec, premiums, undefined, zero(), ignore);
    await runStage(accounting, codec, premiumJournal, state, zero(), ignore);

    const ingest = zero();
    const journal = await runStage(settlementIngest, codec, settlements, undefined, ingest, digest);
    const booking = zero();
    const ledger = await runStage(accounting, codec, journal, state, booking, digest);
    digestHex = hash.digest('hex');
    const total = (t: Timings) => t.decode + t.parse + t.decide + t.render + t.encode + t.state;
    const best = (name: string, t: Timings, outputs: number) => {
      const previous = rows.find((r) => r[0] === name);
      if (!previous || total(t) < total(previous[1])) {
        if (previous) rows.splice(rows.indexOf(previous), 1);
        rows.push([name, t, outputs]);
      }
    };
    best('settlement-ingest', ingest, journal.length);
    best('accounting', booking, ledger.length);
  }

  const n = options.events;
  const us = (x: number) => (x / n).toFixed(2).padStart(8);
  process.stdout.write(
    `own code per settlement, µs of CPU (best of ${ROUNDS}; ${n} settlements over ${options.members} members, chunks of ${CHUNK})\n` +
      `${'stage'.padEnd(20)}${'decode'.padStart(8)}${'parse'.padStart(8)}${'decide'.padStart(8)}${'render'.padStart(8)}${'encode'.padStart(8)}${'state'.padStart(8)}${'total'.padStart(8)}  outputs\n`,
  );
  let sum = 0;
  for (const [name, t, outputs] of rows) {
    const total = t.decode + t.parse + t.decide + t.render + t.encode + t.state;
    sum += total;
    process.stdout.write(
      `${name.padEnd(20)}${us(t.decode)}${us(t.parse)}${us(t.decide)}${us(t.render)}${us(t.encode)}${us(t.state)}${us(total)}  ${outputs}\n`,
    );
  }
  process.stdout.write(`${'both stages'.padEnd(68)}${us(sum)}\n`);

  const key = `${options.events}x${options.members}`;
  let committed: Record<string, string> = {};
  try {
    committed = JSON.parse(readFileSync(DIGEST_FILE, 'utf8')) as Record<string, string>;
  } catch {
    // no digest file yet
  }
  if (options.update) {
    committed[key] = digestHex;
    writeFileSync(DIGEST_FILE, `${JSON.stringify(committed, null, 2)}\n`);
    process.stdout.write(`digest ${digestHex} written to test/bench/stages.digest.json for ${key}\n`);
    return;
  }
  const expected = committed[key];
  if (expected === undefined) {
    process.stderr.write(`no committed digest for ${key}: run with --update once and commit the file\n`);
    process.exit(1);
  }
  if (expected !== digestHex) {
    process.stderr.write(
      `digest check FAILED: outputs differ from the committed reference for ${key}\n  expected ${expected}\n  got      ${digestHex}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`digest check passed (${digestHex.slice(0, 16)}…)\n`);
}

await main();
