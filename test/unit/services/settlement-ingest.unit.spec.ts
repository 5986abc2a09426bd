import { describe, expect, it } from 'vitest';
import { settlementIngestService } from '../../../services/settlement-ingest/adapter.js';
import type { SettlementFact } from '../../../services/settlement-ingest/decide.js';
import { Decimal } from '../../../shared/money.js';
import type { HospitalSettlement, HospitalSettlementReversal } from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import { NO_STATE } from '../../../shared/runner/service.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';
import {
  accepted,
  decideContextFor,
  expectNoNationalId,
  journalOutputs,
  MEMBER,
  MEMBER_ID,
  onlyJournalOutput,
  parseContextFor,
  refusal,
  wireDigest,
} from './ingest.js';

const settlementIngest = settlementIngestService(TOPICS);

// Settlement ingest is stateless: a direct settlement or its reversal is checked on its own, the
// national ID and person number are dropped for the member's pseudonym, and the fact is published on the
// journal. What the supplement owes is decided by accounting (accounting.unit.spec.ts).

// ─── Given ─────────────────────────────────────────────────────────────────────────────────────────

const yuan = (text: string) => new Decimal(text);
const DEHONG = '533100';
const KAIFENG = '410200';
const PERSON_NO = avroSamples['hospital-settlement'].personNo;

const parseContext = parseContextFor(TOPICS.hospitalSettlement, 3, '4711', '2024-06-30T02:00:00.000Z');
const decideContext = decideContextFor(parseContext);
const ORIGIN = {
  topic: TOPICS.hospitalSettlement.name,
  partition: 3,
  offset: 4711,
  receivedAt: new Date('2024-06-30T02:00:00.000Z'),
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

/** Kaifeng, 2024-06-10, in the city: over cap 10000.00, no basic fund this time, claims 9000.00. */
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

/** Personal data must appear nowhere the service hands on: neither the ID nor the person number. */
function expectNoPersonalData(x: unknown): void {
  expectNoNationalId(x);
  expect(JSON.stringify(x)).not.toContain(PERSON_NO);
}

function parse(record: HospitalSettlement | HospitalSettlementReversal) {
  const result = settlementIngest.parse(decoded(record), parseContext);
  expectNoPersonalData(result);
  return result;
}

const parsed = (record: HospitalSettlement | HospitalSettlementReversal): SettlementFact =>
  accepted(parse(record));
const refusedAtParse = (record: HospitalSettlement | HospitalSettlementReversal) => refusal(parse(record));

// ─── Specs ─────────────────────────────────────────────────────────────────────────────────────────

describe('settlement ingest: wiring', () => {
  it('reads the hospital settlement topic and writes only the journal; it keeps no state', () => {
    expect(settlementIngest.name).toBe('settlement-ingest');
    expect(settlementIngest.input).toBe(TOPICS.hospitalSettlement);
    expect(settlementIngest.deadLetters).toBe(TOPICS.settlementDeadLetters);
    expect(settlementIngest.outputs).toEqual([TOPICS.journal]);
    expect(settlementIngest.state).toBeUndefined();
  });
});

describe('settlement ingest: a settlement becomes a pseudonymised journal fact', () => {
  it('keeps the figures accounting decides from, with the pseudonym for the ID and person number', () => {
    const fact = parsed(dehongSettlement());

    expect(fact).toEqual({
      kind: 'settlement',
      fact: {
        visitId: '533100M0000098765432',
        regionCode: DEHONG,
        hospitalCode: 'H53310200003',
        memberPseudonym: MEMBER,
        insuranceYear: 2024,
        serviceDate: '2024-03-11',
        medicalType: 'INPATIENT',
        outOfArea: true,
        referral: 'NOT_REFERRED',
        inScopeAmount: yuan('80000.00'),
        basicFundPaid: yuan('56000.00'),
        overBasicCapAmount: yuan('12000.00'),
        supplementClaimed: yuan('10200.00'),
        origin: ORIGIN,
        settlementId: '533100G0000012345678',
        settledAt: new Date('2024-03-11T07:42:13.250Z'),
      },
    });
  });

  it('is published on the journal under the member pseudonym, in the order the hospital sent it', () => {
    const fact = parsed(dehongSettlement());
    const output = onlyJournalOutput(settlementIngest.decide(fact, NO_STATE, decideContext));

    expect(output).toMatchObject({ topic: TOPICS.journal, key: MEMBER, record: 'journal-settlement' });
    expect(output.partition).toBeUndefined();
    expect(output.value).toEqual(fact.fact);
  });

  it('Dehong art. 11: the insurance year is the calendar year of the service date', () => {
    const fact = parsed(
      dehongSettlement({ serviceDate: '2024-12-31', settledAt: new Date('2025-01-02T03:00:00.000Z') }),
    );
    expect(fact.fact.insuranceYear).toBe(2024);
  });

  it('accepts a service date that is the settlement day in China though still the day before in UTC', () => {
    // 17:00 UTC on 11 March is 01:00 on 12 March in China.
    const fact = parsed(
      dehongSettlement({ serviceDate: '2024-03-12', settledAt: new Date('2024-03-11T17:00:00.000Z') }),
    );
    expect(fact.fact.serviceDate).toBe('2024-03-12');
  });

  it("异地就医: accepts another region's hospital when the care was out of area (Dehong art. 12 prices it)", () => {
    const fact = parsed(
      dehongSettlement({ hospitalCode: 'H41020200015', outOfArea: true, referral: 'REFERRED' }),
    );
    expect([fact.fact.regionCode, fact.fact.hospitalCode, fact.fact.outOfArea, fact.fact.referral]).toEqual([
      DEHONG,
      'H41020200015',
      true,
      'REFERRED',
    ]);
  });

  it('Kaifeng: care in the city with a Kaifeng hospital code', () => {
    const fact = parsed(kaifengSettlement());
    expect(fact.fact).toMatchObject({
      regionCode: KAIFENG,
      insuranceYear: 2024,
      hospitalCode: 'H41020200015',
    });
  });

  // Pinned to what it gave when this was written: renew only for a change meant to alter the journal record.
  it('decides alike every time: the same record gives the same journal record, byte for byte', () => {
    const once = () =>
      journalOutputs(settlementIngest.decide(parsed(dehongSettlement()), NO_STATE, decideContext)).map(
        wireDigest,
      );
    expect(once()).toEqual(once());
    expect(once()).toEqual([
      `${MEMBER} journal-settlement 0421adf5d83dc220d86fbd9989a966eb6979e9df5cb44a99ec1c1885818a30f1`,
    ]);
  });
});

describe('settlement ingest: a reversal (退费/冲销) becomes a journal fact; accounting matches it to its settlement', () => {
  it('carries the amounts with the opposite sign, and the settlement it reverses', () => {
    const fact = parsed(dehongReversal());

    expect(fact).toEqual({
      kind: 'reversal',
      fact: {
        visitId: '533100M0000098765432',
        regionCode: DEHONG,
        hospitalCode: 'H53310200003',
        memberPseudonym: MEMBER,
        insuranceYear: 2024,
        serviceDate: '2024-03-11',
        medicalType: 'INPATIENT',
        outOfArea: true,
        referral: 'NOT_REFERRED',
        inScopeAmount: yuan('-80000.00'),
        basicFundPaid: yuan('-56000.00'),
        overBasicCapAmount: yuan('-12000.00'),
        supplementClaimed: yuan('-10200.00'),
        origin: ORIGIN,
        settlementId: '533100G0000012399999',
        originalSettlementId: '533100G0000012345678',
        reversedAt: new Date('2024-03-12T01:05:00.000Z'),
      },
    });
  });

  it('goes to the same member partition as its settlement, keyed by the pseudonym', () => {
    const output = onlyJournalOutput(
      settlementIngest.decide(parsed(dehongReversal()), NO_STATE, decideContext),
    );
    expect(output).toMatchObject({ key: MEMBER, record: 'journal-settlement-reversal' });
  });

  it('refuses a reversal that names itself as the original', () => {
    expect(refusedAtParse(dehongReversal({ originalSettlementId: '533100G0000012399999' }))).toMatchObject({
      code: 'REVERSAL_MISMATCH',
      field: 'originalSettlementId',
      value: '533100G0000012399999',
    });
  });

  it('refuses a reversal naming no settlement', () => {
    expect(refusedAtParse(dehongReversal({ originalSettlementId: '' }))).toMatchObject({
      code: 'MISSING_EVENT_ID',
      field: 'originalSettlementId',
    });
  });

  it('refuses a reversal carrying a positive amount (its amounts are the original’s with the opposite sign)', () => {
    expect(refusedAtParse(dehongReversal({ basicFundPaid: yuan('56000.00') }))).toMatchObject({
      code: 'AMOUNT_POSITIVE',
      field: 'basicFundPaid',
      value: '56000',
    });
  });

  it('compares a reversal’s amounts by size: in-scope larger than the total is inconsistent', () => {
    expect(refusedAtParse(dehongReversal({ inScopeAmount: yuan('-90000.00') }))).toMatchObject({
      code: 'AMOUNT_INCONSISTENT',
      field: 'inScopeAmount',
      value: '-90000.00 > -86543.21',
    });
  });

  it('refuses a reversal without its own setl_id', () => {
    expect(refusedAtParse(dehongReversal({ settlementId: '  ' }))).toMatchObject({
      code: 'MISSING_EVENT_ID',
      field: 'settlementId',
    });
  });
});

describe('settlement ingest: refusals at parse, each naming the field and the rule', () => {
  const cases: readonly [string, HospitalSettlement, Record<string, string>][] = [
    [
      'a national ID whose check character does not match',
      dehongSettlement({ nationalId: '110105194912310021' }),
      { code: 'ID_CHECKSUM', field: 'nationalId', value: '1101**********0021' },
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
      'a basic fund payment above the in-scope amount',
      dehongSettlement({ basicFundPaid: yuan('80000.01') }),
      { code: 'AMOUNT_INCONSISTENT', field: 'basicFundPaid', value: '80000.01 > 80000.00' },
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
      'a service date that is no date',
      dehongSettlement({ serviceDate: '2024-02-30' }),
      { code: 'INVALID_DATE', field: 'serviceDate' },
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
    // shared/ingest/input.ts: every ingest service names an empty event id alike.
    [
      'an empty settlement id',
      dehongSettlement({ settlementId: ' ' }),
      { code: 'MISSING_EVENT_ID', field: 'settlementId', value: ' ' },
    ],
    [
      'a settlement instant that is no instant',
      dehongSettlement({ settledAt: new Date(Number.NaN) }),
      { code: 'INVALID_DATE', field: 'settledAt' },
    ],
  ];

  it.each(cases)('refuses %s', (_, record, expected) => {
    expect(refusedAtParse(record)).toMatchObject(expected);
  });

  it('refuses a record that does not belong on the hospital settlement topic', () => {
    const result = settlementIngest.parse(
      { record: 'premium-collected', schemaId: 1, value: avroSamples['premium-collected'] },
      parseContext,
    );
    expect(refusal(result)).toMatchObject({ code: 'UNEXPECTED_RECORD', field: 'value' });
    // The record refused carries the ID; the refusal does not.
    expect(JSON.stringify(result)).not.toContain(MEMBER_ID);
  });
});
