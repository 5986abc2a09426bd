import { describe, expect, it } from 'vitest';
import { premiumIngestService } from '../../../services/premium-ingest/adapter.js';
import type { PremiumFact } from '../../../services/premium-ingest/decide.js';
import { Decimal } from '../../../shared/money.js';
import type {
  PremiumCollected,
  PremiumCollectionClosed,
  PremiumCorrection,
} from '../../../shared/records.js';
import type { DecodedValue } from '../../../shared/registry.js';
import { NO_STATE } from '../../../shared/runner/service.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';
import {
  accepted,
  decideContextFor,
  journalOutputs,
  MEMBER,
  MEMBER_ID,
  onlyJournalOutput,
  parseContextFor,
  refusal,
  wireDigest,
} from './ingest.js';

const premiumIngest = premiumIngestService(TOPICS);

// Premium ingest is stateless: each record is checked on its own, the national ID replaced by the
// member's pseudonym, and the fact published on the journal. Whether a member is covered is decided by
// accounting (test/unit/services/accounting.unit.spec.ts).

const OTHER_MEMBER_ID = '53310219800101123X';
const KAIFENG = '410200';
const DEHONG = '533100';
const yuan = (text: string) => new Decimal(text);

// Read from partition 2 at offset 41 of the tax premium topic, at 16:00 on 2025-06-01 in China.
const parseContext = parseContextFor(TOPICS.taxPremium, 2, '41', '2025-06-01T08:00:00.000Z');
const decideContext = decideContextFor(parseContext, 6);
const ORIGIN = {
  topic: TOPICS.taxPremium.name,
  partition: 2,
  offset: 41,
  receivedAt: new Date('2025-06-01T08:00:00.000Z'),
};

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

/** The tax authority's end-of-collection notice for Dehong 2025 (window 1 January – 20 April, Dehong art. 8). */
function notice(overrides: Partial<PremiumCollectionClosed> = {}): DecodedValue {
  return {
    record: 'premium-collection-closed',
    schemaId: 3,
    value: { ...avroSamples['premium-collection-closed'], ...overrides },
  };
}

const parse = (decoded: DecodedValue) => premiumIngest.parse(decoded, parseContext);
const parsed = (decoded: DecodedValue): PremiumFact => accepted(parse(decoded));
const decide = (decoded: DecodedValue) => premiumIngest.decide(parsed(decoded), NO_STATE, decideContext);

describe('premium ingest: wiring', () => {
  it('reads the tax premium topic and writes only the journal; it keeps no state', () => {
    expect(premiumIngest.name).toBe('premium-ingest');
    expect(premiumIngest.input).toBe(TOPICS.taxPremium);
    expect(premiumIngest.deadLetters).toBe(TOPICS.premiumDeadLetters);
    expect(premiumIngest.outputs).toEqual([TOPICS.journal]);
    expect(premiumIngest.state).toBeUndefined();
  });
});

describe('premium ingest: a collection (征缴) becomes a pseudonymised journal fact', () => {
  it('replaces the national ID by its pseudonym and names where it was read', () => {
    const fact = parsed(collection());

    expect(fact).toEqual({
      kind: 'collection',
      fact: {
        eventId: 'TAX-410200-2024-000012345',
        regionCode: KAIFENG,
        memberPseudonym: MEMBER,
        payerType: 'UNIT_WITHHOLDING',
        coverYear: 2025,
        amount: yuan('120.00'),
        paidOn: '2024-09-15',
        enrolledOn: '2016-03-01',
        origin: ORIGIN,
      },
    });
    expect(MEMBER).toMatch(/^m_[0-9a-f]{32}$/);
  });

  it('is published on the journal under the member pseudonym, so the member-year is decided in one order', () => {
    const output = onlyJournalOutput(decide(collection()));

    expect(output).toMatchObject({ topic: TOPICS.journal, key: MEMBER, record: 'journal-premium-collected' });
    expect(output.partition).toBeUndefined();
    expect(output.value).toEqual((parsed(collection()) as Extract<PremiumFact, { kind: 'collection' }>).fact);
  });

  it('a lower-case check character is the same member: the same pseudonym', () => {
    const fact = parsed(collection({ nationalId: MEMBER_ID.toLowerCase() }));
    expect(fact.kind === 'collection' && fact.fact.memberPseudonym).toBe(MEMBER);
  });

  it('another ID is another member', () => {
    const fact = parsed(collection({ nationalId: OTHER_MEMBER_ID }));
    expect(fact.kind === 'collection' && fact.fact.memberPseudonym).not.toBe(MEMBER);
  });

  it('a payment without an enrolment date carries none', () => {
    const fact = parsed(collection({ basicEnrolmentDate: null }));
    expect(fact.kind === 'collection' && fact.fact.enrolledOn).toBeNull();
  });

  // Pinned to what it gave when this was written: renew only for a change meant to alter the journal record.
  it('decides alike every time: the same record gives the same journal record, byte for byte', () => {
    const written = () => journalOutputs(decide(collection())).map(wireDigest);
    expect(written()).toEqual(written());
    expect(written()).toEqual([
      `${MEMBER} journal-premium-collected 97501c37d1467ec7a91bd6b63fcab35577bc0d80a898fd58116f4485f4a33a45`,
    ]);
  });

  it('Dehong art. 6: a unit share is accepted where unit and employee pay jointly', () => {
    const fact = parsed(
      collection({ regionCode: DEHONG, payerType: 'UNIT_SHARE', coverYear: 2024, paidOn: '2024-03-01' }),
    );
    expect(
      fact.kind === 'collection' && [fact.fact.regionCode, fact.fact.payerType, fact.fact.coverYear],
    ).toEqual([DEHONG, 'UNIT_SHARE', 2024]);
  });

  it("Kaifeng art. 8: the first window (July–December 2023) collects for 2024, the policy's first year", () => {
    const fact = parsed(collection({ paidOn: '2023-09-15', coverYear: 2024 }));
    expect(fact.kind === 'collection' && [fact.fact.paidOn, fact.fact.coverYear]).toEqual([
      '2023-09-15',
      2024,
    ]);
  });

  it('a late payment, up to a year after the window, is still a fact: accounting decides it is late', () => {
    // Dehong 2025: the window closed on 20 April; paid in June is accepted here, not covered there.
    const fact = parsed(
      collection({ regionCode: DEHONG, payerType: 'UNIT_SHARE', coverYear: 2025, paidOn: '2025-06-10' }),
    );
    expect(fact.kind === 'collection' && fact.fact.paidOn).toBe('2025-06-10');
  });
});

describe('premium ingest: a correction (冲正) becomes a journal fact; accounting checks it against the collection', () => {
  it('is pseudonymised and keyed by the member', () => {
    const output = onlyJournalOutput(
      decide(correction({ originalAmount: yuan('150.00'), correctedAmount: yuan('100.00') })),
    );

    expect(output).toMatchObject({ key: MEMBER, record: 'journal-premium-corrected' });
    expect(output.value).toEqual({
      eventId: 'TAXC-410200-2024-000000077',
      originalEventId: 'TAX-410200-2024-000012345',
      regionCode: KAIFENG,
      memberPseudonym: MEMBER,
      coverYear: 2025,
      originalAmount: yuan('150.00'),
      correctedAmount: yuan('100.00'),
      correctedOn: '2024-10-02',
      origin: ORIGIN,
    });
  });

  it('0.00 (the fixture) reverses the collection in full and is accepted', () => {
    const fact = parsed(correction());
    expect(fact.kind === 'correction' && fact.fact.correctedAmount.toFixed(2)).toBe('0.00');
  });
});

describe("premium ingest: the tax authority's end-of-collection notice (征缴结束通知)", () => {
  it('is copied to every journal partition, so every member waiting for cover sees it in their order', () => {
    const outputs = journalOutputs(decide(notice()));

    expect(outputs.map((o) => o.partition)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const output of outputs) {
      expect(output).toMatchObject({ key: DEHONG, record: 'journal-collection-closed' });
      expect(output.value).toEqual({
        noticeId: 'TAXN-533100-2025',
        regionCode: DEHONG,
        coverYear: 2025,
        issuedOn: '2025-04-21',
        origin: ORIGIN,
      });
    }
  });

  it('follows the journal topic: three partitions, three copies', () => {
    const outputs = journalOutputs(
      premiumIngest.decide(parsed(notice()), NO_STATE, decideContextFor(parseContext, 3)),
    );
    expect(outputs.map((o) => o.partition)).toEqual([0, 1, 2]);
  });

  it('Dehong art. 8: a notice on 20 April, the last day of the window, is refused (members may still pay)', () => {
    const error = refusal(parse(notice({ issuedOn: '2025-04-20' })));
    expect(error).toMatchObject({
      code: 'NOTICE_BEFORE_WINDOW_CLOSED',
      field: 'issuedOn',
      value: '2025-04-20',
    });
    expect(error.rule).toContain('Dehong art. 8');
    expect(error.rule).toContain('2025-04-20');
  });

  it('Kaifeng art. 8: the 2025 window closed on 31 December 2024, so a notice of 1 January 2025 is accepted', () => {
    expect(
      parse(notice({ regionCode: KAIFENG, noticeId: 'TAXN-410200-2025', issuedOn: '2025-01-01' })).ok,
    ).toBe(true);
    expect(
      refusal(parse(notice({ regionCode: KAIFENG, noticeId: 'TAXN-410200-2025', issuedOn: '2024-12-31' }))),
    ).toMatchObject({ code: 'NOTICE_BEFORE_WINDOW_CLOSED', field: 'issuedOn', value: '2024-12-31' });
  });

  it.each([
    ['an empty notice id', notice({ noticeId: '' }), { code: 'MISSING_EVENT_ID', field: 'noticeId' }],
    [
      'an issue date that is no date',
      notice({ issuedOn: '2025-02-30' }),
      { code: 'INVALID_DATE', field: 'issuedOn' },
    ],
    ['an unknown region', notice({ regionCode: '999999' }), { code: 'UNKNOWN_REGION', field: 'regionCode' }],
    [
      "a cover year before the region's document takes effect",
      notice({ coverYear: 2022, issuedOn: '2022-05-01' }),
      { code: 'NO_POLICY_IN_FORCE', field: 'coverYear' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parse(decoded))).toMatchObject(expected);
  });
});

describe('premium ingest: refusals at parse, each naming the field and the rule, never the ID', () => {
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
      'a payment date that is no date',
      collection({ paidOn: '2024-09-31' }),
      { code: 'INVALID_DATE', field: 'paidOn' },
    ],
    [
      'an enrolment date that is no date',
      collection({ basicEnrolmentDate: '2016-02-30' }),
      { code: 'INVALID_DATE', field: 'basicEnrolmentDate', value: '2016-02-30' },
    ],
    [
      'correction below zero would be a refund',
      correction({ correctedAmount: yuan('-1.00') }),
      { code: 'AMOUNT_NEGATIVE', field: 'correctedAmount', value: '-1' },
    ],
    [
      'correction quoting a negative original',
      correction({ originalAmount: yuan('-150.00') }),
      { code: 'AMOUNT_NEGATIVE', field: 'originalAmount' },
    ],
    [
      'correction with a bad ID',
      correction({ nationalId: '11010519491231002' }),
      { code: 'ID_FORMAT', field: 'nationalId' },
    ],
    [
      'correction without its own id',
      correction({ eventId: '' }),
      { code: 'MISSING_EVENT_ID', field: 'eventId' },
    ],
    [
      'correction naming no collection',
      correction({ originalEventId: ' ' }),
      { code: 'MISSING_EVENT_ID', field: 'originalEventId' },
    ],
    [
      'correction dated on no day',
      correction({ correctedOn: '2024-13-01' }),
      { code: 'INVALID_DATE', field: 'correctedOn' },
    ],
    [
      'correction in an unknown region',
      correction({ regionCode: '000000' }),
      { code: 'UNKNOWN_REGION', field: 'regionCode' },
    ],
  ])('refuses %s', (_case, decoded, expected) => {
    expect(refusal(parse(decoded))).toMatchObject(expected);
  });

  it('shows a refused ID masked, never whole', () => {
    expect(refusal(parse(collection({ nationalId: '110105194912310021' }))).value).toBe('1101**********0021');
  });

  it('refuses a record that does not belong on the tax premium topic', () => {
    const decoded: DecodedValue = {
      record: 'operating-cost',
      schemaId: 9,
      value: avroSamples['operating-cost'],
    };
    expect(refusal(parse(decoded))).toMatchObject({
      code: 'UNEXPECTED_RECORD',
      field: 'value',
      value: 'operating-cost',
    });
  });
});
