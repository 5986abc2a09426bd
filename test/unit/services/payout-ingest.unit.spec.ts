import { describe, expect, it } from 'vitest';
import {
  decidePayout,
  type PayoutInput,
  parsePayout,
  payoutEventId,
  payoutStateKeys,
} from '../../../services/payout-ingest/decide.js';
import type { Result } from '../../../shared/errors.js';
import { type NationalId, pseudonymFor, TEST_ONLY_PSEUDONYM_KEY } from '../../../shared/identity.js';
import { Decimal, formatMoney } from '../../../shared/money.js';
import type {
  InsurerMonthlySettlement,
  ManualReimbursement,
  OperatingCost,
} from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import type { DecideContext, Decision, StateView } from '../../../shared/runner/service.js';
import { stateKeys } from '../../../shared/state-keys.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { decided, lines, onlyPosting } from './postings.js';

// The GB 11643-1999 published example ID (as in the fixtures); it must never appear in any output.
const MEMBER_ID = '11010519491231002X';
const MEMBER = pseudonymFor(MEMBER_ID as NationalId, TEST_ONLY_PSEUDONYM_KEY);
const DEHONG = '533100';
const HOSPITAL = 'H53310200003';
const yuan = (text: string) => new Decimal(text);

const parseContext = { pseudonymKey: TEST_ONLY_PSEUDONYM_KEY, receivedOn: '2025-06-01' };
const decideContext: DecideContext = {
  source: { topic: 'medfund.insurer.payout.v1', partition: 4, offset: '1234567' },
  receivedOn: '2025-06-01',
};

type Hashes = Record<string, Record<string, string>>;

/** A StateView over a plain object: the hashes the runner would have loaded. */
const given = (hashes: Hashes = {}): StateView => ({ hash: (key) => hashes[key] ?? {} });

function monthly(overrides: Partial<InsurerMonthlySettlement> = {}): DecodedValue {
  return {
    record: 'insurer-monthly-settlement',
    schemaId: 5,
    value: { ...avroSamples['insurer-monthly-settlement'], ...overrides },
  };
}

/** A Dehong member treated in 2025, basic cap already reached: 10 000.00 over the cap, due 9 000.00. */
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

function parsed(decoded: DecodedValue): PayoutInput {
  const result = parsePayout(decoded, parseContext);
  if (!result.ok) throw new Error(`expected the record to parse: ${result.error.code} ${result.error.field}`);
  expect(JSON.stringify(result.value)).not.toContain(MEMBER_ID);
  return result.value;
}

function refusal<T>(result: Result<T>): { code: string; field: string; value?: string } {
  if (result.ok) throw new Error('expected a refusal');
  expect(JSON.stringify(result.error)).not.toContain(MEMBER_ID);
  const { code, field, value } = result.error;
  return value === undefined ? { code, field } : { code, field, value };
}

/** given the state, when the event is decided, then the decision; decide sees only the keys it names. */
function when(hashes: Hashes, decoded: DecodedValue): Result<Decision> {
  const input = parsed(decoded);
  const named = new Set(payoutStateKeys(input));
  const visible = Object.fromEntries(Object.entries(hashes).filter(([key]) => named.has(key)));
  const result = decidePayout(input, given(visible), decideContext);
  if (result.ok) expect(JSON.stringify(result.value)).not.toContain(MEMBER_ID);
  return result;
}

const money = (amount: Decimal | null) => (amount === null ? null : formatMoney(amount));

describe('payout ingest: monthly settlements with hospitals (Dehong art. 15)', () => {
  const [first, reversal, third] = avroSamples['insurer-monthly-settlement'].settlementIds as [
    string,
    string,
    string,
  ];
  const settlement = (due: string, extra: Record<string, string> = {}) => ({
    region: DEHONG,
    year: '2024',
    pseudonym: MEMBER,
    hospitalCode: HOSPITAL,
    serviceDate: '2024-03-11',
    claimed: due,
    due,
    reversed: '0',
    ...extra,
  });
  // As settlement-ingest stores them: the reversal under its own id with the opposite due.
  const settlements: Hashes = {
    [stateKeys.settlement(first)]: settlement('10200.00', {
      kind: 'settlement',
      reversed: '1',
      reversedBy: reversal,
    }),
    [stateKeys.settlement(reversal)]: settlement('-10200.00', {
      kind: 'reversal',
      originalSettlementId: first,
    }),
    [stateKeys.settlement(third)]: settlement('1234500.00', { kind: 'settlement' }),
  };

  it('reads every listed settlement and nothing else', () => {
    const input = parsed(monthly());
    expect(payoutEventId(input)).toBe('INS-533100-H53310200003-2024-03');
    expect(payoutStateKeys(input)).toEqual([first, reversal, third].map((id) => stateKeys.settlement(id)));
  });

  it.each([
    ['over-paid', '1234567.89', '67.89'],
    ['short-paid', '1234000.00', '-500.00'],
    ['paid as due', '1234500.00', '0.00'],
  ])('%s: the variance shows paid − due, a reversal netting its original', (_case, paid, variance) => {
    const posting = onlyPosting(decided(when(settlements, monthly({ amount: yuan(paid) }))), HOSPITAL);
    expect(posting).toMatchObject({
      postingId: 'HOSPITAL_MONTH_SETTLED:INS-533100-H53310200003-2024-03',
      sourceEventId: 'INS-533100-H53310200003-2024-03',
      sourceTopic: 'medfund.insurer.payout.v1',
      sourcePartition: 4,
      sourceOffset: 1234567,
      regionCode: DEHONG,
      insuranceYear: 2024,
      postingDate: '2024-04-15',
      kind: 'HOSPITAL_MONTH_SETTLED',
      memberPseudonym: null,
      hospitalCode: HOSPITAL,
      policyVersion: '533100@2022-12-31',
    });
    expect(lines(posting)).toEqual([`DEBIT HOSPITAL_PAYABLE ${paid}`, `CREDIT FUND_BANK ${paid}`]);
    expect(money(posting.claimedAmount)).toBe(paid);
    expect(money(posting.dueAmount)).toBe('1234500.00');
    expect(money(posting.varianceAmount)).toBe(variance);
    expect(posting.description).toContain('3 settlements listed (1 of them reversals)');
  });

  it('a reversal listed in a later month nets its original: the insurer recovers the amount', () => {
    const later = monthly({
      payoutId: 'INS-2024-04',
      month: '2024-04',
      paidOn: '2024-05-15',
      settlementIds: [reversal],
      amount: yuan('-10200.00'),
    });
    const posting = onlyPosting(decided(when(settlements, later)), HOSPITAL);
    expect(lines(posting)).toEqual(['DEBIT FUND_BANK 10200.00', 'CREDIT HOSPITAL_PAYABLE 10200.00']);
    expect([money(posting.dueAmount), money(posting.varianceAmount)]).toEqual(['-10200.00', '0.00']);
  });

  it('refuses a month naming a settlement the hub has not applied, at its index', () => {
    const { [stateKeys.settlement(reversal)]: _missing, ...partial } = settlements;
    expect(refusal(when(partial, monthly()))).toEqual({
      code: 'UNKNOWN_SETTLEMENT',
      field: 'settlementIds[1]',
      value: reversal,
    });
  });

  it("refuses a month naming another hospital's settlement", () => {
    const mixed = {
      ...settlements,
      [stateKeys.settlement(third)]: settlement('1.00', { hospitalCode: 'H53310299999' }),
    };
    expect(refusal(when(mixed, monthly()))).toEqual({
      code: 'SETTLEMENT_HOSPITAL_MISMATCH',
      field: 'settlementIds[2]',
      value: third,
    });
  });

  it.each([
    ['an unknown region', monthly({ regionCode: '999999' }), { code: 'UNKNOWN_REGION', field: 'regionCode' }],
    [
      "a hospital code outside the region's pattern",
      monthly({ hospitalCode: 'H41020200015' }),
      { code: 'UNKNOWN_HOSPITAL', field: 'hospitalCode', value: 'H41020200015' },
    ],
    ['a month that is not YYYY-MM', monthly({ month: '2024-13' }), { code: 'MONTH_FORMAT', field: 'month' }],
    [
      'a payment before its month began',
      monthly({ month: '2024-05' }),
      { code: 'PAID_BEFORE_MONTH', field: 'paidOn', value: '2024-04-15' },
    ],
    ['a zero payment', monthly({ amount: yuan('0.00') }), { code: 'AMOUNT_ZERO', field: 'amount' }],
    ['no settlements', monthly({ settlementIds: [] }), { code: 'NO_SETTLEMENTS', field: 'settlementIds' }],
    [
      'a settlement listed twice',
      monthly({ settlementIds: ['A', 'B', 'A'] }),
      { code: 'DUPLICATE_SETTLEMENT_ID', field: 'settlementIds[2]', value: 'A' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parsePayout(decoded, parseContext))).toMatchObject(expected);
  });
});

describe('payout ingest: manual reimbursements (Dehong art. 16)', () => {
  const covered: Hashes = {
    [stateKeys.memberPremiumYear(MEMBER, DEHONG, 2025)]: { covered: '1', reason: 'PAID_IN_FULL_IN_WINDOW' },
    // The basic cap (150 000.00) is reached by direct settlements and earlier manual claims together.
    [stateKeys.memberYearToDate(MEMBER, DEHONG, 2025)]: {
      basicFundPaid: '140000.00',
      supplementPaid: '500.00',
    },
    [stateKeys.memberManualYearToDate(MEMBER, DEHONG, 2025)]: {
      basicFundPaid: '10000.00',
      supplementPaid: '1000.00',
    },
  };

  it('names the member-year, both year-to-dates and the claim as its state', () => {
    const input = parsed(manual());
    expect(payoutEventId(input)).toBe('CLM-533100-2025-000001');
    expect(payoutStateKeys(input)).toEqual([
      stateKeys.memberPremiumYear(MEMBER, DEHONG, 2025),
      stateKeys.memberYearToDate(MEMBER, DEHONG, 2025),
      stateKeys.memberManualYearToDate(MEMBER, DEHONG, 2025),
      stateKeys.manualClaim('CLM-533100-2025-000001'),
    ]);
  });

  it('covered member, paid as due within 20 working days and before 31 March', () => {
    const decision = decided(when(covered, manual()));
    const posting = onlyPosting(decision, MEMBER);
    expect(posting).toMatchObject({
      postingId: 'MANUAL_REIMBURSEMENT:CLM-533100-2025-000001',
      sourceEventId: 'CLM-533100-2025-000001',
      kind: 'MANUAL_REIMBURSEMENT',
      regionCode: DEHONG,
      insuranceYear: 2025,
      postingDate: '2025-07-15',
      serviceDate: '2025-06-10',
      memberPseudonym: MEMBER,
      hospitalCode: HOSPITAL,
    });
    expect(lines(posting)).toEqual(['DEBIT MANUAL_CLAIMS_EXPENSE 9000.00', 'CREDIT FUND_BANK 9000.00']);
    expect([money(posting.claimedAmount), money(posting.dueAmount), money(posting.varianceAmount)]).toEqual([
      '9000.00',
      '9000.00',
      '0.00',
    ]);
    expect(posting.description).toContain('10 working days (limit 20: within SLA)');
    expect(posting.flags).toEqual([]);
    expect(posting.description).toContain('deadline 2026-03-31 met');
    expect(decision.writes).toEqual([
      {
        key: stateKeys.memberManualYearToDate(MEMBER, DEHONG, 2025),
        // Only payout-ingest's own figures move: 10 000.00 + 0.00 basic, 1 000.00 + 9 000.00 supplement.
        fields: { basicFundPaid: '10000.00', supplementPaid: '10000.00' },
      },
      {
        key: stateKeys.manualClaim('CLM-533100-2025-000001'),
        fields: {
          region: DEHONG,
          year: '2025',
          pseudonym: MEMBER,
          due: '9000.00',
          paid: '9000.00',
          receivedOn: '2025-07-01',
          paidOn: '2025-07-15',
          workingDays: '10',
          withinSla: '1',
          deadline: '2026-03-31',
          withinDeadline: '1',
        },
      },
    ]);
  });

  it('Dehong art. 12: out of the prefecture without referral, the ratio drops 5 points', () => {
    const decision = decided(
      when(covered, manual({ outOfArea: true, referral: 'NOT_REFERRED', hospitalCode: 'H53010200001' })),
    );
    const posting = onlyPosting(decision, MEMBER);
    // 10 000.00 × 0.85 = 8 500.00 due; 9 000.00 paid: 500.00 over-paid to suspense.
    expect(lines(posting)).toEqual([
      'DEBIT MANUAL_CLAIMS_EXPENSE 8500.00',
      'CREDIT FUND_BANK 9000.00',
      'DEBIT CLAIM_VARIANCE_SUSPENSE 500.00',
    ]);
    expect(money(posting.varianceAmount)).toBe('500.00');
  });

  it('short-paid: the missing part is credited to suspense', () => {
    const posting = onlyPosting(decided(when(covered, manual({ amountPaid: yuan('8000.00') }))), MEMBER);
    expect(lines(posting)).toEqual([
      'DEBIT MANUAL_CLAIMS_EXPENSE 9000.00',
      'CREDIT FUND_BANK 8000.00',
      'CREDIT CLAIM_VARIANCE_SUSPENSE 1000.00',
    ]);
    expect(money(posting.varianceAmount)).toBe('-1000.00');
  });

  it('over the 20-working-day SLA (National Day holidays do not count)', () => {
    const decision = decided(when(covered, manual({ receivedOn: '2025-09-01', paidOn: '2025-10-20' })));
    expect(onlyPosting(decision, MEMBER).description).toContain('31 working days (limit 20: SLA missed)');
    expect(onlyPosting(decision, MEMBER).flags).toEqual(['SLA_BREACHED']);
    expect(decision.writes[1]?.fields).toMatchObject({
      workingDays: '31',
      withinSla: '0',
      withinDeadline: '1',
    });
  });

  it('paid after 31 March of the next year misses the deadline, even within the SLA', () => {
    const decision = decided(
      when(covered, manual({ serviceDate: '2025-11-10', receivedOn: '2026-03-20', paidOn: '2026-04-01' })),
    );
    expect(onlyPosting(decision, MEMBER).description).toContain('deadline 2026-03-31 missed');
    expect(onlyPosting(decision, MEMBER).flags).toEqual(['PAST_DEADLINE']);
    expect(decision.writes[1]?.fields).toMatchObject({
      workingDays: '8',
      withinSla: '1',
      withinDeadline: '0',
    });
  });

  it('a member not covered for the year is owed nothing: the whole payment is variance', () => {
    const decision = decided(when({}, manual()));
    const posting = onlyPosting(decision, MEMBER);
    expect(lines(posting)).toEqual(['CREDIT FUND_BANK 9000.00', 'DEBIT CLAIM_VARIANCE_SUSPENSE 9000.00']);
    expect([money(posting.dueAmount), money(posting.varianceAmount)]).toEqual(['0.00', '9000.00']);
    expect(posting.description).toContain('NOT_COVERED');
    expect(posting.flags).toEqual(['NOT_COVERED']);
    expect(decision.writes[0]?.fields).toEqual({ basicFundPaid: '0.00', supplementPaid: '0.00' });
  });

  it('the fixture claim (out of area, referred) is due 9 999.99 × 0.90 = 8 999.99, as paid', () => {
    const hashes: Hashes = {
      [stateKeys.memberPremiumYear(MEMBER, DEHONG, 2024)]: { covered: '1' },
      [stateKeys.memberYearToDate(MEMBER, DEHONG, 2024)]: {
        basicFundPaid: '150000.00',
        supplementPaid: '0.00',
      },
    };
    const decoded: DecodedValue = {
      record: 'manual-reimbursement',
      schemaId: 6,
      value: avroSamples['manual-reimbursement'],
    };
    const posting = onlyPosting(decided(when(hashes, decoded)), MEMBER);
    expect(money(posting.dueAmount)).toBe('8999.99');
    expect(money(posting.varianceAmount)).toBe('0.00');
    expect(posting.description).toContain('16 working days');
  });

  it('a year without official holiday data is held: refused with HOLIDAYS_UNKNOWN, to redrive once the year is added', () => {
    const input = parsed(
      manual({
        serviceYear: 2090,
        serviceDate: '2090-01-10',
        receivedOn: '2090-02-01',
        paidOn: '2090-02-10',
      }),
    );
    expect(refusal(decidePayout(input, given(), decideContext))).toEqual({
      code: 'HOLIDAYS_UNKNOWN',
      field: 'receivedOn',
      value: '2090',
    });
  });

  it('refuses a claim already applied (the runner memo may have expired)', () => {
    const hashes = { ...covered, [stateKeys.manualClaim('CLM-533100-2025-000001')]: { due: '9000.00' } };
    expect(refusal(when(hashes, manual()))).toEqual({
      code: 'DUPLICATE_EVENT',
      field: 'claimId',
      value: 'CLM-533100-2025-000001',
    });
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
      { code: 'RECEIVED_BEFORE_SERVICE', field: 'receivedOn' },
    ],
    [
      'a negative in-scope amount',
      manual({ inScopeAmount: yuan('-1.00') }),
      { code: 'AMOUNT_NEGATIVE', field: 'inScopeAmount' },
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
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parsePayout(decoded, parseContext))).toMatchObject(expected);
  });
});

describe('payout ingest: operating costs (Dehong art. 21)', () => {
  it('charges the cost to the fund, keyed by region', () => {
    const input = parsed(operatingCost({ amount: yuan('5000.00') }));
    expect(payoutEventId(input)).toBe('OPC-533100-2024-03-001');
    expect(payoutStateKeys(input)).toEqual([]);
    const decision = decided(when({}, operatingCost({ amount: yuan('5000.00') })));
    const posting = onlyPosting(decision, DEHONG);
    expect(posting).toMatchObject({
      postingId: 'OPERATING_COST:OPC-533100-2024-03-001',
      kind: 'OPERATING_COST',
      insuranceYear: 2024,
      postingDate: '2024-03-31',
      memberPseudonym: null,
      hospitalCode: null,
      claimedAmount: null,
    });
    expect(lines(posting)).toEqual(['DEBIT OPERATING_COST_EXPENSE 5000.00', 'CREDIT FUND_BANK 5000.00']);
    expect(decision.writes).toEqual([]);
  });

  it('a credit note (the fixture, −0.01) gives the cost back', () => {
    const posting = onlyPosting(decided(when({}, operatingCost())), DEHONG);
    expect(lines(posting)).toEqual(['DEBIT FUND_BANK 0.01', 'CREDIT OPERATING_COST_EXPENSE 0.01']);
  });

  it.each([
    ['a zero amount', operatingCost({ amount: yuan('0.00') }), { code: 'AMOUNT_ZERO', field: 'amount' }],
    ['a bad period', operatingCost({ period: '2024-3' }), { code: 'MONTH_FORMAT', field: 'period' }],
    [
      'an unknown region',
      operatingCost({ regionCode: '123456' }),
      { code: 'UNKNOWN_REGION', field: 'regionCode' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parsePayout(decoded, parseContext))).toMatchObject(expected);
  });

  it('refuses a record that does not belong on the insurer payout topic', () => {
    const decoded: DecodedValue = {
      record: 'premium-collected',
      schemaId: 1,
      value: avroSamples['premium-collected'],
    };
    const result = parsePayout(decoded, parseContext);
    expect(refusal(result)).toMatchObject({ code: 'UNEXPECTED_RECORD' });
  });
});
