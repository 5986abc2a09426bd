import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconciler } from '../../../services/reconciler/adapter.js';
import {
  countersFrom,
  decidePosting,
  itemIds,
  parsePosting,
  postingEventId,
  reconcilerStateKeys,
} from '../../../services/reconciler/decide.js';
import { formatSummary, summarise } from '../../../services/reconciler/summary.js';
import { decodeRecord, encodeRecord } from '../../../shared/avro.js';
import type { Result } from '../../../shared/errors.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../../shared/identity.js';
import { Decimal, formatMoney } from '../../../shared/money.js';
import type { LedgerPosting, PostingKind, ReconciliationResult } from '../../../shared/records.js';
import type { Decision, StateView } from '../../../shared/runner/service.js';
import { stateKeys } from '../../../shared/state-keys.js';
import { TOPICS } from '../../../shared/topics.js';
import { avroSamples } from '../../fixtures/avro-samples.js';

// ─── Given ─────────────────────────────────────────────────────────────────────────────────────────

const DEHONG = '533100';
const KAIFENG = '410200';
const HOSPITAL = 'H53310200003';
const OTHER_HOSPITAL = 'H53310200007';
const MEMBER = 'm_3f2a9c0d5b7e4a1f8c6d2e0b9a7f5c31';
const OTHER_MEMBER = 'm_00112233445566778899aabbccddeeff';
const yuan = (text: string) => new Decimal(text);

type Hashes = Record<string, Record<string, string>>;

interface Claim {
  readonly id: string;
  readonly postingDate: string;
  readonly serviceDate?: string;
  readonly claimed: string;
  readonly due: string;
  readonly flags?: string[];
  readonly hospital?: string;
  readonly member?: string;
  readonly region?: string;
}

function posting(kind: PostingKind, sourceEventId: string, fields: Partial<LedgerPosting>): LedgerPosting {
  const region = fields.regionCode ?? DEHONG;
  const postingDate = fields.postingDate ?? '2025-03-10';
  const claimed = fields.claimedAmount ?? null;
  const due = fields.dueAmount ?? null;
  return {
    postingId: `${kind}:${sourceEventId}`,
    sourceEventId,
    sourceTopic: 'medfund.hospital.settlement.v1',
    sourcePartition: 0,
    sourceOffset: 0,
    regionCode: region,
    insuranceYear: Number((fields.serviceDate ?? postingDate).slice(0, 4)),
    postingDate,
    kind,
    // The reconciler reads the posting's figures, not its lines: two balanced lines stand in for them.
    lines: [
      { account: 'FUND_BANK', direction: 'DEBIT', amount: yuan('1.00') },
      { account: 'PREMIUM_INCOME', direction: 'CREDIT', amount: yuan('1.00') },
    ],
    memberPseudonym: null,
    hospitalCode: null,
    serviceDate: null,
    claimedAmount: claimed,
    dueAmount: due,
    varianceAmount: claimed !== null && due !== null ? claimed.minus(due) : null,
    policyVersion: `${region}@2022-12-31`,
    description: 'free text the reconciler never parses',
    flags: [],
    ...fields,
  };
}

const settlement = (claim: Claim): LedgerPosting =>
  posting('SETTLEMENT_APPLIED', claim.id, {
    regionCode: claim.region ?? DEHONG,
    postingDate: claim.postingDate,
    serviceDate: claim.serviceDate ?? claim.postingDate,
    memberPseudonym: claim.member ?? MEMBER,
    hospitalCode: claim.hospital ?? HOSPITAL,
    claimedAmount: yuan(claim.claimed),
    dueAmount: yuan(claim.due),
    flags: claim.flags ?? [],
  });

/** A reversal carries the original's amounts negated; settlement-ingest's hash names the original. */
const reversal = (claim: Claim): LedgerPosting =>
  posting('SETTLEMENT_REVERSED', claim.id, {
    postingDate: claim.postingDate,
    serviceDate: claim.serviceDate ?? claim.postingDate,
    memberPseudonym: claim.member ?? MEMBER,
    hospitalCode: claim.hospital ?? HOSPITAL,
    claimedAmount: yuan(claim.claimed).negated(),
    dueAmount: yuan(claim.due).negated(),
  });

const hospitalMonth = (payoutId: string, month: string, paidOn: string, paid: string, listedDue: string) =>
  posting('HOSPITAL_MONTH_SETTLED', payoutId, {
    postingDate: paidOn,
    insuranceYear: Number(month.slice(0, 4)),
    hospitalCode: HOSPITAL,
    serviceDate: `${month}-01`,
    claimedAmount: yuan(paid),
    dueAmount: yuan(listedDue),
  });

const manualClaim = (
  claimId: string,
  paidOn: string,
  paid: string,
  due: string,
  flags: string[] = [],
  serviceDate = '2025-06-10',
) =>
  posting('MANUAL_REIMBURSEMENT', claimId, {
    postingDate: paidOn,
    serviceDate,
    memberPseudonym: MEMBER,
    claimedAmount: yuan(paid),
    dueAmount: yuan(due),
    flags,
  });

const premium = (eventId: string, paidOn: string, coverYear: number, flags: string[] = [], member = MEMBER) =>
  posting('PREMIUM_COLLECTED', eventId, {
    postingDate: paidOn,
    insuranceYear: coverYear,
    memberPseudonym: member,
    flags,
  });

const premiumCorrection = (eventId: string, correctedOn: string, coverYear: number, flags: string[]) =>
  posting('PREMIUM_CORRECTED', eventId, {
    postingDate: correctedOn,
    insuranceYear: coverYear,
    memberPseudonym: MEMBER,
    flags,
  });

const operatingCost = (costId: string, recordedOn: string, region = DEHONG) =>
  posting('OPERATING_COST', costId, { postingDate: recordedOn, regionCode: region });

/** payout-ingest's record of a manual claim (stateKeys.manualClaim), as its decide writes it. */
const payoutClaimRecord = (receivedOn: string, paidOn: string, workingDays: number) => ({
  region: DEHONG,
  year: '2025',
  pseudonym: MEMBER,
  receivedOn,
  paidOn,
  workingDays: String(workingDays),
});

/**
 * The reconciler over an in-memory Redis: each posting is decided against a view that refuses any key
 * stateKeys did not name, and its writes are staged as the runner stages them. Offsets count up as on
 * one ledger partition.
 */
class Ledger {
  readonly hashes: Hashes;
  readonly published: ReconciliationResult[] = [];
  private offset = 100;

  constructor(hashes: Hashes = {}) {
    this.hashes = structuredClone(hashes);
  }

  decide(event: LedgerPosting, at?: { partition: number; offset: number }): Result<Decision> {
    const named = new Set(reconcilerStateKeys(event));
    const view: StateView = {
      hash: (key) => {
        if (!named.has(key)) throw new Error(`decide read ${key}, which stateKeys did not name`);
        return this.hashes[key] ?? {};
      },
    };
    const position = at ?? { partition: 0, offset: this.offset++ };
    const result = decidePosting(event, view, {
      source: { topic: TOPICS.ledger.name, partition: position.partition, offset: String(position.offset) },
      receivedOn: event.postingDate,
    });
    if (result.ok) {
      for (const write of result.value.writes) {
        this.hashes[write.key] = { ...this.hashes[write.key], ...write.fields };
      }
      for (const output of result.value.outputs) {
        if (output.record === 'reconciliation-result') this.published.push(output.value);
      }
    }
    return result;
  }

  /** when(posting): the decision, which must be accepted. */
  when(event: LedgerPosting): Decision {
    const result = this.decide(event);
    if (!result.ok) throw new Error(`expected a decision: ${result.error.code} ${result.error.rule}`);
    return result.value;
  }

  counters(region: string, year: number) {
    return countersFrom(this.hashes[stateKeys.reconciliationRegionYear(region, year)] ?? {});
  }

  item(itemId: string): Record<string, string> {
    return this.hashes[stateKeys.reconciliationItem(itemId)] ?? {};
  }
}

function given(...postings: LedgerPosting[]): Ledger {
  const ledger = new Ledger();
  for (const event of postings) ledger.when(event);
  return ledger;
}

/** then: the results published, every one writable under the topic's Avro contract. */
function results(decision: Decision): ReconciliationResult[] {
  return decision.outputs.map((output) => {
    if (output.record !== 'reconciliation-result') throw new Error(`unexpected record ${output.record}`);
    expect(output.topic).toBe(TOPICS.reconciliation);
    expect(output.key).toBe(output.value.itemId);
    const roundTrip = decodeRecord(
      'reconciliation-result',
      encodeRecord('reconciliation-result', output.value),
    );
    expect(JSON.stringify(roundTrip)).toBe(JSON.stringify(output.value));
    return output.value;
  });
}

function only(decision: Decision, itemId: string): ReconciliationResult {
  const found = results(decision).filter((r) => r.itemId === itemId);
  expect(found).toHaveLength(1);
  return found[0] as ReconciliationResult;
}

const brief = (r: ReconciliationResult) => ({
  status: r.status,
  expected: formatMoney(r.expected),
  actual: formatMoney(r.actual),
  difference: formatMoney(r.difference),
});

const chinaMidnight = (date: string) => new Date(`${date}T00:00:00+08:00`);

const MARCH = itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-03');
const MEMBER_2025 = itemIds.memberYear(DEHONG, MEMBER, 2025);

// ─── Parse and wiring ──────────────────────────────────────────────────────────────────────────────

describe('reconciler: input', () => {
  it('is wired as a runner service: ledger in, reconciliation out', () => {
    expect(reconciler.name).toBe('reconciler');
    expect(reconciler.input).toBe(TOPICS.ledger);
    expect(reconciler.deadLetters).toBe(TOPICS.reconcilerDeadLetters);
    expect(reconciler.outputs).toEqual([TOPICS.reconciliation]);
  });

  it('accepts a ledger posting; its event id is the posting id', () => {
    const sample = avroSamples['ledger-posting'];
    const parsed = parsePosting(
      { record: 'ledger-posting', schemaId: 1, value: sample },
      { pseudonymKey: TEST_ONLY_PSEUDONYM_KEY, receivedOn: '2024-03-12' },
    );
    expect(parsed.ok && postingEventId(parsed.value)).toBe('SETTLEMENT_APPLIED:533100G0000012345678');
  });

  it('refuses another record, an empty posting id and an unknown region', () => {
    const code = (result: Result<unknown>) =>
      result.ok ? 'accepted' : `${result.error.code} ${result.error.field}`;
    const sample = avroSamples['ledger-posting'];
    expect(
      code(parsePosting({ record: 'operating-cost', schemaId: 2, value: avroSamples['operating-cost'] })),
    ).toBe('UNEXPECTED_RECORD value');
    expect(
      code(parsePosting({ record: 'ledger-posting', schemaId: 1, value: { ...sample, postingId: ' ' } })),
    ).toBe('POSTING_ID_EMPTY postingId');
    expect(
      code(
        parsePosting({ record: 'ledger-posting', schemaId: 1, value: { ...sample, regionCode: '999999' } }),
      ),
    ).toBe('UNKNOWN_REGION regionCode');
  });
});

// ─── Hospital months ───────────────────────────────────────────────────────────────────────────────

describe('reconciler: hospital month (Dehong art. 15)', () => {
  const first = settlement({ id: 'S1', postingDate: '2025-03-03', claimed: '1000.00', due: '1000.00' });
  const second = settlement({ id: 'S2', postingDate: '2025-03-20', claimed: '500.00', due: '500.00' });

  it('stays OPEN, due summed, until the insurer settles the month', () => {
    const decision = given(first).when(second);
    const month = only(decision, MARCH);
    expect(brief(month)).toEqual({
      status: 'OPEN',
      expected: '1500.00',
      actual: '0.00',
      difference: '-1500.00',
    });
    expect(month.period).toBe('2025-03');
    expect(month.hospitalCode).toBe(HOSPITAL);
    expect(month.memberPseudonym).toBeNull();
    expect(month.reason).toMatch(/^HOSPITAL_MONTH_AWAITING_PAYMENT: .*Dehong art\. 15/);
  });

  it('matched: the insurer paid what is due', () => {
    const decision = given(first, second).when(
      hospitalMonth('P1', '2025-03', '2025-04-15', '1500.00', '1500.00'),
    );
    const month = only(decision, MARCH);
    expect(brief(month)).toEqual({
      status: 'MATCHED',
      expected: '1500.00',
      actual: '1500.00',
      difference: '0.00',
    });
    expect(month.openedAt).toEqual(chinaMidnight('2025-03-03'));
    expect(month.updatedAt).toEqual(chinaMidnight('2025-04-15'));
    expect(month.ageDays).toBe(43);
    expect(month.sourceEventId).toBe('P1');
  });

  it('short payment: a DISCREPANCY naming the shortfall and the claimed total', () => {
    const decision = given(first, second).when(
      hospitalMonth('P1', '2025-03', '2025-04-15', '1200.00', '1500.00'),
    );
    const month = only(decision, MARCH);
    expect(brief(month)).toEqual({
      status: 'DISCREPANCY',
      expected: '1500.00',
      actual: '1200.00',
      difference: '-300.00',
    });
    expect(month.reason).toMatch(
      /^HOSPITAL_MONTH_SHORT_PAID: .*short payment 300\.00; hospital claimed 1500\.00/,
    );
  });

  it('a hospital over-claim the insurer paid shows up as over-payment', () => {
    const overClaim = settlement({
      id: 'S3',
      postingDate: '2025-03-05',
      claimed: '1200.00',
      due: '1080.00',
      flags: ['ANNUAL_CAP_LIMITED'],
    });
    const decision = given(overClaim).when(
      hospitalMonth('P1', '2025-03', '2025-04-15', '1200.00', '1080.00'),
    );
    const month = only(decision, MARCH);
    expect(brief(month)).toEqual({
      status: 'DISCREPANCY',
      expected: '1080.00',
      actual: '1200.00',
      difference: '120.00',
    });
    expect(month.reason).toContain('over-payment 120.00');
    expect(month.reason).toContain("hospital claimed 1200.00: the insurer paid the hospital's over-claim");
  });

  it('an over-claim the insurer did not pay is matched, and says so', () => {
    const overClaim = settlement({ id: 'S3', postingDate: '2025-03-05', claimed: '1200.00', due: '1080.00' });
    const month = only(
      given(overClaim).when(hospitalMonth('P1', '2025-03', '2025-04-15', '1080.00', '1080.00')),
      MARCH,
    );
    expect(month.status).toBe('MATCHED');
    expect(month.reason).toContain("the hospital's over-claim of 120.00 was not paid");
  });

  it('a settlement arriving after the month was settled reopens it; the next payment matches it again', () => {
    const ledger = given(first, second, hospitalMonth('P1', '2025-03', '2025-04-15', '1500.00', '1500.00'));
    const late = settlement({
      id: 'S4',
      postingDate: '2025-04-20',
      serviceDate: '2025-03-28',
      claimed: '200.00',
      due: '200.00',
    });
    const reopened = only(ledger.when(late), MARCH);
    expect(brief(reopened)).toEqual({
      status: 'DISCREPANCY',
      expected: '1700.00',
      actual: '1500.00',
      difference: '-200.00',
    });
    expect(reopened.reason).toContain('settlement S4 arrived after the insurer settled 2025-03');
    expect(reopened.reason).toContain('settlements due 200.00 are not in them');
    const settled = only(
      ledger.when(hospitalMonth('P2', '2025-03', '2025-05-15', '200.00', '200.00')),
      MARCH,
    );
    expect(brief(settled)).toEqual({
      status: 'MATCHED',
      expected: '1700.00',
      actual: '1700.00',
      difference: '0.00',
    });
  });

  it('a reversal nets its settlement out of the month', () => {
    const ledger = given(first, second);
    const month = only(
      ledger.when(
        reversal({
          id: 'R1',
          postingDate: '2025-03-25',
          serviceDate: '2025-03-20',
          claimed: '500.00',
          due: '500.00',
        }),
      ),
      MARCH,
    );
    expect(brief(month)).toEqual({
      status: 'OPEN',
      expected: '1000.00',
      actual: '0.00',
      difference: '-1000.00',
    });
    expect(month.reason).toContain('2 settlements, 1 reversals');
  });

  it('the insurer paying before the settlements reach the reconciler settles once they arrive', () => {
    const ledger = given(hospitalMonth('P1', '2025-03', '2025-04-15', '1500.00', '1500.00'));
    expect(ledger.item(MARCH).status).toBe('DISCREPANCY');
    ledger.when(first);
    const month = only(ledger.when(second), MARCH);
    expect(brief(month)).toEqual({
      status: 'MATCHED',
      expected: '1500.00',
      actual: '1500.00',
      difference: '0.00',
    });
    // openedAt is the earliest event time seen, whichever partition delivered first.
    expect(month.openedAt).toEqual(chinaMidnight('2025-03-03'));
  });

  it('a settlement that claims and owes nothing opens no item', () => {
    const decision = new Ledger().when(
      settlement({ id: 'S0', postingDate: '2025-03-03', claimed: '0.00', due: '0.00' }),
    );
    expect(decision.outputs).toEqual([]);
  });

  it('keeps hospitals and months apart', () => {
    const ledger = given(
      first,
      settlement({
        id: 'S5',
        postingDate: '2025-03-04',
        claimed: '10.00',
        due: '10.00',
        hospital: OTHER_HOSPITAL,
      }),
    );
    expect(ledger.item(MARCH).expected).toBe('1000.00');
    expect(ledger.item(itemIds.hospitalMonth(DEHONG, OTHER_HOSPITAL, '2025-03')).expected).toBe('10.00');
  });

  it('refuses a monthly settlement without its month', () => {
    const result = new Ledger().decide({
      ...hospitalMonth('P1', '2025-03', '2025-04-15', '1.00', '1.00'),
      serviceDate: null,
    });
    expect(result.ok ? 'accepted' : result.error.code).toBe('HOSPITAL_MONTH_MISSING');
  });
});

// ─── Manual claims ─────────────────────────────────────────────────────────────────────────────────

describe('reconciler: manual claim (Dehong art. 16)', () => {
  const CLAIM = itemIds.manualClaim(DEHONG, 'CLM-1');
  const withRecord = (receivedOn: string, paidOn: string, workingDays: number) =>
    new Ledger({ [stateKeys.manualClaim('CLM-1')]: payoutClaimRecord(receivedOn, paidOn, workingDays) });

  it('matched: paid as due, within 20 working days and the deadline; dueBy is the 20th working day', () => {
    const decision = withRecord('2025-07-01', '2025-07-15', 10).when(
      manualClaim('CLM-1', '2025-07-15', '9000.00', '9000.00'),
    );
    const claim = only(decision, CLAIM);
    expect(brief(claim)).toEqual({
      status: 'MATCHED',
      expected: '9000.00',
      actual: '9000.00',
      difference: '0.00',
    });
    expect(claim).toMatchObject({
      claimId: 'CLM-1',
      memberPseudonym: MEMBER,
      period: '2025',
      dueBy: '2025-07-29',
    });
    expect(claim.reason).toBe(
      'MANUAL_CLAIM_MATCHED: paid 9000.00 = due 9000.00, 10 working days (limit 20), by the deadline 2026-03-31 (Dehong art. 16)',
    );
  });

  it('dueBy counts Chinese working days: the National Day holiday does not count, the make-up Saturday does', () => {
    const claim = only(
      withRecord('2025-09-26', '2025-10-20', 14).when(manualClaim('CLM-1', '2025-10-20', '10.00', '10.00')),
      CLAIM,
    );
    // 2025: 1–8 Oct off, Sun 28 Sep and Sat 11 Oct worked (State Council arrangement).
    expect(claim.dueBy).toBe('2025-10-30');
  });

  it('SLA breached: a DISCREPANCY with the working days counted', () => {
    const claim = only(
      withRecord('2025-07-01', '2025-08-05', 25).when(
        manualClaim('CLM-1', '2025-08-05', '9000.00', '9000.00', ['SLA_BREACHED']),
      ),
      CLAIM,
    );
    expect(claim.status).toBe('DISCREPANCY');
    expect(claim.reason).toBe(
      'SLA_BREACHED: paid 2025-08-05, 25 working days after receipt on 2025-07-01, limit 20 (Dehong art. 16)',
    );
  });

  it('past the 31 March deadline: a DISCREPANCY naming the deadline', () => {
    const claim = only(
      new Ledger().when(
        manualClaim(
          'CLM-1',
          '2026-04-10',
          '500.00',
          '500.00',
          ['SLA_BREACHED', 'PAST_DEADLINE'],
          '2025-11-02',
        ),
      ),
      CLAIM,
    );
    expect(claim.status).toBe('DISCREPANCY');
    expect(claim.reason).toContain('SLA_BREACHED: paid 2026-04-10, more than 20 working days after receipt');
    expect(claim.reason).toContain(
      'PAST_DEADLINE: paid 2026-04-10, after the deadline 2026-03-31 (Dehong art. 16)',
    );
    // Without payout-ingest's record of the claim the receipt date is unknown: no dueBy.
    expect(claim.dueBy).toBeNull();
  });

  it('amount mismatch: paid more than policy allows', () => {
    const claim = only(
      withRecord('2025-07-01', '2025-07-15', 10).when(
        manualClaim('CLM-1', '2025-07-15', '9000.00', '8550.00', ['REFERRAL_PENALTY_APPLIED']),
      ),
      CLAIM,
    );
    expect(brief(claim)).toEqual({
      status: 'DISCREPANCY',
      expected: '8550.00',
      actual: '9000.00',
      difference: '450.00',
    });
    expect(claim.reason).toBe(
      'MANUAL_CLAIM_OVER_PAID: paid 9000.00, due 8550.00 by policy (REFERRAL_PENALTY_APPLIED): over-payment 450.00',
    );
  });

  it('is reconciled once: the same claim again is a duplicate', () => {
    const ledger = given(manualClaim('CLM-1', '2025-07-15', '10.00', '10.00'));
    const again = ledger.decide({
      ...manualClaim('CLM-1', '2025-07-15', '10.00', '10.00'),
      postingId: 'other',
    });
    expect(again.ok ? 'accepted' : again.error.code).toBe('DUPLICATE_EVENT');
  });
});

// ─── Member years ──────────────────────────────────────────────────────────────────────────────────

describe('reconciler: member year (premiums against eligibility used)', () => {
  const beforePremium = settlement({
    id: 'S1',
    postingDate: '2025-02-10',
    claimed: '900.00',
    due: '0.00',
    flags: ['NOT_COVERED', 'PREMIUM_NOT_SEEN'],
  });

  it('a settlement before the premium opens an OPEN item: nothing due, the claim outstanding', () => {
    const decision = new Ledger().when(beforePremium);
    const member = only(decision, MEMBER_2025);
    expect(brief(member)).toEqual({
      status: 'OPEN',
      expected: '0.00',
      actual: '900.00',
      difference: '900.00',
    });
    expect(member).toMatchObject({ period: '2025', memberPseudonym: MEMBER, hospitalCode: null });
    expect(member.reason).toMatch(/^MEMBER_YEAR_PREMIUM_NOT_SEEN: settlement before the 2025 premium/);
    // The hospital month follows the same settlement.
    expect(only(decision, itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-02')).status).toBe('OPEN');
  });

  it('the premium arriving in the window closes it: the settlement must be re-decided', () => {
    const member = only(given(beforePremium).when(premium('E1', '2025-03-01', 2025)), MEMBER_2025);
    expect(brief(member)).toEqual({
      status: 'CLOSED',
      expected: '0.00',
      actual: '900.00',
      difference: '900.00',
    });
    expect(member.reason).toMatch(
      /^MEMBER_YEAR_PREMIUM_ARRIVED: premium of 2025-03-01 covers 2025; the settlement must be re-decided/,
    );
    expect(member.ageDays).toBe(19);
  });

  it('a settlement of a member not covered (late or partial premium) is a DISCREPANCY at once', () => {
    const notCovered = settlement({
      id: 'S2',
      postingDate: '2025-06-10',
      claimed: '700.00',
      due: '0.00',
      flags: ['NOT_COVERED'],
    });
    const member = only(new Ledger().when(notCovered), MEMBER_2025);
    expect(brief(member)).toEqual({
      status: 'DISCREPANCY',
      expected: '0.00',
      actual: '700.00',
      difference: '700.00',
    });
    expect(member.reason).toMatch(/^MEMBER_YEAR_NOT_COVERED: /);
  });

  it('a partial premium makes the open item a DISCREPANCY; the rest of it, in the window, closes it', () => {
    const ledger = given(beforePremium);
    const partial = only(ledger.when(premium('E1', '2025-03-01', 2025, ['PARTIAL'])), MEMBER_2025);
    expect(partial.status).toBe('DISCREPANCY');
    expect(partial.reason).toContain('leaves 2025 not covered (PARTIAL)');
    expect(only(ledger.when(premium('E2', '2025-04-01', 2025)), MEMBER_2025).status).toBe('CLOSED');
    expect(ledger.counters(DEHONG, 2025)).toMatchObject({ open: 1, discrepancy: 0, closed: 1 });
  });

  it('a late premium leaves it a DISCREPANCY', () => {
    const member = only(given(beforePremium).when(premium('E1', '2025-05-02', 2025, ['LATE'])), MEMBER_2025);
    expect(member.status).toBe('DISCREPANCY');
    expect(member.reason).toContain('(LATE)');
  });

  it('a correction taking the cover away reopens a closed item as a DISCREPANCY', () => {
    const ledger = given(beforePremium, premium('E1', '2025-03-01', 2025));
    const member = only(ledger.when(premiumCorrection('C1', '2025-03-05', 2025, ['NOT_PAID'])), MEMBER_2025);
    expect(member.status).toBe('DISCREPANCY');
    expect(member.reason).toMatch(/^MEMBER_YEAR_NOT_COVERED: premium correction of 2025-03-05/);
  });

  it('a premium for a member-year without an item changes nothing', () => {
    const decision = given(operatingCost('OPC-0', '2025-02-01')).when(premium('E1', '2025-03-01', 2025));
    expect(decision).toEqual({ outputs: [], writes: [] });
  });

  it('an item still open when the window closes (event time) becomes "no premium in the window"', () => {
    const ledger = given(beforePremium);
    // 20 April is the last day of Dehong's window (art. 8): nothing changes on it.
    expect(ledger.when(operatingCost('OPC-1', '2025-04-20')).outputs).toEqual([]);
    const swept = ledger.when(operatingCost('OPC-2', '2025-04-21'));
    const member = only(swept, MEMBER_2025);
    expect(brief(member)).toEqual({
      status: 'DISCREPANCY',
      expected: '0.00',
      actual: '900.00',
      difference: '900.00',
    });
    expect(member.reason).toMatch(
      /^MEMBER_YEAR_NO_PREMIUM: the premium window 2025-01-01–2025-04-20 closed \(Dehong art\. 8\)/,
    );
    expect(member.updatedAt).toEqual(chinaMidnight('2025-04-21'));
    expect(member.ageDays).toBe(70);
    const regionYear = ledger.hashes[stateKeys.reconciliationRegionYear(DEHONG, 2025)] ?? {};
    expect(regionYear.windowPassedOn).toBe('2025-04-21');
    expect(regionYear[`openMemberYear:${MEMBER_2025}`]).toBe('');
    expect(ledger.item(MEMBER_2025).status).toBe('DISCREPANCY');
    // Swept once: the next posting finds nothing open.
    expect(ledger.when(operatingCost('OPC-3', '2025-04-22')).outputs).toEqual([]);
    // A premium arriving late after all still resolves it.
    expect(only(ledger.when(premium('E1', '2025-04-25', 2025)), MEMBER_2025).status).toBe('CLOSED');
  });

  it('after the window has closed, a settlement without a premium is a DISCREPANCY at once', () => {
    // Kaifeng art. 8 collects in the year before: the 2025 window closed on 2024-12-31.
    const kaifeng = settlement({
      id: 'K1',
      region: KAIFENG,
      hospital: 'H41020200015',
      postingDate: '2025-02-10',
      claimed: '300.00',
      due: '0.00',
      flags: ['NOT_COVERED', 'PREMIUM_NOT_SEEN'],
    });
    const member = only(new Ledger().when(kaifeng), itemIds.memberYear(KAIFENG, MEMBER, 2025));
    expect(member.status).toBe('DISCREPANCY');
    expect(member.reason).toMatch(/^MEMBER_YEAR_NO_PREMIUM: the premium window 2024-07-01–2024-12-31 closed/);
  });

  it('reversing every settlement claimed without cover closes the item', () => {
    const ledger = new Ledger({
      [stateKeys.settlement('R1')]: { kind: 'reversal', originalSettlementId: 'S1' },
    });
    ledger.when(beforePremium);
    const decision = ledger.when(
      reversal({
        id: 'R1',
        postingDate: '2025-02-12',
        serviceDate: '2025-02-10',
        claimed: '900.00',
        due: '0.00',
      }),
    );
    const member = only(decision, MEMBER_2025);
    expect(brief(member)).toEqual({ status: 'CLOSED', expected: '0.00', actual: '0.00', difference: '0.00' });
    expect(ledger.item(MEMBER_2025)['settlement:S1']).toBe('0');
    // The hospital month keeps the pair (claimed 900.00 then −900.00, nothing due) and waits for the insurer.
    const counters = ledger.counters(DEHONG, 2025);
    expect([counters.open, counters.closed, formatMoney(counters.pendingAmount)]).toEqual([1, 1, '0.00']);
  });

  it('a reversal of a settlement that was covered leaves the item alone', () => {
    const ledger = new Ledger({
      [stateKeys.settlement('R9')]: { kind: 'reversal', originalSettlementId: 'S9' },
    });
    ledger.when(beforePremium);
    const decision = ledger.when(
      reversal({
        id: 'R9',
        postingDate: '2025-02-12',
        serviceDate: '2025-02-11',
        claimed: '50.00',
        due: '45.00',
      }),
    );
    expect(results(decision).map((r) => r.itemId)).toEqual([MARCH.replace('2025-03', '2025-02')]);
  });
});

// ─── Region-year counters ──────────────────────────────────────────────────────────────────────────

/** The counters as they must be: recounted from every item hash of the region-year. */
function recount(ledger: Ledger, region: string, year: number) {
  const counts = {
    open: 0,
    matched: 0,
    discrepancy: 0,
    closed: 0,
    openAmount: '0.00',
    pendingAmount: '0.00',
  };
  let openAmount = yuan('0');
  let pendingAmount = yuan('0');
  for (const [key, hash] of Object.entries(ledger.hashes)) {
    if (!key.includes(':recon:item:') || hash.region !== region || hash.year !== String(year)) continue;
    const size = yuan(hash.actual ?? '0')
      .minus(yuan(hash.expected ?? '0'))
      .abs();
    const status = (hash.status ?? '').toLowerCase() as 'open' | 'matched' | 'discrepancy' | 'closed';
    counts[status] += 1;
    if (status === 'discrepancy') openAmount = openAmount.plus(size);
    if (status === 'open') pendingAmount = pendingAmount.plus(size);
  }
  return { ...counts, openAmount: formatMoney(openAmount), pendingAmount: formatMoney(pendingAmount) };
}

const stored = (ledger: Ledger, region: string, year: number) => {
  const c = ledger.counters(region, year);
  return { ...c, openAmount: formatMoney(c.openAmount), pendingAmount: formatMoney(c.pendingAmount) };
};

/** A year of one Dehong hospital and two members, in ledger order. */
const SCENARIO: readonly LedgerPosting[] = [
  settlement({
    id: 'S1',
    postingDate: '2025-02-10',
    claimed: '900.00',
    due: '0.00',
    flags: ['NOT_COVERED', 'PREMIUM_NOT_SEEN'],
  }),
  settlement({
    id: 'S2',
    postingDate: '2025-02-12',
    claimed: '400.00',
    due: '0.00',
    flags: ['NOT_COVERED', 'PREMIUM_NOT_SEEN'],
    member: OTHER_MEMBER,
  }),
  settlement({ id: 'S3', postingDate: '2025-03-03', claimed: '1200.00', due: '1080.00' }),
  premium('E1', '2025-03-01', 2025),
  hospitalMonth('P1', '2025-02', '2025-03-15', '1300.00', '0.00'),
  hospitalMonth('P2', '2025-03', '2025-04-15', '1080.00', '1080.00'),
  manualClaim('CLM-1', '2025-07-15', '9000.00', '8550.00'),
  operatingCost('OPC-1', '2025-04-30'),
  settlement({
    id: 'S4',
    postingDate: '2025-05-02',
    serviceDate: '2025-03-30',
    claimed: '100.00',
    due: '100.00',
  }),
  premium('E2', '2025-05-03', 2025, ['LATE'], OTHER_MEMBER),
  hospitalMonth('P3', '2025-03', '2025-05-15', '100.00', '100.00'),
];

describe('reconciler: region-year counters for the disclosure publisher', () => {
  it('stay exact through every transition of the scenario', () => {
    const ledger = new Ledger();
    for (const event of SCENARIO) {
      ledger.when(event);
      expect(stored(ledger, DEHONG, 2025)).toEqual(recount(ledger, DEHONG, 2025));
    }
    expect(stored(ledger, DEHONG, 2025)).toEqual({
      open: 0,
      matched: 1,
      discrepancy: 3,
      closed: 1,
      openAmount: '2150.00',
      pendingAmount: '0.00',
    });
  });

  it('stay exact for any order of any subset of the scenario (as partitions interleave)', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([...SCENARIO]), (events) => {
        const ledger = new Ledger();
        for (const event of events) {
          ledger.decide(event);
          expect(stored(ledger, DEHONG, 2025)).toEqual(recount(ledger, DEHONG, 2025));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a replay of a posting the memo no longer remembers is refused, and counts nothing twice', () => {
    const ledger = new Ledger();
    const first = settlement({ id: 'S1', postingDate: '2025-03-03', claimed: '10.00', due: '10.00' });
    ledger.decide(first, { partition: 2, offset: 7 });
    const replay = ledger.decide(first, { partition: 2, offset: 7 });
    expect(replay.ok ? 'accepted' : replay.error.code).toBe('DUPLICATE_EVENT');
    expect(ledger.item(MARCH).expected).toBe('10.00');
    // A later posting on the same partition, and any on another, still apply.
    const next = settlement({ id: 'S2', postingDate: '2025-03-04', claimed: '5.00', due: '5.00' });
    expect(ledger.decide(next, { partition: 2, offset: 8 }).ok).toBe(true);
    expect(
      ledger.decide(
        { ...next, postingId: 'SETTLEMENT_APPLIED:S5', sourceEventId: 'S5' },
        { partition: 5, offset: 1 },
      ).ok,
    ).toBe(true);
    expect(ledger.item(MARCH).expected).toBe('20.00');
  });

  it('an operating cost changes no item; at most it records event time passing a window', () => {
    const ledger = new Ledger();
    const first = ledger.when(operatingCost('OPC-1', '2025-03-31'));
    expect(first.outputs).toEqual([]);
    // The first posting seen after Dehong's 2024 window closed (2024-04-20) records it, once.
    expect(first.writes).toEqual([
      { key: stateKeys.reconciliationRegionYear(DEHONG, 2024), fields: { windowPassedOn: '2025-03-31' } },
    ]);
    expect(ledger.when(operatingCost('OPC-2', '2025-04-01'))).toEqual({ outputs: [], writes: [] });
  });
});

// ─── Determinism ───────────────────────────────────────────────────────────────────────────────────

describe('reconciler: determinism', () => {
  it('the same postings give the same outputs and writes, byte for byte', () => {
    const run = () => {
      const ledger = new Ledger();
      return JSON.stringify(SCENARIO.map((event) => ledger.when(event)));
    };
    expect(run()).toBe(run());
  });

  it('event time only: openedAt and updatedAt are postingDate at 00:00 China time', () => {
    const ledger = new Ledger();
    const decisions = SCENARIO.map((event) => ledger.when(event));
    for (const result of decisions.flatMap(results)) {
      expect(result.openedAt.getUTCHours()).toBe(16);
      expect(result.updatedAt.getUTCHours()).toBe(16);
      expect(result.ageDays).toBe(
        Math.round((result.updatedAt.getTime() - result.openedAt.getTime()) / 86_400_000),
      );
    }
  });
});

// ─── Summary ───────────────────────────────────────────────────────────────────────────────────────

describe('reconciler: summary', () => {
  const ledger = new Ledger();
  for (const event of SCENARIO) ledger.when(event);
  const summary = summarise(ledger.published);

  it('keeps the latest state per item and counts by kind and status', () => {
    expect(summary.items.map((i) => i.itemId)).toEqual([
      itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-02'),
      MARCH,
      itemIds.manualClaim(DEHONG, 'CLM-1'),
      itemIds.memberYear(DEHONG, OTHER_MEMBER, 2025),
      MEMBER_2025,
    ]);
    expect(summary.all.byStatus).toEqual({ OPEN: 0, MATCHED: 1, DISCREPANCY: 3, CLOSED: 1 });
    expect(summary.byKind.HOSPITAL_MONTH.byStatus).toEqual({
      OPEN: 0,
      MATCHED: 1,
      DISCREPANCY: 1,
      CLOSED: 0,
    });
    expect(summary.byKind.MANUAL_CLAIM.byStatus.DISCREPANCY).toBe(1);
    expect(summary.byKind.MEMBER_YEAR.byStatus).toEqual({ OPEN: 0, MATCHED: 0, DISCREPANCY: 1, CLOSED: 1 });
    expect(formatMoney(summary.all.openAmount)).toBe('2150.00');
    expect(summary.discrepancies.map((i) => formatMoney(i.difference))).toEqual([
      '1300.00',
      '450.00',
      '400.00',
    ]);
  });

  it('agrees with the region-year counters the reconciler keeps', () => {
    const counters = ledger.counters(DEHONG, 2025);
    const region = summary.byRegion[DEHONG];
    expect(region?.byStatus.DISCREPANCY).toBe(counters.discrepancy);
    expect(formatMoney(region?.openAmount ?? yuan('0'))).toBe(formatMoney(counters.openAmount));
  });

  it('prints a bilingual table', () => {
    const printed = formatSummary(summary, { top: 2 });
    expect(printed).toContain('对账汇总 Reconciliation summary: 5 items');
    expect(printed).toContain('医疗机构月度结算 Hospital month');
    expect(printed).toContain('533100 德宏傣族景颇族自治州 Dehong');
    expect(printed).toContain('最大未结差异 Largest open discrepancies (2 of 3)');
    expect(printed).toMatch(/合计 All\s+0\s+1\s+3\s+1\s+5\s+2150\.00\s+0\.00/);
  });

  it('an empty topic summarises to zeros', () => {
    const empty = summarise([]);
    expect(empty.all.total).toBe(0);
    expect(formatSummary(empty)).toContain('0 items');
  });
});
