import { describe, expect, it } from 'vitest';
import {
  decidePremium,
  type PremiumInput,
  parsePremium,
  premiumEventId,
  premiumStateKeys,
} from '../../../services/premium-ingest/decide.js';
import type { Result } from '../../../shared/errors.js';
import { type NationalId, pseudonymFor, TEST_ONLY_PSEUDONYM_KEY } from '../../../shared/identity.js';
import { Decimal } from '../../../shared/money.js';
import type { PremiumCollected, PremiumCorrection } from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import type { DecideContext, Decision, StateView, StateWrite } from '../../../shared/runner/service.js';
import { stateKeys } from '../../../shared/state-keys.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { decided, lines, onlyPosting } from './postings.js';

// The GB 11643-1999 published example ID (as in the fixtures); it must never appear in any output.
const MEMBER_ID = '11010519491231002X';
const OTHER_MEMBER_ID = '53310219800101123X';
const MEMBER = pseudonymFor(MEMBER_ID as NationalId, TEST_ONLY_PSEUDONYM_KEY);
const KAIFENG = '410200';
const DEHONG = '533100';
const yuan = (text: string) => new Decimal(text);

const parseContext = { pseudonymKey: TEST_ONLY_PSEUDONYM_KEY, receivedOn: '2025-06-01' };
const decideContext: DecideContext = {
  source: { topic: 'medfund.tax.premium.v1', partition: 2, offset: '41' },
  receivedOn: '2025-06-01',
};

type Hashes = Record<string, Record<string, string>>;

/** A StateView over plain objects, evolved by applying each decision's writes as the runner would. */
class GivenState implements StateView {
  constructor(readonly hashes: Hashes = {}) {}
  hash(key: string): Readonly<Record<string, string>> {
    return this.hashes[key] ?? {};
  }
  apply(writes: readonly StateWrite[]): void {
    for (const write of writes) this.hashes[write.key] = { ...this.hash(write.key), ...write.fields };
  }
}

function collection(overrides: Partial<PremiumCollected> = {}): DecodedValue {
  return {
    record: 'premium-collected',
    schemaId: 1,
    value: { ...avroSamples['premium-collected'], amount: yuan('120.00'), ...overrides },
  };
}

function correction(overrides: Partial<PremiumCorrection> = {}): DecodedValue {
  return {
    record: 'premium-correction',
    schemaId: 2,
    value: { ...avroSamples['premium-correction'], ...overrides },
  };
}

function parsed(decoded: DecodedValue): PremiumInput {
  const result = parsePremium(decoded, parseContext);
  if (!result.ok) throw new Error(`expected the record to parse: ${result.error.code} ${result.error.field}`);
  return result.value;
}

function refusal<T>(result: Result<T>): { code: string; field: string; value?: string } {
  if (result.ok) throw new Error('expected a refusal');
  expect(JSON.stringify(result.error)).not.toContain(MEMBER_ID);
  const { code, field, value } = result.error;
  return value === undefined ? { code, field } : { code, field, value };
}

/** given the state, when the event is decided, then its decision (applied to the state). */
function when(state: GivenState, decoded: DecodedValue): Decision {
  const input = parsed(decoded);
  for (const key of Object.keys(state.hashes)) {
    // decide may read only what stateKeys names (the runner loads nothing else)
    if (!premiumStateKeys(input).includes(key)) delete state.hashes[key];
  }
  const result = decidePremium(input, state, decideContext);
  if (!result.ok) throw new Error(`expected a decision: ${result.error.code} ${result.error.field}`);
  expect(JSON.stringify(result.value)).not.toContain(MEMBER_ID);
  state.apply(result.value.writes);
  return result.value;
}

/** Decides against an evolving state without trimming it to the event's keys. */
function run(state: GivenState, decoded: DecodedValue): Result<Decision> {
  const result = decidePremium(parsed(decoded), state, decideContext);
  if (result.ok) {
    expect(JSON.stringify(result.value)).not.toContain(MEMBER_ID);
    state.apply(result.value.writes);
  }
  return result;
}

const memberYear = (state: GivenState, region: string, year: number) =>
  state.hash(stateKeys.memberPremiumYear(MEMBER, region, year));

describe('premium ingest: parse', () => {
  it('replaces the national ID by its pseudonym: the parsed input holds no ID', () => {
    const input = parsed(collection());
    expect(input.pseudonym).toBe(MEMBER);
    expect(JSON.stringify(input)).not.toContain(MEMBER_ID);
    expect(premiumEventId(input)).toBe('TAX-410200-2024-000012345');
    expect(premiumStateKeys(input)).toEqual([
      stateKeys.memberPremiumYear(MEMBER, KAIFENG, 2025),
      stateKeys.premiumEvent('TAX-410200-2024-000012345'),
    ]);
  });

  it.each([
    [
      'bad check digit',
      collection({ nationalId: '110105194912310021' }),
      { code: 'ID_CHECKSUM', field: 'nationalId' },
    ],
    ['unknown region', collection({ regionCode: '999999' }), { code: 'UNKNOWN_REGION', field: 'regionCode' }],
    [
      'a cover year before the region policy takes effect',
      collection({ paidOn: '2022-09-15', coverYear: 2023 }),
      { code: 'NO_POLICY_IN_FORCE', field: 'coverYear' },
    ],
    [
      'Dehong art. 6 has no unit withholding',
      collection({
        regionCode: DEHONG,
        payerType: 'UNIT_WITHHOLDING',
        coverYear: 2024,
        paidOn: '2024-03-01',
      }),
      { code: 'PAYER_TYPE_NOT_ACCEPTED', field: 'payerType', value: 'UNIT_WITHHOLDING' },
    ],
    [
      'Kaifeng art. 7 has no personal-account deduction',
      collection({ payerType: 'PERSONAL_ACCOUNT_DEDUCTION' }),
      { code: 'PAYER_TYPE_NOT_ACCEPTED', field: 'payerType', value: 'PERSONAL_ACCOUNT_DEDUCTION' },
    ],
    [
      'zero amount',
      collection({ amount: yuan('0.00') }),
      { code: 'AMOUNT_NOT_POSITIVE', field: 'amount', value: '0' },
    ],
    [
      'negative amount',
      collection({ amount: yuan('-120.00') }),
      { code: 'AMOUNT_NOT_POSITIVE', field: 'amount', value: '-120' },
    ],
    [
      'three decimals',
      collection({ amount: yuan('120.005') }),
      { code: 'AMOUNT_PRECISION', field: 'amount', value: '120.005' },
    ],
    [
      'cover year two years after the payment',
      collection({ coverYear: 2026 }),
      { code: 'COVER_YEAR', field: 'coverYear', value: '2026' },
    ],
    [
      "a cover year before the region's document takes effect",
      collection({ regionCode: DEHONG, payerType: 'UNIT_SHARE', coverYear: 2022, paidOn: '2023-01-05' }),
      { code: 'NO_POLICY_IN_FORCE', field: 'coverYear', value: '2022-01-01' },
    ],
    [
      'empty event id',
      collection({ eventId: ' ' }),
      { code: 'MISSING_EVENT_ID', field: 'eventId', value: ' ' },
    ],
    [
      'correction below zero would be a refund',
      correction({ correctedAmount: yuan('-1.00') }),
      { code: 'AMOUNT_NEGATIVE', field: 'correctedAmount', value: '-1' },
    ],
    [
      'correction with a bad ID',
      correction({ nationalId: '11010519491231002' }),
      { code: 'ID_FORMAT', field: 'nationalId' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    const result = parsePremium(decoded, parseContext);
    expect(refusal(result)).toMatchObject(expected);
  });

  it('shows a refused ID masked, never whole', () => {
    const result = parsePremium(collection({ nationalId: '110105194912310021' }), parseContext);
    expect(refusal(result).value).toBe('1101**********0021');
  });

  it('Dehong art. 6: a unit share is accepted where unit and employee pay jointly', () => {
    const input = parsed(
      collection({ regionCode: DEHONG, payerType: 'UNIT_SHARE', coverYear: 2024, paidOn: '2024-03-01' }),
    );
    expect(input.kind).toBe('collection');
  });

  it('refuses a record that does not belong on the tax premium topic', () => {
    const decoded: DecodedValue = {
      record: 'operating-cost',
      schemaId: 9,
      value: avroSamples['operating-cost'],
    };
    expect(refusal(parsePremium(decoded, parseContext))).toMatchObject({ code: 'UNEXPECTED_RECORD' });
  });
});

describe('premium ingest: collections', () => {
  it('Kaifeng art. 8: paid in full in the window → covered, income posted', () => {
    const state = new GivenState();
    const decision = when(state, collection());
    const posting = onlyPosting(decision, MEMBER);
    expect(posting).toMatchObject({
      postingId: 'PREMIUM_COLLECTED:TAX-410200-2024-000012345',
      sourceEventId: 'TAX-410200-2024-000012345',
      sourceTopic: 'medfund.tax.premium.v1',
      sourcePartition: 2,
      sourceOffset: 41,
      regionCode: KAIFENG,
      insuranceYear: 2025,
      postingDate: '2024-09-15',
      kind: 'PREMIUM_COLLECTED',
      memberPseudonym: MEMBER,
      hospitalCode: null,
      claimedAmount: null,
      varianceAmount: null,
      // Eligibility is decided under the cover year's parameters (Kaifeng's 2025 wage version).
      policyVersion: '410200@2025-01-01',
    });
    expect(lines(posting)).toEqual(['DEBIT FUND_BANK 120.00', 'CREDIT PREMIUM_INCOME 120.00']);
    expect(posting.description).toContain('PAID_IN_FULL_IN_WINDOW (covered)');
    expect(posting.flags).toEqual([]);
    expect(memberYear(state, KAIFENG, 2025)).toEqual({
      payments: JSON.stringify([
        { eventId: 'TAX-410200-2024-000012345', amount: '120.00', paidOn: '2024-09-15' },
      ]),
      enrolledOn: '2016-03-01',
      paidTotal: '120.00',
      covered: '1',
      reason: 'PAID_IN_FULL_IN_WINDOW',
    });
    expect(state.hash(stateKeys.premiumEvent('TAX-410200-2024-000012345'))).toEqual({
      pseudonym: MEMBER,
      region: KAIFENG,
      coverYear: '2025',
      amount: '120.00',
      paidOn: '2024-09-15',
    });
  });

  it('is deterministic: the same event on the same state gives the same decision', () => {
    const a = when(new GivenState(), collection());
    const b = when(new GivenState(), collection());
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('Dehong art. 8: paid after 20 April → not covered (late), income still posted', () => {
    const state = new GivenState();
    const decision = when(
      state,
      collection({
        eventId: 'TAX-533100-2024-1',
        regionCode: DEHONG,
        payerType: 'FLEXIBLE_WORKER_SELF_PAID',
        coverYear: 2024,
        amount: yuan('180.00'),
        paidOn: '2024-04-21',
      }),
    );
    const posting = onlyPosting(decision, MEMBER);
    expect(lines(posting)).toEqual(['DEBIT FUND_BANK 180.00', 'CREDIT PREMIUM_INCOME 180.00']);
    expect(posting.description).toContain('LATE (not covered)');
    expect(posting.flags).toEqual(['LATE']);
    expect(posting.description).toContain('premiums are not refunded (Dehong art. 9)');
    expect(memberYear(state, DEHONG, 2024)).toMatchObject({
      covered: '0',
      reason: 'LATE',
      paidTotal: '180.00',
    });
  });

  it('Kaifeng art. 8: a partial payment is not covered until a top-up in the window completes it', () => {
    const state = new GivenState();
    when(state, collection({ eventId: 'TAX-1', amount: yuan('60.00'), paidOn: '2024-08-01' }));
    expect(memberYear(state, KAIFENG, 2025)).toMatchObject({
      covered: '0',
      reason: 'PARTIAL',
      paidTotal: '60.00',
    });

    const topUp = decided(
      run(state, collection({ eventId: 'TAX-2', amount: yuan('60.00'), paidOn: '2024-12-31' })),
    );
    expect(lines(onlyPosting(topUp, MEMBER))).toEqual([
      'DEBIT FUND_BANK 60.00',
      'CREDIT PREMIUM_INCOME 60.00',
    ]);
    expect(memberYear(state, KAIFENG, 2025)).toMatchObject({
      covered: '1',
      reason: 'PAID_IN_FULL_IN_WINDOW',
      paidTotal: '120.00',
    });
    expect(JSON.parse(memberYear(state, KAIFENG, 2025).payments ?? '[]')).toEqual([
      { eventId: 'TAX-1', amount: '60.00', paidOn: '2024-08-01' },
      { eventId: 'TAX-2', amount: '60.00', paidOn: '2024-12-31' },
    ]);
  });

  it('Kaifeng art. 8–9: a new basic-insurance enrolee who pays in full is covered the same year', () => {
    const state = new GivenState();
    const decision = when(
      state,
      collection({
        eventId: 'TAX-NEW',
        coverYear: 2025,
        paidOn: '2025-03-10',
        basicEnrolmentDate: '2025-03-01',
      }),
    );
    expect(onlyPosting(decision, MEMBER).description).toContain('NEW_ENROLEE_PAID_IN_FULL (covered)');
    expect(memberYear(state, KAIFENG, 2025)).toMatchObject({
      covered: '1',
      reason: 'NEW_ENROLEE_PAID_IN_FULL',
      enrolledOn: '2025-03-01',
    });
  });

  it('Dehong has no new-enrolee exception: the same payment after the window is late', () => {
    const state = new GivenState();
    when(
      state,
      collection({
        eventId: 'TAX-DH-NEW',
        regionCode: DEHONG,
        payerType: 'FLEXIBLE_WORKER_SELF_PAID',
        coverYear: 2025,
        amount: yuan('180.00'),
        paidOn: '2025-06-10',
        basicEnrolmentDate: '2025-06-01',
      }),
    );
    expect(memberYear(state, DEHONG, 2025)).toMatchObject({ covered: '0', reason: 'LATE' });
  });

  it('refuses a collection already applied (the runner memo may have expired)', () => {
    const state = new GivenState();
    when(state, collection());
    expect(refusal(run(state, collection()))).toEqual({
      code: 'DUPLICATE_EVENT',
      field: 'eventId',
      value: 'TAX-410200-2024-000012345',
    });
  });
});

describe('premium ingest: corrections (冲正)', () => {
  const collected = () => {
    const state = new GivenState();
    when(state, collection({ amount: yuan('150.00') }));
    return state;
  };

  it('corrects down by the difference, and again up from the corrected amount (no double counting)', () => {
    const state = collected();
    const down = decided(
      run(
        state,
        correction({ eventId: 'TAXC-1', originalAmount: yuan('150.00'), correctedAmount: yuan('100.00') }),
      ),
    );
    const first = onlyPosting(down, MEMBER);
    expect(first).toMatchObject({
      postingId: 'PREMIUM_CORRECTED:TAXC-1',
      kind: 'PREMIUM_CORRECTED',
      insuranceYear: 2025,
      postingDate: '2024-10-02',
      memberPseudonym: MEMBER,
    });
    expect(lines(first)).toEqual(['DEBIT PREMIUM_INCOME 50.00', 'CREDIT FUND_BANK 50.00']);
    expect(first.description).toContain('not a refund');
    expect(memberYear(state, KAIFENG, 2025)).toMatchObject({
      covered: '0',
      reason: 'PARTIAL',
      paidTotal: '100.00',
    });

    // The tax authority still quotes the original 150.00; the hub corrects from its own 100.00.
    const up = decided(
      run(
        state,
        correction({ eventId: 'TAXC-2', originalAmount: yuan('150.00'), correctedAmount: yuan('130.00') }),
      ),
    );
    expect(lines(onlyPosting(up, MEMBER))).toEqual(['DEBIT FUND_BANK 30.00', 'CREDIT PREMIUM_INCOME 30.00']);
    expect(memberYear(state, KAIFENG, 2025)).toMatchObject({
      covered: '1',
      reason: 'PAID_IN_FULL_IN_WINDOW',
      paidTotal: '130.00',
    });
    expect(state.hash(stateKeys.premiumEvent('TAX-410200-2024-000012345')).amount).toBe('130.00');
    expect(JSON.parse(memberYear(state, KAIFENG, 2025).payments ?? '[]')).toEqual([
      { eventId: 'TAX-410200-2024-000012345', amount: '130.00', paidOn: '2024-09-15' },
    ]);
  });

  it('a full reversal (0.00) takes the income back and the cover with it', () => {
    const state = collected();
    const decision = decided(run(state, correction()));
    expect(lines(onlyPosting(decision, MEMBER))).toEqual([
      'DEBIT PREMIUM_INCOME 150.00',
      'CREDIT FUND_BANK 150.00',
    ]);
    expect(memberYear(state, KAIFENG, 2025)).toMatchObject({
      covered: '0',
      reason: 'NOT_PAID',
      paidTotal: '0.00',
    });
  });

  it('reads only the keys it names', () => {
    const input = parsed(correction());
    expect(premiumEventId(input)).toBe('TAXC-410200-2024-000000077');
    expect(premiumStateKeys(input)).toEqual([
      stateKeys.memberPremiumYear(MEMBER, KAIFENG, 2025),
      stateKeys.premiumEvent('TAX-410200-2024-000012345'),
    ]);
  });

  it('refuses a correction of an unknown collection', () => {
    expect(refusal(run(new GivenState(), correction()))).toEqual({
      code: 'UNKNOWN_PREMIUM_EVENT',
      field: 'originalEventId',
      value: 'TAX-410200-2024-000012345',
    });
  });

  it('refuses a correction that changes nothing (e.g. redelivered after the memo expired)', () => {
    const state = collected();
    decided(run(state, correction({ correctedAmount: yuan('100.00') })));
    expect(
      refusal(run(state, correction({ eventId: 'TAXC-again', correctedAmount: yuan('100.00') }))),
    ).toEqual({
      code: 'CORRECTION_NO_CHANGE',
      field: 'correctedAmount',
      value: '100.00',
    });
  });

  it("refuses a correction naming another member's collection, without showing either ID", () => {
    const state = collected();
    const result = run(state, correction({ nationalId: OTHER_MEMBER_ID }));
    expect(refusal(result)).toEqual({ code: 'CORRECTION_MISMATCH', field: 'nationalId' });
    expect(JSON.stringify(result)).not.toContain(OTHER_MEMBER_ID);
  });

  it('refuses a correction of another cover year, or dated before the payment', () => {
    const state = collected();
    expect(refusal(run(state, correction({ coverYear: 2024 })))).toMatchObject({
      code: 'CORRECTION_MISMATCH',
      field: 'coverYear',
    });
    expect(refusal(run(state, correction({ correctedOn: '2024-09-14' })))).toEqual({
      code: 'CORRECTION_BEFORE_PAYMENT',
      field: 'correctedOn',
      value: '2024-09-14',
    });
  });
});

describe('the cover year decides which rules apply', () => {
  it("Kaifeng art. 8: the first window (July–December 2023) collects for 2024, the policy's first year", () => {
    const result = parsePremium(collection({ paidOn: '2023-09-15', coverYear: 2024 }), parseContext);
    expect(result.ok).toBe(true);
  });
});
