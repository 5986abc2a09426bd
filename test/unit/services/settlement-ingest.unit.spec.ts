import { describe, expect, it } from 'vitest';
import { settlementIngest } from '../../../services/settlement-ingest/adapter.js';
import type { SettlementInput } from '../../../services/settlement-ingest/decide.js';
import type { InvalidInput, Result } from '../../../shared/errors.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../../shared/identity.js';
import { Decimal, formatMoney, sumMoney } from '../../../shared/money.js';
import type {
  HospitalSettlement,
  HospitalSettlementReversal,
  LedgerLine,
  LedgerPosting,
} from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import type {
  DecideContext,
  Decision,
  ParseContext,
  StateView,
  StateWrite,
} from '../../../shared/runner/service.js';
import { stateKeys } from '../../../shared/state-keys.js';
import { TOPICS } from '../../../shared/topics.js';
import { avroSamples } from '../../fixtures/avro-samples.js';

// ─── Given ─────────────────────────────────────────────────────────────────────────────────────────

const yuan = (text: string) => new Decimal(text);
const DEHONG = '533100';
const KAIFENG = '410200';
const NATIONAL_ID = avroSamples['hospital-settlement'].nationalId;
const PERSON_NO = avroSamples['hospital-settlement'].personNo;

const parseContext: ParseContext = { pseudonymKey: TEST_ONLY_PSEUDONYM_KEY, receivedOn: '2024-06-30' };
const decideContext: DecideContext = {
  source: { topic: TOPICS.hospitalSettlement.name, partition: 3, offset: '4711' },
  receivedOn: '2024-06-30',
};

/** Dehong, 2024-03-11, out of the prefecture without referral: over cap 12000.00, basic fund 56000.00, claims 10200.00. */
const dehongSettlement = (overrides: Partial<HospitalSettlement> = {}): HospitalSettlement => ({
  ...avroSamples['hospital-settlement'],
  ...overrides,
});

/** The fixture's reversal of dehongSettlement(). */
const dehongReversal = (overrides: Partial<HospitalSettlementReversal> = {}): HospitalSettlementReversal => ({
  ...avroSamples['hospital-settlement-reversal'],
  ...overrides,
});

/** Kaifeng, 2024-06-10, in the city: over cap 10000.00 (× 0.90 = 9000.00), no basic fund this time, claims 9000.00. */
const kaifengSettlement = (overrides: Partial<HospitalSettlement> = {}): HospitalSettlement =>
  dehongSettlement({
    settlementId: '410200G0000000000777',
    hospitalCode: 'H41020200015',
    regionCode: KAIFENG,
    serviceDate: '2024-06-10',
    settledAt: new Date('2024-06-10T02:00:00.000Z'),
    outOfArea: false,
    referral: 'NOT_APPLICABLE',
    totalMedicalCost: yuan('60000.00'),
    fullOwnPayAmount: yuan('2000.00'),
    inScopeAmount: yuan('50000.00'),
    basicFundPaid: yuan('0.00'),
    overBasicCapAmount: yuan('10000.00'),
    supplementClaimed: yuan('9000.00'),
    ...overrides,
  });

const decoded = (record: HospitalSettlement | HospitalSettlementReversal): DecodedValue =>
  'originalSettlementId' in record
    ? { record: 'hospital-settlement-reversal', value: record, schemaId: 2 }
    : { record: 'hospital-settlement', value: record, schemaId: 1 };

/** A StateView over plain objects, applying writes the way the runner stages them. */
class MemoryState implements StateView {
  readonly hashes = new Map<string, Record<string, string>>();
  constructor(initial: Record<string, Record<string, string>> = {}) {
    for (const [key, fields] of Object.entries(initial)) this.hashes.set(key, { ...fields });
  }
  hash(key: string): Readonly<Record<string, string>> {
    return this.hashes.get(key) ?? {};
  }
  apply(writes: readonly StateWrite[]): void {
    for (const write of writes) this.hashes.set(write.key, { ...this.hash(write.key), ...write.fields });
  }
}

/** Personal data must appear nowhere the service hands on (design.md §4). */
function expectNoPersonalData(x: unknown): void {
  const text = JSON.stringify(x);
  expect(text).not.toContain(NATIONAL_ID);
  expect(text).not.toContain(NATIONAL_ID.slice(0, 17));
  expect(text).not.toContain(PERSON_NO);
}

function parsed(record: HospitalSettlement | HospitalSettlementReversal): SettlementInput {
  const result = settlementIngest.parse(decoded(record), parseContext);
  expectNoPersonalData(result);
  if (!result.ok) throw new Error(`expected the record to parse: ${result.error.code} ${result.error.field}`);
  return result.value;
}

function refusedAtParse(record: HospitalSettlement | HospitalSettlementReversal): InvalidInput {
  const result = settlementIngest.parse(decoded(record), parseContext);
  expectNoPersonalData(result);
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

const pseudonym = parsed(dehongSettlement()).pseudonym;
const premiumKey = (region: string, year = 2024) => stateKeys.memberPremiumYear(pseudonym, region, year);
const ytdKey = (region: string, year = 2024) => stateKeys.memberYearToDate(pseudonym, region, year);
const manualKey = (region: string, year = 2024) => stateKeys.memberManualYearToDate(pseudonym, region, year);
const covered = (region: string) => ({ [premiumKey(region)]: { covered: '1' } });
const ytd = (basicFundPaid: string, supplementPaid: string) => ({ basicFundPaid, supplementPaid });

// ─── When ──────────────────────────────────────────────────────────────────────────────────────────

function decideOn(
  state: MemoryState,
  record: HospitalSettlement | HospitalSettlementReversal,
): Result<Decision> {
  const input = parsed(record);
  // The runner loads exactly the keys the service names; reading any other key would see nothing.
  const named = new Set(settlementIngest.stateKeys(input));
  const view: StateView = {
    hash: (key) => {
      if (!named.has(key)) throw new Error(`decide read ${key}, which stateKeys did not name`);
      return state.hash(key);
    },
  };
  const result = settlementIngest.decide(input, view, decideContext);
  expectNoPersonalData(result);
  return result;
}

/** Decides and applies the writes, as the runner would; fails the test on a refusal. */
function applied(state: MemoryState, record: HospitalSettlement | HospitalSettlementReversal) {
  const result = decideOn(state, record);
  if (!result.ok) throw new Error(`expected a decision: ${result.error.code} at ${result.error.field}`);
  state.apply(result.value.writes);
  const [output, ...rest] = result.value.outputs;
  expect(rest).toEqual([]);
  if (output?.record !== 'ledger-posting') throw new Error('expected one ledger posting');
  expect(output.topic).toBe(TOPICS.ledger);
  expect(output.key).toBe(pseudonym);
  expectBalanced(output.value);
  return { posting: output.value, writes: result.value.writes };
}

function refusedAtDecide(state: MemoryState, record: HospitalSettlement | HospitalSettlementReversal) {
  const result = decideOn(state, record);
  if (result.ok) throw new Error('expected a refusal');
  return result.error;
}

// ─── Then ──────────────────────────────────────────────────────────────────────────────────────────

function expectBalanced(posting: LedgerPosting): void {
  const side = (direction: LedgerLine['direction']) =>
    sumMoney(posting.lines.filter((l) => l.direction === direction).map((l) => l.amount));
  expect(formatMoney(side('DEBIT'))).toBe(formatMoney(side('CREDIT')));
  for (const line of posting.lines) expect(line.amount.isNegative()).toBe(false);
}

const lines = (posting: LedgerPosting) =>
  posting.lines.map((l) => `${l.direction} ${l.account} ${formatMoney(l.amount)}`);

const money = (amount: Decimal | null) => (amount === null ? null : formatMoney(amount));

// ─── Specs ─────────────────────────────────────────────────────────────────────────────────────────

describe('settlement ingest: a covered member above the basic cap (design.md §6)', () => {
  it('Dehong art. 10, 12: un-referred care outside the prefecture is paid at 90 % − 5 points = 85 %', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('100000.00', '0.00') });

    const { posting, writes } = applied(state, dehongSettlement());

    expect(posting.postingId).toBe('SETTLEMENT_APPLIED:533100G0000012345678');
    expect(posting.kind).toBe('SETTLEMENT_APPLIED');
    expect(posting.sourceEventId).toBe('533100G0000012345678');
    expect(posting.sourceTopic).toBe(TOPICS.hospitalSettlement.name);
    expect(posting.sourcePartition).toBe(3);
    expect(posting.sourceOffset).toBe(4711);
    expect(posting.regionCode).toBe(DEHONG);
    expect(posting.insuranceYear).toBe(2024);
    expect(posting.postingDate).toBe('2024-03-11');
    expect(posting.serviceDate).toBe('2024-03-11');
    expect(posting.memberPseudonym).toBe(pseudonym);
    expect(posting.hospitalCode).toBe('H53310200003');
    expect(money(posting.dueAmount)).toBe('10200.00');
    expect(money(posting.claimedAmount)).toBe('10200.00');
    expect(money(posting.varianceAmount)).toBe('0.00');
    expect(posting.policyVersion).toBe('533100@2022-12-31');
    expect(posting.flags).toEqual(['REFERRAL_PENALTY_APPLIED']);
    expect(posting.description).toContain('ratio 0.85 (0.90 less 0.05 referral penalty)');
    expect(posting.description).toContain('Dehong art. 10, art. 12');
    expect(lines(posting)).toEqual([
      'DEBIT DIRECT_CLAIMS_EXPENSE 10200.00',
      'CREDIT HOSPITAL_PAYABLE 10200.00',
    ]);

    expect(writes).toEqual([
      { key: ytdKey(DEHONG), fields: ytd('156000.00', '10200.00') },
      {
        key: stateKeys.settlement('533100G0000012345678'),
        fields: {
          kind: 'settlement',
          region: DEHONG,
          year: '2024',
          pseudonym,
          hospitalCode: 'H53310200003',
          serviceDate: '2024-03-11',
          month: '2024-03',
          settledOn: '2024-03-11',
          claimed: '10200.00',
          due: '10200.00',
          applied: '{"basicFundPaid":"56000.00","supplementPaid":"10200.00"}',
          reversed: '0',
        },
      },
    ]);
  });

  it('Dehong art. 10: referred care is paid at the full 90 %, and an under-claim is a variance too', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('100000.00', '0.00') });

    const { posting } = applied(state, dehongSettlement({ referral: 'REFERRED' }));

    expect(money(posting.dueAmount)).toBe('10800.00');
    expect(money(posting.varianceAmount)).toBe('-600.00');
    expect(posting.flags).toEqual([]);
    expect(lines(posting)).toEqual([
      'DEBIT DIRECT_CLAIMS_EXPENSE 10800.00',
      'CREDIT HOSPITAL_PAYABLE 10800.00',
      'DEBIT HOSPITAL_PAYABLE 600.00',
      'CREDIT CLAIM_VARIANCE_SUSPENSE 600.00',
    ]);
  });

  it('design.md §6 step 2: the basic cap crossed inside this settlement makes the over-cap amount payable', () => {
    // 94000.00 before + 56000.00 now reaches the 150000.00 cap during this very settlement.
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('94000.00', '0.00') });

    const { posting, writes } = applied(state, dehongSettlement());

    expect(money(posting.dueAmount)).toBe('10200.00');
    expect(posting.description).toContain('94000.00 before + 56000.00 now = 150000.00: cap reached');
    expect(writes[0]).toEqual({ key: ytdKey(DEHONG), fields: ytd('150000.00', '10200.00') });
  });

  it('design.md §6 step 2: below the basic cap nothing is due and the whole claim goes to suspense', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('50000.00', '0.00') });

    const { posting, writes } = applied(state, dehongSettlement());

    expect(money(posting.dueAmount)).toBe('0.00');
    expect(money(posting.varianceAmount)).toBe('10200.00');
    expect(posting.flags).toEqual(['BASIC_CAP_NOT_REACHED']);
    expect(lines(posting)).toEqual([
      'DEBIT CLAIM_VARIANCE_SUSPENSE 10200.00',
      'CREDIT HOSPITAL_PAYABLE 10200.00',
    ]);
    // The basic fund still paid, so its year-to-date moves on.
    expect(writes[0]).toEqual({ key: ytdKey(DEHONG), fields: ytd('106000.00', '0.00') });
  });

  it('design.md §2: a settlement below the cap that claims nothing still yields its one posting', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('0.00', '0.00') });
    const record = dehongSettlement({ overBasicCapAmount: yuan('0.00'), supplementClaimed: yuan('0.00') });

    const { posting, writes } = applied(state, record);

    expect(money(posting.dueAmount)).toBe('0.00');
    expect(money(posting.varianceAmount)).toBe('0.00');
    expect(posting.flags).toEqual([]);
    expect(writes[0]).toEqual({ key: ytdKey(DEHONG), fields: ytd('56000.00', '0.00') });
  });

  it('design.md §3: a hospital claiming more than policy allows is booked as payable with the excess in suspense', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('150000.00', '0.00') });

    const { posting, writes } = applied(state, dehongSettlement({ supplementClaimed: yuan('12000.00') }));

    expect(money(posting.claimedAmount)).toBe('12000.00');
    expect(money(posting.dueAmount)).toBe('10200.00');
    expect(money(posting.varianceAmount)).toBe('1800.00');
    expect(lines(posting)).toEqual([
      'DEBIT DIRECT_CLAIMS_EXPENSE 10200.00',
      'CREDIT HOSPITAL_PAYABLE 10200.00',
      'DEBIT CLAIM_VARIANCE_SUSPENSE 1800.00',
      'CREDIT HOSPITAL_PAYABLE 1800.00',
    ]);
    // Only what policy allows counts towards the member's year.
    expect(writes[0]).toEqual({ key: ytdKey(DEHONG), fields: ytd('206000.00', '10200.00') });
    expect(writes[1]?.fields.claimed).toBe('12000.00');
    expect(writes[1]?.fields.due).toBe('10200.00');
  });
});

describe('settlement ingest: the annual supplement cap (Kaifeng art. 14)', () => {
  // Kaifeng 2024: 6 × 70000.00 − 100000.00 = 320000.00 for the supplement.
  it('is used up inside one settlement: due is what is left, flagged, the rest of the claim in suspense', () => {
    const state = new MemoryState({ ...covered(KAIFENG), [ytdKey(KAIFENG)]: ytd('100000.00', '315000.00') });

    const { posting, writes } = applied(state, kaifengSettlement());

    expect(money(posting.dueAmount)).toBe('5000.00');
    expect(money(posting.varianceAmount)).toBe('4000.00');
    expect(posting.flags).toEqual(['ANNUAL_CAP_LIMITED']);
    expect(posting.policyVersion).toBe('410200@2024-01-01');
    expect(posting.description).toContain('5000.00 left: due 5000.00');
    expect(posting.description).toContain('Kaifeng art. 14');
    expect(lines(posting)).toEqual([
      'DEBIT DIRECT_CLAIMS_EXPENSE 5000.00',
      'CREDIT HOSPITAL_PAYABLE 5000.00',
      'DEBIT CLAIM_VARIANCE_SUSPENSE 4000.00',
      'CREDIT HOSPITAL_PAYABLE 4000.00',
    ]);
    expect(writes[0]).toEqual({ key: ytdKey(KAIFENG), fields: ytd('100000.00', '320000.00') });
  });

  it('counts manual reimbursements (payout-ingest’s key) towards the cap, and writes only its own key', () => {
    const state = new MemoryState({
      ...covered(KAIFENG),
      [ytdKey(KAIFENG)]: ytd('60000.00', '300000.00'),
      [manualKey(KAIFENG)]: ytd('40000.00', '15000.00'),
    });

    const { posting, writes } = applied(state, kaifengSettlement());

    expect(money(posting.dueAmount)).toBe('5000.00');
    expect(writes.map((w) => w.key)).not.toContain(manualKey(KAIFENG));
    expect(writes[0]).toEqual({ key: ytdKey(KAIFENG), fields: ytd('60000.00', '305000.00') });
  });

  it('uses the parameters in force on the service date: the 2025 average wage names the policy version', () => {
    const state = new MemoryState({
      [premiumKey(KAIFENG, 2025)]: { covered: '1' },
      [ytdKey(KAIFENG, 2025)]: ytd('100000.00', '0.00'),
    });
    const record = kaifengSettlement({
      serviceDate: '2025-02-01',
      settledAt: new Date('2025-02-01T03:00:00.000Z'),
    });

    const { posting } = applied(state, record);

    expect(posting.insuranceYear).toBe(2025);
    expect(posting.policyVersion).toBe('410200@2025-01-01');
    expect(money(posting.dueAmount)).toBe('9000.00');
  });
});

describe('settlement ingest: a member not covered for the year (design.md §6 step 1)', () => {
  it('premium not yet seen: nothing due, the claim held in suspense, flagged for the reconciler', () => {
    const state = new MemoryState({ [ytdKey(DEHONG)]: ytd('150000.00', '0.00') });

    const { posting, writes } = applied(state, dehongSettlement());

    expect(money(posting.dueAmount)).toBe('0.00');
    expect(money(posting.varianceAmount)).toBe('10200.00');
    expect(posting.flags).toEqual(['NOT_COVERED', 'PREMIUM_NOT_SEEN']);
    expect(posting.description).toContain('premium not yet seen for 2024');
    expect(lines(posting)).toEqual([
      'DEBIT CLAIM_VARIANCE_SUSPENSE 10200.00',
      'CREDIT HOSPITAL_PAYABLE 10200.00',
    ]);
    expect(writes[0]).toEqual({ key: ytdKey(DEHONG), fields: ytd('206000.00', '0.00') });
    expect(writes[1]?.fields.due).toBe('0.00');
  });

  it('premium-ingest says covered "0": not covered, no premium-not-seen flag', () => {
    const state = new MemoryState({
      [premiumKey(DEHONG)]: { covered: '0' },
      [ytdKey(DEHONG)]: ytd('150000.00', '0.00'),
    });

    const { posting } = applied(state, dehongSettlement());

    expect(money(posting.dueAmount)).toBe('0.00');
    expect(posting.flags).toEqual(['NOT_COVERED']);
    expect(posting.description).toContain('not covered for 2024');
    expect(posting.description).not.toContain('premium not yet seen');
  });
});

describe('settlement ingest: reversals (design.md §6 step 5)', () => {
  it('given an applied settlement, its reversal returns the member-year exactly to where it was', () => {
    const before = ytd('100000.00', '20000.00');
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: before });
    const original = applied(state, dehongSettlement({ supplementClaimed: yuan('12000.00') })).posting;

    const { posting, writes } = applied(state, dehongReversal({ supplementClaimed: yuan('-12000.00') }));

    expect(state.hash(ytdKey(DEHONG))).toEqual(before);
    expect(posting.postingId).toBe('SETTLEMENT_REVERSED:533100G0000012399999');
    expect(posting.kind).toBe('SETTLEMENT_REVERSED');
    expect(posting.postingDate).toBe('2024-03-12');
    expect(money(posting.dueAmount)).toBe('-10200.00');
    expect(money(posting.claimedAmount)).toBe('-12000.00');
    expect(money(posting.varianceAmount)).toBe('-1800.00');
    const flipped = original.lines.map(
      (l) => `${l.direction === 'DEBIT' ? 'CREDIT' : 'DEBIT'} ${l.account} ${formatMoney(l.amount)}`,
    );
    expect(lines(posting).sort()).toEqual(flipped.sort());
    expect(posting.description).toContain('reverses SETTLEMENT_APPLIED:533100G0000012345678');

    expect(writes).toEqual([
      { key: ytdKey(DEHONG), fields: before },
      {
        key: stateKeys.settlement('533100G0000012345678'),
        fields: { reversed: '1', reversedBy: '533100G0000012399999' },
      },
      {
        key: stateKeys.settlement('533100G0000012399999'),
        fields: {
          kind: 'reversal',
          region: DEHONG,
          year: '2024',
          pseudonym,
          hospitalCode: 'H53310200003',
          serviceDate: '2024-03-11',
          month: '2024-03',
          settledOn: '2024-03-12',
          claimed: '-12000.00',
          due: '-10200.00',
          applied: '{"basicFundPaid":"-56000.00","supplementPaid":"-10200.00"}',
          reversed: '0',
          originalSettlementId: '533100G0000012345678',
        },
      },
    ]);
  });

  it('undoes what was applied even when a Kaifeng cap limited it, so the next settlement sees the cap as before', () => {
    const state = new MemoryState({ ...covered(KAIFENG), [ytdKey(KAIFENG)]: ytd('100000.00', '315000.00') });
    applied(state, kaifengSettlement());
    const reversal = dehongReversal({
      settlementId: '410200G0000000000778',
      originalSettlementId: '410200G0000000000777',
      hospitalCode: 'H41020200015',
      regionCode: KAIFENG,
      serviceDate: '2024-06-10',
      reversedAt: new Date('2024-06-11T02:00:00.000Z'),
      outOfArea: false,
      referral: 'NOT_APPLICABLE',
      totalMedicalCost: yuan('-60000.00'),
      fullOwnPayAmount: yuan('-2000.00'),
      inScopeAmount: yuan('-50000.00'),
      basicFundPaid: yuan('0.00'),
      overBasicCapAmount: yuan('-10000.00'),
      supplementClaimed: yuan('-9000.00'),
    });

    const { posting } = applied(state, reversal);

    expect(money(posting.dueAmount)).toBe('-5000.00');
    expect(state.hash(ytdKey(KAIFENG))).toEqual(ytd('100000.00', '315000.00'));
  });

  it('refuses the reversal of a settlement the hub never applied', () => {
    const error = refusedAtDecide(new MemoryState(covered(DEHONG)), dehongReversal());

    expect(error).toMatchObject({
      code: 'UNKNOWN_SETTLEMENT',
      field: 'originalSettlementId',
      value: '533100G0000012345678',
    });
  });

  it('refuses a second reversal of the same settlement', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('100000.00', '0.00') });
    applied(state, dehongSettlement());
    applied(state, dehongReversal());

    const error = refusedAtDecide(state, dehongReversal({ settlementId: '533100G0000012400000' }));

    expect(error).toMatchObject({ code: 'ALREADY_REVERSED', field: 'originalSettlementId' });
    expect(error.rule).toContain('533100G0000012399999');
  });

  it('refuses a reversal naming another hospital, or other amounts, than the original', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('100000.00', '0.00') });
    applied(state, dehongSettlement());

    expect(refusedAtDecide(state, dehongReversal({ hospitalCode: 'H53310200004' }))).toMatchObject({
      code: 'REVERSAL_MISMATCH',
      field: 'hospitalCode',
      value: 'H53310200004',
    });
    expect(refusedAtDecide(state, dehongReversal({ supplementClaimed: yuan('-10000.00') }))).toMatchObject({
      code: 'REVERSAL_MISMATCH',
      field: 'supplementClaimed',
    });
    // Another member (another valid ID, hence another pseudonym): the refusal never shows either.
    const other = refusedAtDecide(state, dehongReversal({ nationalId: '110101199003074477' }));
    expect(other).toMatchObject({ code: 'REVERSAL_MISMATCH', field: 'nationalId' });
    expect(other.value).toBeUndefined();
    expect(JSON.stringify(other)).not.toContain('110101199003074477');
  });

  it('refuses a reversal that names itself as the original', () => {
    const error = refusedAtParse(dehongReversal({ originalSettlementId: '533100G0000012399999' }));

    expect(error).toMatchObject({ code: 'REVERSAL_MISMATCH', field: 'originalSettlementId' });
  });
});

describe('settlement ingest: refusals at parse, each naming the field and the rule', () => {
  const cases: readonly [string, HospitalSettlement, Partial<InvalidInput>][] = [
    [
      'a national ID whose check character does not match',
      dehongSettlement({ nationalId: '110105194912310021' }),
      { code: 'ID_CHECKSUM', field: 'nationalId' },
    ],
    [
      'a region with no policy',
      dehongSettlement({ regionCode: '999999' }),
      { code: 'UNKNOWN_REGION', field: 'regionCode', value: '999999' },
    ],
    [
      "care at home with a hospital code outside the region's pattern",
      dehongSettlement({ hospitalCode: 'H41020200015', outOfArea: false, referral: 'NOT_APPLICABLE' }),
      { code: 'UNKNOWN_HOSPITAL', field: 'hospitalCode', value: 'H41020200015' },
    ],
    [
      'care elsewhere with a code that is not an institution code',
      dehongSettlement({ hospitalCode: 'X123', outOfArea: true, referral: 'REFERRED' }),
      { code: 'UNKNOWN_HOSPITAL', field: 'hospitalCode', value: 'X123' },
    ],
    [
      'a negative amount',
      dehongSettlement({ basicFundPaid: yuan('-0.01') }),
      { code: 'AMOUNT_NEGATIVE', field: 'basicFundPaid', value: '-0.01' },
    ],
    [
      'a negative optional platform amount',
      dehongSettlement({ cashPaid: yuan('-5.00') }),
      { code: 'AMOUNT_NEGATIVE', field: 'cashPaid' },
    ],
    [
      'an amount with more than two decimals',
      dehongSettlement({ supplementClaimed: yuan('10200.005') }),
      { code: 'AMOUNT_PRECISION', field: 'supplementClaimed', value: '10200.005' },
    ],
    [
      'an in-scope amount above the total',
      dehongSettlement({ inScopeAmount: yuan('90000.00') }),
      { code: 'AMOUNT_INCONSISTENT', field: 'inScopeAmount', value: '90000.00 > 86543.21' },
    ],
    [
      'an over-cap amount above the in-scope amount',
      dehongSettlement({ overBasicCapAmount: yuan('80000.01') }),
      { code: 'AMOUNT_INCONSISTENT', field: 'overBasicCapAmount' },
    ],
    [
      'a service date after the settlement (China time)',
      dehongSettlement({ serviceDate: '2024-03-12' }),
      { code: 'SERVICE_DATE_OUTSIDE_COVER', field: 'serviceDate', value: '2024-03-12' },
    ],
    [
      'a service date before the region’s policy takes effect',
      kaifengSettlement({ serviceDate: '2023-12-20' }),
      { code: 'NO_POLICY_IN_FORCE', field: 'serviceDate', value: '2023-12-20' },
    ],
    [
      'a certificate other than the resident ID',
      dehongSettlement({ certificateType: '02' }),
      { code: 'CERTIFICATE_TYPE', field: 'certificateType', value: '02' },
    ],
    [
      'an insurance type other than employee basic insurance',
      dehongSettlement({ insuranceType: '390' }),
      { code: 'INSURANCE_TYPE', field: 'insuranceType', value: '390' },
    ],
    [
      'out-of-area care without a referral status',
      dehongSettlement({ referral: 'NOT_APPLICABLE' }),
      { code: 'REFERRAL_INCONSISTENT', field: 'referral' },
    ],
    [
      'an empty settlement id',
      dehongSettlement({ settlementId: ' ' }),
      { code: 'SETTLEMENT_ID_EMPTY', field: 'settlementId' },
    ],
  ];

  it.each(cases)('refuses %s', (_, record, expected) => {
    const error = refusedAtParse(record);
    expect(error).toMatchObject(expected);
    expect(error.rule.length).toBeGreaterThan(10);
  });

  it('refuses a reversal carrying a positive amount (its amounts are the original’s with the opposite sign)', () => {
    expect(refusedAtParse(dehongReversal({ basicFundPaid: yuan('56000.00') }))).toMatchObject({
      code: 'AMOUNT_POSITIVE',
      field: 'basicFundPaid',
    });
  });

  it('accepts a service date that is the settlement day in China though still the day before in UTC', () => {
    const input = parsed(
      dehongSettlement({ serviceDate: '2024-03-12', settledAt: new Date('2024-03-11T17:00:00.000Z') }),
    );
    expect(input.postingDate).toBe('2024-03-12');
  });
});

describe('settlement ingest: identity, state keys and effectively-once', () => {
  it('replaces the national ID and person number by the pseudonym, and names every key decide reads', () => {
    const input = parsed(dehongSettlement());

    expect(input.pseudonym).toMatch(/^m_[0-9a-f]{32}$/);
    expect(settlementIngest.eventId(input)).toBe('533100G0000012345678');
    expect(settlementIngest.stateKeys(input)).toEqual([
      premiumKey(DEHONG),
      ytdKey(DEHONG),
      manualKey(DEHONG),
      stateKeys.settlement('533100G0000012345678'),
    ]);
    expect(settlementIngest.stateKeys(parsed(dehongReversal()))).toEqual([
      ytdKey(DEHONG),
      manualKey(DEHONG),
      stateKeys.settlement('533100G0000012345678'),
      stateKeys.settlement('533100G0000012399999'),
    ]);
  });

  it('decides alike every time from the same state: same posting id, same lines, same writes', () => {
    const initial = { ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('100000.00', '0.00') };

    const first = decideOn(new MemoryState(initial), dehongSettlement());
    const second = decideOn(new MemoryState(initial), dehongSettlement());

    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('refuses a settlement already applied (a redelivery that outlived the runner’s memo)', () => {
    const state = new MemoryState({ ...covered(DEHONG), [ytdKey(DEHONG)]: ytd('100000.00', '0.00') });
    applied(state, dehongSettlement());

    expect(refusedAtDecide(state, dehongSettlement())).toMatchObject({
      code: 'DUPLICATE_EVENT',
      field: 'settlementId',
    });
    expect(state.hash(ytdKey(DEHONG))).toEqual(ytd('156000.00', '10200.00'));
  });

  it('is wired to the hospital settlement topic, its dead letters and the ledger', () => {
    expect(settlementIngest.name).toBe('settlement-ingest');
    expect(settlementIngest.input).toBe(TOPICS.hospitalSettlement);
    expect(settlementIngest.deadLetters).toBe(TOPICS.settlementDeadLetters);
    expect(settlementIngest.outputs).toEqual([TOPICS.ledger]);
  });
});

describe('异地就医: direct settlement outside the prefecture', () => {
  it("accepts another region's hospital when the care was out of area (Dehong art. 12 prices it)", () => {
    const result = settlementIngest.parse(
      decoded(dehongSettlement({ hospitalCode: 'H41020200015', outOfArea: true, referral: 'REFERRED' })),
      parseContext,
    );
    expect(result.ok).toBe(true);
  });
});
