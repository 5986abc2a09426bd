import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import avsc from 'avsc';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubServices } from '../../services/catalogue.js';
import { REPO_ROOT } from '../../shared/config.js';
import { nationalIdCheckCharacter } from '../../shared/identity.js';
import { Decimal, formatMoney } from '../../shared/money.js';
import { readTopic } from '../../shared/read-topic.js';
import type {
  DeadLetter,
  LedgerPosting,
  ReconciliationResult,
  RecordBySchemaName,
  SchemaName,
} from '../../shared/records.js';
import { type TopicCodec, topicValueSchema } from '../../shared/registry.js';
import { deleteKeys } from '../../shared/runner/rebuild.js';
import type { RunningService } from '../../shared/runner/runner.js';
import type { Service } from '../../shared/runner/service.js';
import { type TopicSpec, topicsFor } from '../../shared/topics.js';
import { testConfig } from '../support/config.js';
import {
  caughtUp,
  consumeUntil,
  type HubTestBed,
  hubCommandEnvironment,
  hubTestBed,
  stack,
  startInProcess,
  testKafka,
  uniqueName,
} from '../support/stack.js';
import {
  manualClaim,
  memberId,
  monthlySettlement,
  operatingCost,
  premium,
  premiumCorrection,
  reversal,
  settlement,
} from '../support/streams.js';

const CONFIG = testConfig();
const NAMESPACE = CONFIG.namespace;
const TOPICS = topicsFor(CONFIG);
const { accounting, premiumIngest, settlementIngest, payoutIngest, reconciler, hospitalReconciler } =
  hubServices(TOPICS);

// The hub end to end against the real stack, in this file's own namespace: the three ingest services,
// accounting and both reconciler stages, with every kind of bad input an agency can send.

const kafka = testKafka('services-int');
let producer: Producer;
let redis: Redis;
let codec: TopicCodec;
let running: RunningService[] = [];
let bed: HubTestBed;

beforeAll(async () => {
  bed = await hubTestBed(kafka, CONFIG);
  ({ producer, redis, codec } = bed);
  running = bed.running;
});

afterAll(async () => {
  if (redis) await deleteKeys(redis, `${NAMESPACE}:*`);
  await bed?.close();
});

type Message = { key: string; value: Buffer };
const record = <N extends SchemaName>(
  topic: TopicSpec,
  name: N,
  value: RecordBySchemaName[N],
  key: string,
): Message => ({
  key,
  value: codec.encode(topic, name, value),
});

async function send(topic: TopicSpec, messages: Message[]): Promise<void> {
  await producer.send({ topic: topic.name, messages });
}

async function start<I>(service: Service<I>): Promise<void> {
  running.push(await startInProcess(CONFIG, service));
}

async function readAll<N extends SchemaName>(
  topic: TopicSpec,
  count: number,
): Promise<RecordBySchemaName[N][]> {
  const messages = await consumeUntil(
    kafka.consumer({ groupId: uniqueName('read') }),
    topic.name,
    (r) => r.length >= count,
    30_000,
  );
  const values: RecordBySchemaName[N][] = [];
  for (const m of messages) {
    const decoded = await codec.decode(topic, m.value);
    if (!decoded.ok) throw new Error(`undecodable record on ${topic.name}: ${decoded.error.code}`);
    values.push(decoded.value.value as RecordBySchemaName[N]);
  }
  return values;
}

const codes = (letters: DeadLetter[]) => letters.map((l) => l.errorCode).sort();
const postingsOf = (ledger: LedgerPosting[], kind: LedgerPosting['kind']) =>
  ledger.filter((p) => p.kind === kind);

/** The same ID with a check character that does not match (GB 11643). */
const wrongCheckCharacter = (id: string) => id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');

/** A member ID with a valid check character but a 30 February birth date. */
const impossibleBirthId = (() => {
  const first17 = '53310219800230123';
  return first17 + nationalIdCheckCharacter(first17);
})();

/** Bytes of a settlement written by a producer that registered amounts with three decimals. */
async function overPreciseSettlement(): Promise<Buffer> {
  const schema = JSON.parse(
    JSON.stringify(topicValueSchema(TOPICS.hospitalSettlement)).replaceAll('"scale":2', '"scale":3'),
  );
  const response = await fetch(
    `${stack().schemaRegistryUrl}/subjects/${uniqueName('overprecise')}-value/versions`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schemaType: 'AVRO', schema: JSON.stringify(schema) }),
    },
  );
  const { id } = (await response.json()) as { id: number };
  const toScale3 = (d: Decimal) => {
    const unscaled = BigInt(d.times(1000).toFixed(0));
    const hex = (unscaled < 0n ? (1n << 64n) + unscaled : unscaled).toString(16).padStart(16, '0');
    return Buffer.from(hex, 'hex');
  };
  const writer = avsc.Type.forSchema(schema, { wrapUnions: 'auto' });
  const value = settlement('BAD-PRECISION', 3, { basic: '1000.00', overCap: '0.00', claimed: '0.00' });
  const raw: Record<string, unknown> = { ...value, serviceDate: 20220, settledAt: value.settledAt.getTime() };
  for (const [field, v] of Object.entries(value))
    if (Decimal.isDecimal(v)) raw[field] = toScale3(v as Decimal);
  raw.supplementClaimed = toScale3(new Decimal('12.345'));
  const body = writer.toBuffer({ 'cn.medfund.hub.v1.HospitalSettlement': raw });
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

describe('the hub, end to end', () => {
  it(`runs in namespace ${NAMESPACE}: every message ends as its posting or one dead letter with its reason`, async () => {
    const members = Array.from({ length: 20 }, (_, i) => i + 1);
    await start(accounting);
    await start(reconciler);
    await start(hospitalReconciler);

    // ---- tax → premium-ingest: 20 premiums, one delivered twice, seven kinds of bad input.
    const P = TOPICS.taxPremium;
    const premiums = [
      ...members.map((n) => record(P, 'premium-collected', premium(n), memberId(n))),
      record(P, 'premium-collected', premium(1), memberId(1)),
      { key: 'x', value: Buffer.from('{"not":"avro"}') },
      { key: 'x', value: Buffer.from([0, 0x7f, 0, 0, 1, 2, 3, 4]) },
      record(
        P,
        'premium-collected',
        premium(90, {
          nationalId: wrongCheckCharacter(memberId(90)),
        }),
        'x',
      ),
      record(P, 'premium-collected', premium(91, { regionCode: '110000' }), 'x'),
      record(P, 'premium-collected', premium(92, { payerType: 'UNIT_WITHHOLDING' }), 'x'),
      record(P, 'premium-collected', premium(93, { amount: new Decimal('0.00') }), 'x'),
      record(
        P,
        'premium-correction',
        premiumCorrection(94, { originalEventId: 'TAX-533100-2025-NOSUCH' }),
        'x',
      ),
    ];
    await send(P, premiums);
    await start(premiumIngest);
    const premiumPostings = await readAll<'ledger-posting'>(TOPICS.ledger, 20);
    expect(postingsOf(premiumPostings, 'PREMIUM_COLLECTED')).toHaveLength(20);

    // ---- hospitals → settlement-ingest: below-cap visits, over-cap visits, an over-claim, a reversal, bad input.
    const S = TOPICS.hospitalSettlement;
    const belowCap = members.map((n) =>
      settlement(`S1-${n}`, n, { basic: '100000.00', overCap: '0.00', claimed: '0.00' }),
    );
    const overCap = members
      .filter((n) => n % 4 === 0)
      .map((n) =>
        settlement(`S2-${n}`, n, {
          basic: '50000.00',
          overCap: '20000.00',
          claimed: n === 8 ? '19000.00' : '18000.00',
        }),
      );
    const reversed = overCap[0];
    if (!reversed) throw new Error('no over-cap settlement');
    const settlements = [
      ...belowCap.map((s) => record(S, 'hospital-settlement', s, s.nationalId)),
      ...overCap.map((s) => record(S, 'hospital-settlement', s, s.nationalId)),
      record(S, 'hospital-settlement-reversal', reversal('R-4', reversed), reversed.nationalId),
      record(
        S,
        'hospital-settlement',
        settlement(
          'B1',
          2,
          { basic: '1.00', overCap: '0.00', claimed: '0.00' },
          { hospitalCode: 'H41020000001' },
        ),
        'x',
      ),
      record(
        S,
        'hospital-settlement',
        settlement('B2', 2, { basic: '-1.00', overCap: '0.00', claimed: '0.00' }),
        'x',
      ),
      record(
        S,
        'hospital-settlement',
        settlement(
          'B3',
          2,
          { basic: '1.00', overCap: '5000.00', claimed: '0.00' },
          { inScopeAmount: new Decimal('100.00') },
        ),
        'x',
      ),
      record(
        S,
        'hospital-settlement-reversal',
        reversal('B4', settlement('S-NOSUCH', 2, { basic: '1.00', overCap: '0.00', claimed: '0.00' })),
        'x',
      ),
      record(
        S,
        'hospital-settlement',
        settlement('B5', 2, { basic: '1.00', overCap: '0.00', claimed: '0.00' }, { insuranceType: '390' }),
        'x',
      ),
      record(
        S,
        'hospital-settlement',
        settlement(
          'B6',
          2,
          { basic: '1.00', overCap: '0.00', claimed: '0.00' },
          { nationalId: impossibleBirthId },
        ),
        'x',
      ),
      record(
        S,
        'hospital-settlement',
        settlement(
          'B7',
          2,
          { basic: '1.00', overCap: '0.00', claimed: '0.00' },
          { serviceDate: '2025-05-30' },
        ),
        'x',
      ),
      { key: 'x', value: await overPreciseSettlement() },
    ];
    await send(S, settlements);
    await start(settlementIngest);
    const afterSettlements = await readAll<'ledger-posting'>(TOPICS.ledger, 20 + 25 + 1);

    // ---- insurer → payout-ingest: the month's settlement, a manual claim, an operating cost, bad input.
    const I = TOPICS.insurerPayout;
    const settledIds = [...belowCap, ...overCap].map((s) => s.settlementId).concat('R-4');
    const claimedTotal = [...belowCap, ...overCap]
      .reduce((sum, s) => sum.plus(s.supplementClaimed), new Decimal(0))
      .minus(reversed.supplementClaimed);
    await send(I, [
      record(
        I,
        'insurer-monthly-settlement',
        monthlySettlement('PAY-2025-05', settledIds, formatMoney(claimedTotal)),
        'H53310200003',
      ),
      record(I, 'manual-reimbursement', manualClaim('CLM-1', 1), memberId(1)),
      record(I, 'operating-cost', operatingCost('OPC-2025-05', '500.00'), '533100'),
      // Valid on its own: the hospital-month it pays lists a settlement the hub never received.
      record(
        I,
        'insurer-monthly-settlement',
        monthlySettlement('PAY-UNKNOWN', ['S-NOSUCH'], '1.00', { month: '2025-04' }),
        'H53310200003',
      ),
      record(
        I,
        'insurer-monthly-settlement',
        monthlySettlement('PAY-BAD-2', ['S1-1'], '1.00', { month: '2025-13' }),
        'x',
      ),
      record(I, 'manual-reimbursement', manualClaim('CLM-BAD', 3, { receivedOn: '2025-06-25' }), 'x'),
    ]);
    await start(payoutIngest);
    const ledger = await readAll<'ledger-posting'>(TOPICS.ledger, 20 + 25 + 1 + 4);
    expect(afterSettlements.length).toBeGreaterThanOrEqual(46);

    // ---- the ledger: what policy allows, with the platform's claim beside it.
    const kinds = Object.fromEntries(
      [
        'PREMIUM_COLLECTED',
        'SETTLEMENT_APPLIED',
        'SETTLEMENT_REVERSED',
        'HOSPITAL_MONTH_SETTLED',
        'MANUAL_REIMBURSEMENT',
        'OPERATING_COST',
      ].map((k) => [k, postingsOf(ledger, k as LedgerPosting['kind']).length]),
    );
    expect(kinds).toEqual({
      PREMIUM_COLLECTED: 20,
      SETTLEMENT_APPLIED: 25,
      SETTLEMENT_REVERSED: 1,
      HOSPITAL_MONTH_SETTLED: 2,
      MANUAL_REIMBURSEMENT: 1,
      OPERATING_COST: 1,
    });
    // Every premium came first: no claim had to wait for its cover.
    expect(ledger.every((p) => p.revision === 0)).toBe(true);
    const byId = new Map(ledger.map((p) => [p.postingId, p]));
    const money = (p: LedgerPosting | undefined, field: 'claimedAmount' | 'dueAmount' | 'varianceAmount') => {
      const value = p?.[field];
      return value ? formatMoney(value) : null;
    };
    // Dehong art. 10: 90 % of 20000.00 above the cap.
    expect(money(byId.get('SETTLEMENT_APPLIED:S2-4'), 'dueAmount')).toBe('18000.00');
    // The over-claim is recorded, not corrected: claimed 19000.00, due 18000.00.
    expect(money(byId.get('SETTLEMENT_APPLIED:S2-8'), 'varianceAmount')).toBe('1000.00');
    expect(money(byId.get('SETTLEMENT_REVERSED:R-4'), 'dueAmount')).toBe('-18000.00');
    // The insurer paid what was claimed: the hospital-month is over-paid by the over-claim.
    await caughtUp(CONFIG, [accounting, reconciler, hospitalReconciler] as Service<unknown>[]);
    const results = await readTopic<'reconciliation-result'>(kafka, codec, TOPICS.reconciliation, {
      idleMs: 2000,
    });
    const latest = new Map<string, ReconciliationResult>(results.map((r) => [r.itemId, r]));
    const may = latest.get('HOSPITAL_MONTH:533100:H53310200003:2025-05');
    expect([may?.status, may && formatMoney(may.difference)]).toEqual(['DISCREPANCY', '1000.00']);
    expect(may?.reason).toMatch(/^HOSPITAL_MONTH_OVER_PAID/);
    const april = latest.get('HOSPITAL_MONTH:533100:H53310200003:2025-04');
    expect(april?.status).toBe('DISCREPANCY');
    expect(april?.reason).toMatch(
      /1 settlement\(s\) of H53310200003 in 2025-04 that the hub has not received/,
    );
    expect(latest.get('MANUAL_CLAIM:533100:CLM-1')?.status).toBe('MATCHED');
    // Member 1's manual claim crosses the cap (100000 + 60000): 90 % of 10000.00.
    expect(money(byId.get('MANUAL_REIMBURSEMENT:CLM-1'), 'dueAmount')).toBe('9000.00');
    for (const posting of ledger) {
      const debits = posting.lines
        .filter((l) => l.direction === 'DEBIT')
        .reduce((s, l) => s.plus(l.amount), new Decimal(0));
      const credits = posting.lines
        .filter((l) => l.direction === 'CREDIT')
        .reduce((s, l) => s.plus(l.amount), new Decimal(0));
      expect(debits.eq(credits), posting.postingId).toBe(true);
    }

    // ---- dead letters: each bad message once, with the rule it broke, from the service that saw it.
    const premiumDead = await readAll<'dead-letter'>(TOPICS.premiumDeadLetters, 6);
    const settlementDead = await readAll<'dead-letter'>(TOPICS.settlementDeadLetters, 7);
    const payoutDead = await readAll<'dead-letter'>(TOPICS.payoutDeadLetters, 2);
    const accountingDead = await readAll<'dead-letter'>(TOPICS.accountingDeadLetters, 3);
    expect(codes(premiumDead)).toEqual(
      [
        'AMOUNT_NOT_POSITIVE',
        'ID_CHECKSUM',
        'NOT_AVRO',
        'PAYER_TYPE_NOT_ACCEPTED',
        'UNKNOWN_REGION',
        'UNKNOWN_SCHEMA_ID',
      ].sort(),
    );
    expect(codes(settlementDead)).toEqual(
      [
        'AMOUNT_INCONSISTENT',
        'AMOUNT_NEGATIVE',
        'ID_BIRTH_DATE',
        'INCOMPATIBLE_SCHEMA',
        'INSURANCE_TYPE',
        'SERVICE_DATE_OUTSIDE_COVER',
        'UNKNOWN_HOSPITAL',
      ].sort(),
    );
    expect(codes(payoutDead)).toEqual(['MONTH_FORMAT', 'PAID_BEFORE_RECEIVED']);
    // What only the member's own order can tell: a second delivery, a correction or reversal of nothing.
    expect(accountingDead.map((l) => `${l.errorCode} ${l.field}`).sort()).toEqual([
      'DUPLICATE_EVENT eventId',
      'UNKNOWN_PREMIUM_EVENT originalEventId',
      'UNKNOWN_SETTLEMENT originalSettlementId',
    ]);
    // Accounting's dead letter holds the journal record (no national ID) and says where the input was read.
    for (const letter of accountingDead) expect(letter.topic).toBe(TOPICS.journal.name);
    const notAvro = premiumDead.find((l) => l.errorCode === 'NOT_AVRO');
    expect(notAvro?.originalValue.toString()).toBe('{"not":"avro"}');

    // ---- nothing lost: messages in = journal records + dead letters per ingest service; journal = postings + accounting's dead letters.
    const journal = await readTopic<'journal-settlement'>(kafka, codec, TOPICS.journal, { idleMs: 1000 });
    expect(premiums.length).toBe(22 + premiumDead.length);
    expect(settlements.length).toBe(27 + settlementDead.length);
    expect(6).toBe(4 + payoutDead.length);
    expect(journal.length).toBe(22 + 27 + 4);
    expect(journal.length).toBe(ledger.length + accountingDead.length);

    // ---- personal data: no national ID on an output topic or anywhere in Redis.
    const ids = [...members, 90, 91, 92, 93, 94].map(memberId).concat(impossibleBirthId);
    for (const topic of [
      TOPICS.journal,
      TOPICS.ledger,
      TOPICS.reconciliation,
      TOPICS.hospitalMonth,
      TOPICS.accountingDeadLetters,
    ]) {
      const outputBytes = (
        await consumeUntil(kafka.consumer({ groupId: uniqueName('scan') }), topic.name, () => false, 3000)
      )
        .map((m) => m.value?.toString('latin1') ?? '')
        .join('\n');
      expect(outputBytes.length).toBeGreaterThan(0);
      for (const id of ids) expect(outputBytes.includes(id), `national ID on ${topic.name}`).toBe(false);
    }
    const keys = await redis.keys(`${NAMESPACE}:*`);
    expect(keys.length).toBeGreaterThan(0);
    const dump: string[] = [...keys];
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'hash') dump.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'string') dump.push((await redis.get(key)) ?? '');
    }
    const redisText = dump.join('\n');
    for (const id of ids) expect(redisText.includes(id), 'national ID in Redis').toBe(false);
    // The ingest services keep no state in Redis: only accounting and the reconcilers do. (Every service
    // announces its health address there, in <namespace>:<service>:health: shared/runner/announce.ts.)
    const stateKeys = keys.filter((key) => !key.endsWith(':health'));
    const owners = new Set(stateKeys.map((key) => key.slice(NAMESPACE.length + 1).split(':')[0]));
    expect([...owners].sort()).toEqual(['accounting', 'hospital-reconciler', 'reconciler']);
  });

  it('hub dead-letters lists them, and a redriven message that is still bad comes back as a new dead letter', async () => {
    const env = {
      ...process.env,
      ...hubCommandEnvironment(),
      HUB_NAMESPACE: NAMESPACE,
    };
    const hub = (...args: string[]) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'services/hub-cli/hub.js'), 'dead-letters', ...args], {
        env,
        encoding: 'utf8',
      });
    const list = hub('list', '--service', 'payout-ingest');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/MONTH_FORMAT at month/);
    expect(list.stdout).toMatch(/2 dead letter\(s\)/);
    const redrive = hub('redrive', '--service', 'payout-ingest', '--code', 'MONTH_FORMAT');
    expect(redrive.status, redrive.stderr).toBe(0);
    expect(redrive.stdout).toMatch(/1 message\(s\) published again/);
    const letters = await readAll<'dead-letter'>(TOPICS.payoutDeadLetters, 3);
    expect(codes(letters)).toEqual(['MONTH_FORMAT', 'MONTH_FORMAT', 'PAID_BEFORE_RECEIVED']);
  });
});
