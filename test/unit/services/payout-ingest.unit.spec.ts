import { describe, expect, it } from 'vitest';
import { payoutIngestService } from '../../../services/payout-ingest/adapter.js';
import type { PayoutFact } from '../../../services/payout-ingest/decide.js';
import { Decimal } from '../../../shared/money.js';
import type {
  InsurerMonthlySettlement,
  ManualReimbursement,
  OperatingCost,
} from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import { NO_STATE } from '../../../shared/runner/service.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';
import { accepted, decideContextFor, MEMBER, onlyJournalOutput, parseContextFor, refusal } from './ingest.js';

const payoutIngest = payoutIngestService(TOPICS);

// Payout ingest is stateless: a monthly hospital settlement, a manual reimbursement or an operating cost
// is checked on its own, a manual claim's member pseudonymised, and the fact published on the journal.
// What is due is decided by accounting; whether the insurer paid it, by the reconciler.

const DEHONG = '533100';
const HOSPITAL = 'H53310200003';
const yuan = (text: string) => new Decimal(text);

const parseContext = parseContextFor(TOPICS.insurerPayout, 4, '1234567', '2025-06-01T01:00:00.000Z');
const decideContext = decideContextFor(parseContext);
const ORIGIN = {
  topic: TOPICS.insurerPayout.name,
  partition: 4,
  offset: 1234567,
  receivedAt: new Date('2025-06-01T01:00:00.000Z'),
};

function monthly(overrides: Partial<InsurerMonthlySettlement> = {}): DecodedValue {
  return {
    record: 'insurer-monthly-settlement',
    schemaId: 5,
    value: { ...avroSamples['insurer-monthly-settlement'], ...overrides },
  };
}

/** A Dehong member treated in 2025 at a Dehong hospital: 10 000.00 over the basic cap, 9 000.00 paid. */
function manual(overrides: Partial<ManualReimbursement> = {}): DecodedValue {
  return {
    record: 'manual-reimbursement',
    schemaId: 6,
    value: {
      ...avroSamples['manual-reimbursement'],
      claimId: 'CLM-533100-2025-000001',
      serviceYear: 2025,
      serviceDate: '2025-06-10',
      outOfArea: false,
      referral: 'NOT_APPLICABLE',
      hospitalCode: HOSPITAL,
      inScopeAmount: yuan('40000.00'),
      basicFundPaid: yuan('0.00'),
      overBasicCapAmount: yuan('10000.00'),
      receivedOn: '2025-07-01',
      paidOn: '2025-07-15',
      amountPaid: yuan('9000.00'),
      ...overrides,
    },
  };
}

function operatingCost(overrides: Partial<OperatingCost> = {}): DecodedValue {
  return { record: 'operating-cost', schemaId: 7, value: { ...avroSamples['operating-cost'], ...overrides } };
}

const parse = (decoded: DecodedValue) => payoutIngest.parse(decoded, parseContext);
const parsed = (decoded: DecodedValue): PayoutFact => accepted(parse(decoded));
const decide = (decoded: DecodedValue) => payoutIngest.decide(parsed(decoded), NO_STATE, decideContext);

describe('payout ingest: wiring', () => {
  it('reads the insurer payout topic and writes only the journal; it keeps no state', () => {
    expect(payoutIngest.name).toBe('payout-ingest');
    expect(payoutIngest.input).toBe(TOPICS.insurerPayout);
    expect(payoutIngest.deadLetters).toBe(TOPICS.payoutDeadLetters);
    expect(payoutIngest.outputs).toEqual([TOPICS.journal]);
    expect(payoutIngest.state).toBeUndefined();
  });

  it('refuses a record that does not belong on the insurer payout topic', () => {
    const decoded: DecodedValue = {
      record: 'premium-collected',
      schemaId: 1,
      value: avroSamples['premium-collected'],
    };
    expect(refusal(parse(decoded))).toMatchObject({
      code: 'UNEXPECTED_RECORD',
      field: 'value',
      value: 'premium-collected',
    });
  });
});

describe('payout ingest: monthly settlements with hospitals (Dehong art. 15)', () => {
  it('is published on the journal under the hospital code, with the settlements it lists', () => {
    const output = onlyJournalOutput(decide(monthly()));

    expect(output).toMatchObject({ topic: TOPICS.journal, key: HOSPITAL, record: 'journal-hospital-payout' });
    expect(output.value).toEqual({
      payoutId: 'INS-533100-H53310200003-2024-03',
      regionCode: DEHONG,
      hospitalCode: HOSPITAL,
      month: '2024-03',
      // Dehong art. 11: the calendar year of the month settled.
      insuranceYear: 2024,
      amount: yuan('1234567.89'),
      paidOn: '2024-04-15',
      settlementIds: ['533100G0000012345678', '533100G0000012399999', '533100G0000012400001'],
      origin: ORIGIN,
    });
  });

  it('December paid in January belongs to the year of the month, not of the payment', () => {
    const fact = parsed(monthly({ month: '2024-12', paidOn: '2025-01-15' }));
    expect(fact.kind === 'hospital-month' && fact.fact.insuranceYear).toBe(2024);
  });

  it('a month whose reversals outweigh its settlements is a recovery from the hospital: negative is accepted', () => {
    const fact = parsed(monthly({ amount: yuan('-10200.00') }));
    expect(fact.kind === 'hospital-month' && fact.fact.amount.toFixed(2)).toBe('-10200.00');
  });

  it('a payment on the first day of its month is accepted', () => {
    const fact = parsed(monthly({ month: '2024-04', paidOn: '2024-04-01' }));
    expect(
      fact.kind === 'hospital-month' && [fact.fact.month, fact.fact.paidOn, fact.fact.insuranceYear],
    ).toEqual(['2024-04', '2024-04-01', 2024]);
  });

  it.each([
    ['an unknown region', monthly({ regionCode: '999999' }), { code: 'UNKNOWN_REGION', field: 'regionCode' }],
    [
      "a hospital code outside the region's pattern",
      monthly({ hospitalCode: 'H41020200015' }),
      { code: 'UNKNOWN_HOSPITAL', field: 'hospitalCode', value: 'H41020200015' },
    ],
    [
      'a month that is not YYYY-MM',
      monthly({ month: '2024-13' }),
      { code: 'MONTH_FORMAT', field: 'month', value: '2024-13' },
    ],
    [
      'a payment before its month began',
      monthly({ month: '2024-05' }),
      { code: 'PAID_BEFORE_MONTH', field: 'paidOn', value: '2024-04-15' },
    ],
    ['a zero payment', monthly({ amount: yuan('0.00') }), { code: 'AMOUNT_ZERO', field: 'amount' }],
    ['three decimals', monthly({ amount: yuan('1.001') }), { code: 'AMOUNT_PRECISION', field: 'amount' }],
    ['no settlements', monthly({ settlementIds: [] }), { code: 'NO_SETTLEMENTS', field: 'settlementIds' }],
    [
      'a settlement listed twice',
      monthly({ settlementIds: ['A', 'B', 'A'] }),
      { code: 'DUPLICATE_SETTLEMENT_ID', field: 'settlementIds[2]', value: 'A' },
    ],
    [
      'an empty settlement id in the list',
      monthly({ settlementIds: ['A', ''] }),
      { code: 'MISSING_EVENT_ID', field: 'settlementIds[1]' },
    ],
    ['an empty payout id', monthly({ payoutId: '' }), { code: 'MISSING_EVENT_ID', field: 'payoutId' }],
    [
      'a payment date that is no date',
      monthly({ paidOn: '2024-04-31' }),
      { code: 'INVALID_DATE', field: 'paidOn' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parse(decoded))).toMatchObject(expected);
  });
});

describe('payout ingest: manual reimbursements (Dehong art. 16)', () => {
  it('is pseudonymised and published under the member, with receipt and payment for the service level', () => {
    const output = onlyJournalOutput(decide(manual()));

    expect(output).toMatchObject({ topic: TOPICS.journal, key: MEMBER, record: 'journal-manual-claim' });
    expect(output.value).toEqual({
      claimId: 'CLM-533100-2025-000001',
      regionCode: DEHONG,
      memberPseudonym: MEMBER,
      insuranceYear: 2025,
      serviceDate: '2025-06-10',
      medicalType: 'SPECIAL_OUTPATIENT',
      hospitalCode: HOSPITAL,
      outOfArea: false,
      referral: 'NOT_APPLICABLE',
      inScopeAmount: yuan('40000.00'),
      basicFundPaid: yuan('0.00'),
      overBasicCapAmount: yuan('10000.00'),
      receivedOn: '2025-07-01',
      paidOn: '2025-07-15',
      amountPaid: yuan('9000.00'),
      origin: ORIGIN,
    });
  });

  it('care outside the region may name another region’s institution, or none', () => {
    const elsewhere = parsed(
      manual({ outOfArea: true, referral: 'NOT_REFERRED', hospitalCode: 'H53010200001' }),
    );
    expect(
      elsewhere.kind === 'manual-claim' && [
        elsewhere.fact.hospitalCode,
        elsewhere.fact.outOfArea,
        elsewhere.fact.referral,
      ],
    ).toEqual(['H53010200001', true, 'NOT_REFERRED']);
    const unnamed = parsed(manual({ outOfArea: true, referral: 'REFERRED', hospitalCode: null }));
    expect(unnamed.kind === 'manual-claim' && [unnamed.fact.hospitalCode, unnamed.fact.referral]).toEqual([
      null,
      'REFERRED',
    ]);
  });

  it('paid on the day it was received is within the rule (0 working days)', () => {
    const fact = parsed(manual({ receivedOn: '2025-07-15' }));
    expect(fact.kind === 'manual-claim' && [fact.fact.receivedOn, fact.fact.paidOn]).toEqual([
      '2025-07-15',
      '2025-07-15',
    ]);
  });

  it('a certificate other than the resident ID is refused as settlement ingest refuses it', () => {
    expect(refusal(parse(manual({ certificateType: '02' })))).toEqual({
      kind: 'invalid-input',
      code: 'CERTIFICATE_TYPE',
      field: 'certificateType',
      rule: 'psn_cert_type must be "01" (居民身份证), the only ID the hub can check (GB 11643-1999)',
      value: '02',
    });
  });

  it('a hospital code outside the region is refused citing the region file (Dehong: illustrative)', () => {
    expect(refusal(parse(manual({ hospitalCode: 'H41020200015' })))).toEqual({
      kind: 'invalid-input',
      code: 'UNKNOWN_HOSPITAL',
      field: 'hospitalCode',
      rule: 'Dehong illustrative: fixmedins_code must match ^H5331\\d{7}$',
      value: 'H41020200015',
    });
  });

  it('a claim paid after the 31 March deadline is still a fact: accounting flags it PAST_DEADLINE', () => {
    const fact = parsed(
      manual({ serviceDate: '2025-11-10', receivedOn: '2026-03-20', paidOn: '2026-04-01' }),
    );
    expect(fact.kind === 'manual-claim' && fact.fact.paidOn).toBe('2026-04-01');
  });

  it.each([
    [
      'a bad check digit',
      manual({ nationalId: '110105194912310021' }),
      { code: 'ID_CHECKSUM', field: 'nationalId' },
    ],
    ['an unknown region', manual({ regionCode: '000000' }), { code: 'UNKNOWN_REGION', field: 'regionCode' }],
    [
      'another certificate type',
      manual({ certificateType: '02' }),
      { code: 'CERTIFICATE_TYPE', field: 'certificateType', value: '02' },
    ],
    [
      'a service date outside the stated year',
      manual({ serviceYear: 2024 }),
      { code: 'SERVICE_DATE_OUTSIDE_YEAR', field: 'serviceDate', value: '2025-06-10' },
    ],
    [
      'an in-area hospital outside the region',
      manual({ hospitalCode: 'H41020200015' }),
      { code: 'UNKNOWN_HOSPITAL', field: 'hospitalCode', value: 'H41020200015' },
    ],
    [
      'out of area without a referral status',
      manual({ outOfArea: true, referral: 'NOT_APPLICABLE' }),
      { code: 'REFERRAL_INCONSISTENT', field: 'referral' },
    ],
    [
      'payment before receipt',
      manual({ receivedOn: '2025-07-16' }),
      { code: 'PAID_BEFORE_RECEIVED', field: 'paidOn', value: '2025-07-15' },
    ],
    [
      'receipt before treatment',
      manual({ receivedOn: '2025-06-09', paidOn: '2025-06-20' }),
      { code: 'RECEIVED_BEFORE_SERVICE', field: 'receivedOn', value: '2025-06-09' },
    ],
    [
      'a negative in-scope amount',
      manual({ inScopeAmount: yuan('-1.00') }),
      { code: 'AMOUNT_NEGATIVE', field: 'inScopeAmount' },
    ],
    [
      'a negative over-cap amount',
      manual({ overBasicCapAmount: yuan('-1.00') }),
      { code: 'AMOUNT_NEGATIVE', field: 'overBasicCapAmount' },
    ],
    [
      'three decimals',
      manual({ amountPaid: yuan('9000.001') }),
      { code: 'AMOUNT_PRECISION', field: 'amountPaid' },
    ],
    [
      'nothing paid',
      manual({ amountPaid: yuan('0.00') }),
      { code: 'AMOUNT_NOT_POSITIVE', field: 'amountPaid' },
    ],
    ['an empty claim id', manual({ claimId: '' }), { code: 'MISSING_EVENT_ID', field: 'claimId' }],
    [
      'a receipt date that is no date',
      manual({ receivedOn: '2025-06-31' }),
      { code: 'INVALID_DATE', field: 'receivedOn' },
    ],
    [
      'a service date before the region’s policy takes effect',
      manual({
        serviceYear: 2022,
        serviceDate: '2022-06-10',
        receivedOn: '2022-07-01',
        paidOn: '2022-07-15',
      }),
      { code: 'NO_POLICY_IN_FORCE', field: 'serviceDate' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parse(decoded))).toMatchObject(expected);
  });
});

describe('payout ingest: operating costs (Dehong art. 21)', () => {
  it('is published under the region code', () => {
    const output = onlyJournalOutput(decide(operatingCost({ amount: yuan('5000.00') })));

    expect(output).toMatchObject({ topic: TOPICS.journal, key: DEHONG, record: 'journal-operating-cost' });
    expect(output.value).toEqual({
      costId: 'OPC-533100-2024-03-001',
      regionCode: DEHONG,
      period: '2024-03',
      insuranceYear: 2024,
      category: 'IT_SYSTEMS',
      amount: yuan('5000.00'),
      recordedOn: '2024-03-31',
      description: '系统运维费冲减',
      origin: ORIGIN,
    });
  });

  it('a credit note (the fixture, −0.01) is accepted', () => {
    const fact = parsed(operatingCost());
    expect(fact.kind === 'operating-cost' && fact.fact.amount.toFixed(2)).toBe('-0.01');
  });

  it.each([
    ['a zero amount', operatingCost({ amount: yuan('0.00') }), { code: 'AMOUNT_ZERO', field: 'amount' }],
    [
      'a bad period',
      operatingCost({ period: '2024-3' }),
      { code: 'MONTH_FORMAT', field: 'period', value: '2024-3' },
    ],
    [
      'an unknown region',
      operatingCost({ regionCode: '123456' }),
      { code: 'UNKNOWN_REGION', field: 'regionCode' },
    ],
    ['an empty cost id', operatingCost({ costId: ' ' }), { code: 'MISSING_EVENT_ID', field: 'costId' }],
    [
      'a recording date that is no date',
      operatingCost({ recordedOn: '2024-02-30' }),
      { code: 'INVALID_DATE', field: 'recordedOn' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parse(decoded))).toMatchObject(expected);
  });
});
