import { describe, expect, it } from 'vitest';
import { reconcilerService } from '../../../services/reconciler/adapter.js';
import { reconcilerEntitiesOf } from '../../../services/reconciler/decide.js';
import { MANUAL_CLAIM_ITEM, MEMBER_YEAR_ITEM } from '../../../services/reconciler/items.js';
import { formatSummary, summarise } from '../../../services/reconciler/summary.js';
import { CorruptStateError } from '../../../shared/errors.js';
import { Decimal } from '../../../shared/money.js';
import { COUNTERS, itemIds } from '../../../shared/reconciliation.js';
import type { JournalManualClaim, JournalSettlement, LedgerPosting } from '../../../shared/records.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';
import {
  Books,
  DEHONG,
  DEHONG_HOSPITAL,
  hospitalPayout,
  manualClaim,
  member,
  notice,
  operatingCost,
  premium,
  reversal,
  settlement,
} from './journal.js';
import { brief, chinaMidnight, counted, latest, MemberStage, only } from './reconcilers.js';

const reconciler = reconcilerService(TOPICS);

// The reconciler's member stage, fed the postings accounting writes (the Books harness), in ledger
// order: member-year items for claims that waited for cover or were decided without it, manual-claim
// items against Dehong art. 16, and every settlement posting and insurer payment forwarded, re-keyed by
// hospital, to the hospital stage. Amounts are worked by hand (see accounting.unit.spec.ts for the
// decisions themselves).

const yuan = (text: string) => new Decimal(text);
const at = (date: string, time = '12:00') => new Date(`${date}T${time}:00+08:00`);

/** Dehong: basic cap reached in this settlement, 10 000.00 over it × 0.90 = 9 000.00 due, as claimed. */
const ISSUE = { basic: '150000.00', overCap: '10000.00', claimed: '9000.00' };
const dehong = (id: string, n: number, date: string, o: Partial<JournalSettlement> = {}) =>
  settlement(id, n, ISSUE, { serviceDate: date, settledAt: at(date), ...o });
const pay = (eventId: string, n: number, paidOn = '2025-03-01') => premium(n, { eventId, paidOn });

/** A Dehong manual claim in the city: the basic cap reached in it, 10 000.00 over the cap. */
const manual = (id: string, n: number, paid: string, o: Partial<JournalManualClaim> = {}) =>
  manualClaim(
    id,
    n,
    { basic: '150000.00', overCap: '10000.00', paid },
    {
      hospitalCode: DEHONG_HOSPITAL,
      outOfArea: false,
      referral: 'NOT_APPLICABLE',
      serviceDate: '2025-06-10',
      receivedOn: '2025-07-01',
      paidOn: '2025-07-15',
      ...o,
    },
  );

const memberYear = (n: number, year = 2025) => itemIds.memberYear(DEHONG, member(n), year);
const manualItem = (claimId: string) => itemIds.manualClaim(DEHONG, claimId);

/** Accounting's postings for the facts, then the member stage fed them in ledger order. */
function reconciled(...facts: Parameters<Books['apply']>) {
  const books = new Books();
  books.apply(...facts);
  expect(books.refused).toEqual([]);
  const stage = new MemberStage();
  const steps = books.postings.map((posting) => ({ posting, ...stage.apply(posting) }));
  return { books, stage, steps };
}

// ─── Wiring and parse ──────────────────────────────────────────────────────────────────────────────

describe('reconciler (member stage): wiring and parse', () => {
  it('reads the ledger; writes results and hospital-month changes', () => {
    expect(reconciler.name).toBe('reconciler');
    expect(reconciler.input).toBe(TOPICS.ledger);
    expect(reconciler.deadLetters).toBe(TOPICS.reconcilerDeadLetters);
    expect(reconciler.outputs).toEqual([TOPICS.reconciliation, TOPICS.hospitalMonth]);
    expect(reconciler.state?.kinds).toEqual([MEMBER_YEAR_ITEM, MANUAL_CLAIM_ITEM, COUNTERS]);
  });

  const parse = (value: LedgerPosting) => {
    const result = reconciler.parse({ record: 'ledger-posting', value, schemaId: 1 }, {} as never);
    return result.ok ? 'accepted' : `${result.error.code} ${result.error.field}`;
  };
  const sample = avroSamples['ledger-posting'];

  it('accepts a ledger posting as it is', () => {
    expect(parse(sample)).toBe('accepted');
    expect(reconciler.parse({ record: 'ledger-posting', value: sample, schemaId: 1 }, {} as never)).toEqual({
      ok: true,
      value: sample,
    });
  });

  it.each([
    ['an empty posting id', { postingId: ' ' }, 'POSTING_ID_EMPTY postingId'],
    ['an unknown region', { regionCode: '999999' }, 'UNKNOWN_REGION regionCode'],
    ['a cause date that is no date', { causeDate: '2025-02-30' }, 'INVALID_DATE causeDate'],
    ['a receipt date that is no date', { receivedOn: '2025-13-01' }, 'INVALID_DATE receivedOn'],
    ['a manual claim without its service date', { serviceDate: null }, 'POSTING_INCOMPLETE serviceDate'],
    [
      'a settlement without its hospital',
      { kind: 'SETTLEMENT_HELD', hospitalCode: null },
      'POSTING_INCOMPLETE hospitalCode',
    ],
    [
      'a settlement without its member',
      { kind: 'SETTLEMENT_APPLIED', memberPseudonym: null },
      'POSTING_INCOMPLETE memberPseudonym',
    ],
    [
      'a hospital payment without its month',
      { kind: 'HOSPITAL_MONTH_SETTLED', hospitalCode: 'H53310200003', serviceDate: null },
      'POSTING_INCOMPLETE serviceDate',
    ],
    ['a manual claim without what was paid', { claimedAmount: null }, 'POSTING_INCOMPLETE claimedAmount'],
  ] as const)('refuses %s', (_case, overrides, expected) => {
    expect(parse({ ...sample, ...overrides } as LedgerPosting)).toBe(expected);
  });

  it('refuses a record that is not a ledger posting', () => {
    const result = reconciler.parse(
      { record: 'operating-cost', value: avroSamples['operating-cost'], schemaId: 2 },
      {} as never,
    );
    expect(result.ok ? null : result.error).toMatchObject({ code: 'UNEXPECTED_RECORD', field: 'value' });
  });

  it('names no entity for a posting it has nothing to do with', () => {
    const books = new Books();
    books.apply(pay('TAX-1', 1), operatingCost('OPC-1', '10.00'), hospitalPayout('P1', '10.00', ['S1']));
    for (const posting of books.postings) expect(reconcilerEntitiesOf(posting)).toEqual([]);
  });
});

// ─── Member-year items ─────────────────────────────────────────────────────────────────────────────

describe('reconciler: member-year items (claims that waited for cover, or were decided without it)', () => {
  it('a held settlement opens an OPEN item; the premium releasing it closes it (Dehong art. 8)', () => {
    const { steps, stage } = reconciled(dehong('S1', 1, '2025-02-10'), pay('TAX-1', 1));
    const [held, collected, released] = steps;

    const open = only(held?.results ?? [], memberYear(1));
    expect(brief(open)).toEqual({
      status: 'OPEN',
      expected: '0.00',
      actual: '9000.00',
      difference: '9000.00',
    });
    expect(open).toMatchObject({
      kind: 'MEMBER_YEAR',
      regionCode: DEHONG,
      period: '2025',
      memberPseudonym: member(1),
      hospitalCode: null,
      claimId: null,
      dueBy: null,
      sourceEventId: 'SETTLEMENT_HELD:S1',
      openedAt: chinaMidnight('2025-02-10'),
    });
    expect(open.reason).toBe(
      'MEMBER_YEAR_COVER_PENDING: 1 claim(s) claimed 9000.00 wait for the 2025 premium (or the end-of-collection notice) to decide cover',
    );
    expect(collected?.results).toEqual([]);
    expect(collected?.changes).toEqual([]);

    const closed = only(released?.results ?? [], memberYear(1));
    expect(brief(closed)).toEqual({
      status: 'CLOSED',
      expected: '9000.00',
      actual: '9000.00',
      difference: '0.00',
    });
    expect(closed.reason).toBe(
      'MEMBER_YEAR_COVERED: cover was decided; the held claims were decided by policy: due 9000.00, claimed 9000.00',
    );
    // Opened on the settlement's day, updated on the premium's: 10 February → 1 March is 19 days.
    expect(closed).toMatchObject({
      openedAt: chinaMidnight('2025-02-10'),
      updatedAt: chinaMidnight('2025-03-01'),
      ageDays: 19,
      sourceEventId: 'SETTLEMENT_RELEASED:S1:1',
    });
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MEMBER_YEAR:CLOSED': [1, '0.00'] });
  });

  it('a member covered before the claim has nothing to reconcile: no member-year item', () => {
    const { stage } = reconciled(pay('TAX-1', 1), dehong('S1', 1, '2025-02-10'));

    expect(stage.results).toEqual([]);
    expect(stage.changes.map((c) => c.changeId)).toEqual(['SETTLEMENT_APPLIED:S1']);
  });

  it('released as not covered by the notice: a DISCREPANCY, nothing due for 9 000.00 claimed', () => {
    const { steps, stage } = reconciled(dehong('S1', 1, '2025-02-10'), notice({ issuedOn: '2025-04-21' }));

    const item = only(steps[1]?.results ?? [], memberYear(1));
    expect(brief(item)).toEqual({
      status: 'DISCREPANCY',
      expected: '0.00',
      actual: '9000.00',
      difference: '9000.00',
    });
    expect(item.reason).toBe(
      'MEMBER_YEAR_NOT_COVERED: the 2025 premium was not paid in full in its window, so nothing is due; 1 claim(s) claimed 9000.00 for a member without cover',
    );
    expect(item.updatedAt).toEqual(chinaMidnight('2025-04-21'));
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MEMBER_YEAR:DISCREPANCY': [1, '9000.00'] });
  });

  it('a premium paid in the window arriving after the notice re-decides the claim and closes the item', () => {
    const { stage } = reconciled(
      dehong('S1', 1, '2025-02-10'),
      notice({ issuedOn: '2025-04-21' }),
      pay('TAX-1', 1, '2025-04-15'),
    );

    expect(stage.results.filter((r) => r.itemId === memberYear(1)).map((r) => r.status)).toEqual([
      'OPEN',
      'DISCREPANCY',
      'CLOSED',
    ]);
    expect(brief(latest(stage.results, memberYear(1)))).toEqual({
      status: 'CLOSED',
      expected: '9000.00',
      actual: '9000.00',
      difference: '0.00',
    });
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MEMBER_YEAR:CLOSED': [1, '0.00'] });
  });

  it('a reversal nets its not-covered settlement: the item closes with nothing claimed', () => {
    const s1 = dehong('S1', 1, '2025-02-10');
    const { stage } = reconciled(s1, reversal('R1', s1), notice({ issuedOn: '2025-04-21' }));

    // Held 9 000.00 and −9 000.00 (nothing left waiting), S1 released not covered (9 000.00 without
    // cover), then R1 released not covered: 9 000.00 − 9 000.00 = 0.00 claimed without cover.
    expect(stage.results.map((r) => r.status)).toEqual(['OPEN', 'CLOSED', 'DISCREPANCY', 'CLOSED']);
    const item = latest(stage.results, memberYear(1));
    expect(brief(item)).toEqual({ status: 'CLOSED', expected: '0.00', actual: '0.00', difference: '0.00' });
    expect(item.reason).toBe('MEMBER_YEAR_REVERSED: every claim made without cover for 2025 was reversed');
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MEMBER_YEAR:CLOSED': [1, '0.00'] });
  });

  it('a copy of a posting already applied (the same revision) changes nothing', () => {
    const { books, stage } = reconciled(dehong('S1', 1, '2025-02-10'), pay('TAX-1', 1));
    const counters = counted(stage.counters(DEHONG, 2025));

    for (const posting of books.postings) {
      const again = stage.apply(posting);
      expect(again.results).toEqual([]);
    }
    expect(counted(stage.counters(DEHONG, 2025))).toEqual(counters);
  });

  it('its final status does not depend on the order its postings came in: a later revision seen first wins', () => {
    // The module's promise: each item is a function of the latest booking of each claim, so its final
    // status does not depend on the order the postings came in. Here the release (revision 1) is seen
    // before the hold (revision 0) it replaces; one member's postings share a ledger partition, so only
    // a lost order would deliver them so.
    const books = new Books();
    books.apply(dehong('S1', 1, '2025-02-10'), pay('TAX-1', 1));
    const [held, , released] = books.postings as [LedgerPosting, LedgerPosting, LedgerPosting];
    const inOrder = new MemberStage();
    inOrder.apply(held, released);
    const reversed = new MemberStage();
    reversed.apply(released, held);

    expect(latest(inOrder.results, memberYear(1)).status).toBe('CLOSED');
    const final = reversed.results.filter((r) => r.itemId === memberYear(1)).at(-1)?.status ?? 'no item';
    expect(['CLOSED', 'no item']).toContain(final);
  });
});

// ─── Manual-claim items ────────────────────────────────────────────────────────────────────────────

describe('reconciler: manual-claim items (Dehong art. 16)', () => {
  const covered = (claim: ReturnType<typeof manual>) => reconciled(pay('TAX-1', 1), claim);
  const resultOf = (stage: MemberStage, claimId = 'CLM-1') => latest(stage.results, manualItem(claimId));

  it('matched: paid as due, within 20 working days and by the deadline; dueBy is the 20th working day', () => {
    const { stage } = covered(manual('CLM-1', 1, '9000.00'));

    const item = only(stage.results, manualItem('CLM-1'));
    expect(brief(item)).toEqual({
      status: 'MATCHED',
      expected: '9000.00',
      actual: '9000.00',
      difference: '0.00',
    });
    // Received Tue 1 July 2025: 2–4, 7–11, 14–18, 21–25, 28, 29 July are the 20 working days after it.
    expect(item).toMatchObject({
      kind: 'MANUAL_CLAIM',
      claimId: 'CLM-1',
      memberPseudonym: member(1),
      hospitalCode: null,
      period: '2025',
      dueBy: '2025-07-29',
      openedAt: chinaMidnight('2025-07-15'),
      sourceEventId: 'MANUAL_REIMBURSEMENT:CLM-1',
    });
    expect(item.reason).toBe(
      'MANUAL_CLAIM_MATCHED: paid 9000.00 = due 9000.00, within 20 working days and by the deadline 2026-03-31 (Dehong art. 16)',
    );
    // A manual claim is no hospital's settlement: nothing is forwarded to the hospital stage.
    expect(stage.changes).toEqual([]);
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MANUAL_CLAIM:MATCHED': [1, '0.00'] });
  });

  it('dueBy counts Chinese working days: the National Day holiday does not count, the make-up days do', () => {
    // Received Fri 26 Sep 2025: Sun 28, Mon 29, Tue 30 Sep; 1–8 Oct off; Thu 9, Fri 10, Sat 11 (make-up);
    // 13–17, 20–24, 27, 28, 29, 30 Oct: the 20th is 30 October.
    const { stage } = covered(
      manual('CLM-1', 1, '9000.00', { receivedOn: '2025-09-26', paidOn: '2025-10-20' }),
    );

    expect(resultOf(stage)).toMatchObject({ status: 'MATCHED', dueBy: '2025-10-30' });
  });

  it('over-paid: 10 000.00 × 0.85 = 8 500.00 due for care outside the prefecture without referral, 9 000.00 paid', () => {
    const { stage } = covered(
      manual('CLM-1', 1, '9000.00', {
        outOfArea: true,
        referral: 'NOT_REFERRED',
        hospitalCode: 'H53010200001',
      }),
    );

    const item = resultOf(stage);
    expect(brief(item)).toEqual({
      status: 'DISCREPANCY',
      expected: '8500.00',
      actual: '9000.00',
      difference: '500.00',
    });
    expect(item.reason).toBe(
      'MANUAL_CLAIM_OVER_PAID: paid 9000.00, due 8500.00 by policy: over-payment 500.00',
    );
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MANUAL_CLAIM:DISCREPANCY': [1, '500.00'] });
  });

  it('short-paid: 8 000.00 paid of 9 000.00 due', () => {
    const item = resultOf(covered(manual('CLM-1', 1, '8000.00')).stage);

    expect(brief(item)).toEqual({
      status: 'DISCREPANCY',
      expected: '9000.00',
      actual: '8000.00',
      difference: '-1000.00',
    });
    expect(item.reason).toBe(
      'MANUAL_CLAIM_SHORT_PAID: paid 8000.00, due 9000.00 by policy: short payment 1000.00',
    );
  });

  it('SLA breached: paid 31 working days after receipt is a DISCREPANCY though the amount is right', () => {
    // Received Mon 1 Sep 2025: 2–5, 8–12, 15–19, 22–26 Sep and Sun 28 Sep (make-up) are the 20 working days.
    const item = resultOf(
      covered(manual('CLM-1', 1, '9000.00', { receivedOn: '2025-09-01', paidOn: '2025-10-20' })).stage,
    );

    expect(brief(item)).toEqual({
      status: 'DISCREPANCY',
      expected: '9000.00',
      actual: '9000.00',
      difference: '0.00',
    });
    expect(item.dueBy).toBe('2025-09-28');
    expect(item.reason).toBe(
      'SLA_BREACHED: paid 2025-10-20, more than 20 working days after receipt on 2025-09-01 (Dehong art. 16)',
    );
  });

  it('past the 31 March deadline: a DISCREPANCY naming the deadline; dueBy is the deadline when it comes first', () => {
    const item = resultOf(
      covered(
        manual('CLM-1', 1, '9000.00', {
          serviceDate: '2025-11-10',
          receivedOn: '2026-03-20',
          paidOn: '2026-04-01',
        }),
      ).stage,
    );

    expect(item.status).toBe('DISCREPANCY');
    expect(item.dueBy).toBe('2026-03-31');
    expect(item.reason).toBe(
      'PAST_DEADLINE: paid 2026-04-01, after the deadline 2026-03-31 (Dehong art. 16)',
    );
  });

  it('OPEN while the member-year’s cover is pending; MATCHED once the premium decides it', () => {
    const { steps, stage } = reconciled(manual('CLM-1', 1, '9000.00'), pay('TAX-1', 1, '2025-04-01'));

    const open = only(steps[0]?.results ?? [], manualItem('CLM-1'));
    expect(brief(open)).toEqual({
      status: 'OPEN',
      expected: '0.00',
      actual: '9000.00',
      difference: '9000.00',
    });
    expect(open.reason).toBe(
      "MANUAL_CLAIM_COVER_PENDING: paid 9000.00 on 2025-07-15; what is due waits for the member-year's cover to be decided",
    );
    expect(open.dueBy).toBe('2025-07-29');
    const matched = latest(stage.results, manualItem('CLM-1'));
    expect(brief(matched)).toEqual({
      status: 'MATCHED',
      expected: '9000.00',
      actual: '9000.00',
      difference: '0.00',
    });
    expect(matched.dueBy).toBe('2025-07-29');
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MANUAL_CLAIM:MATCHED': [1, '0.00'] });
  });

  it('the result of a release names the posting that changed the item (reconciliation-result.avsc sourceEventId)', () => {
    // The premium is dated 1 April, before the claim's payment on 15 July, but the release it caused is
    // what turned the item from OPEN to MATCHED.
    const { stage } = reconciled(manual('CLM-1', 1, '9000.00'), pay('TAX-1', 1, '2025-04-01'));

    const [open, matched] = stage.results.filter((r) => r.itemId === manualItem('CLM-1'));
    expect(open?.sourceEventId).toBe('MANUAL_REIMBURSEMENT_HELD:CLM-1');
    expect(matched?.status).toBe('MATCHED');
    expect(matched?.sourceEventId).toBe('MANUAL_REIMBURSEMENT_RELEASED:CLM-1:1');
  });

  it('not covered: nothing due for 9 000.00 paid', () => {
    const { stage } = reconciled(notice({ issuedOn: '2025-04-21' }), manual('CLM-1', 1, '9000.00'));

    const item = resultOf(stage);
    expect(brief(item)).toEqual({
      status: 'DISCREPANCY',
      expected: '0.00',
      actual: '9000.00',
      difference: '9000.00',
    });
    expect(item.reason).toBe(
      'MANUAL_CLAIM_OVER_PAID: paid 9000.00, due 0.00 by policy: over-payment 9000.00',
    );
    // The claim also joins no member-year item: manual claims are reconciled on their own.
    expect(stage.results.map((r) => r.kind)).toEqual(['MANUAL_CLAIM']);
  });

  it('a copy of the same revision changes nothing', () => {
    const { books, stage } = covered(manual('CLM-1', 1, '9000.00'));
    const claim = books.postings.at(-1) as LedgerPosting;

    expect(stage.apply(claim).results).toEqual([]);
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'MANUAL_CLAIM:MATCHED': [1, '0.00'] });
  });
});

// ─── Forwarding to the hospital stage ──────────────────────────────────────────────────────────────

describe('reconciler: settlement postings and insurer payments are forwarded as hospital-month changes', () => {
  it('each settlement booking becomes a CLAIM change of its service month, keyed by hospital', () => {
    const s1 = dehong('S1', 1, '2025-02-10');
    const { stage } = reconciled(s1, reversal('R1', s1), pay('TAX-1', 1));

    expect(stage.changes).toEqual([
      {
        changeId: 'SETTLEMENT_HELD:S1',
        kind: 'CLAIM',
        regionCode: DEHONG,
        hospitalCode: DEHONG_HOSPITAL,
        month: '2025-02',
        insuranceYear: 2025,
        eventDate: '2025-02-10',
        claimId: 'S1',
        revision: 0,
        reversal: false,
        held: true,
        claimedAmount: yuan('9000.00'),
        dueAmount: null,
        paidAmount: null,
        settlementIds: [],
      },
      {
        changeId: 'SETTLEMENT_REVERSED:R1',
        kind: 'CLAIM',
        regionCode: DEHONG,
        hospitalCode: DEHONG_HOSPITAL,
        month: '2025-02',
        insuranceYear: 2025,
        // Reversed three days after 10 February.
        eventDate: '2025-02-13',
        claimId: 'R1',
        revision: 0,
        reversal: true,
        held: true,
        claimedAmount: yuan('-9000.00'),
        dueAmount: null,
        paidAmount: null,
        settlementIds: [],
      },
      {
        changeId: 'SETTLEMENT_RELEASED:S1:1',
        kind: 'CLAIM',
        regionCode: DEHONG,
        hospitalCode: DEHONG_HOSPITAL,
        month: '2025-02',
        insuranceYear: 2025,
        // A later booking changes the month on the day its cause happened.
        eventDate: '2025-03-01',
        claimId: 'S1',
        revision: 1,
        reversal: false,
        held: false,
        claimedAmount: yuan('9000.00'),
        dueAmount: yuan('9000.00'),
        paidAmount: null,
        settlementIds: [],
      },
      {
        changeId: 'SETTLEMENT_RELEASED:R1:1',
        kind: 'CLAIM',
        regionCode: DEHONG,
        hospitalCode: DEHONG_HOSPITAL,
        month: '2025-02',
        insuranceYear: 2025,
        eventDate: '2025-03-01',
        claimId: 'R1',
        revision: 1,
        reversal: true,
        held: false,
        claimedAmount: yuan('-9000.00'),
        dueAmount: yuan('-9000.00'),
        paidAmount: null,
        settlementIds: [],
      },
    ]);
  });

  it('an insurer payment becomes a PAYMENT change of the month it settles, with the settlements it lists', () => {
    const { stage } = reconciled(
      hospitalPayout('P1', '1234.56', ['S1', 'S2'], { month: '2025-02', paidOn: '2025-03-15' }),
    );

    expect(stage.results).toEqual([]);
    expect(stage.changes).toEqual([
      {
        changeId: 'HOSPITAL_MONTH_SETTLED:P1',
        kind: 'PAYMENT',
        regionCode: DEHONG,
        hospitalCode: DEHONG_HOSPITAL,
        month: '2025-02',
        insuranceYear: 2025,
        eventDate: '2025-03-15',
        claimId: null,
        revision: 0,
        reversal: false,
        held: false,
        claimedAmount: null,
        dueAmount: null,
        paidAmount: yuan('1234.56'),
        settlementIds: ['S1', 'S2'],
      },
    ]);
  });

  it('premiums and operating costs are not forwarded', () => {
    const { stage } = reconciled(pay('TAX-1', 1), operatingCost('OPC-1', '10.00'));

    expect(stage.changes).toEqual([]);
    expect(stage.results).toEqual([]);
  });
});

// ─── Item codecs ───────────────────────────────────────────────────────────────────────────────────

describe('reconciler: item codecs', () => {
  it('read back what they write (the harness stores every item as its codec writes it)', () => {
    const s1 = dehong('S1', 1, '2025-02-10');
    const { stage } = reconciled(s1, manual('CLM-1', 1, '9000.00'));
    const item = stage.store.get(MEMBER_YEAR_ITEM, `${DEHONG}:2025:${member(1)}`);
    expect(
      [...item.claims.entries()].map(([id, c]) => [id, c.revision, c.state, c.claimed.toFixed(2)]),
    ).toEqual([['S1', 0, 'held', '9000.00']]);
    expect(MEMBER_YEAR_ITEM.decode(MEMBER_YEAR_ITEM.encode(item), `${DEHONG}:2025:${member(1)}`)).toEqual(
      item,
    );
    const claim = stage.store.get(MANUAL_CLAIM_ITEM, `${DEHONG}:CLM-1`);
    expect(MANUAL_CLAIM_ITEM.decode(MANUAL_CLAIM_ITEM.encode(claim), `${DEHONG}:CLM-1`)).toEqual(claim);
  });

  it.each([
    [
      'a member-year item without its header',
      () => MEMBER_YEAR_ITEM.decode({}, `${DEHONG}:2025:${member(1)}`),
    ],
    [
      'a member-year item whose header is null',
      () => MEMBER_YEAR_ITEM.decode({ h: 'null' }, `${DEHONG}:2025:${member(1)}`),
    ],
    [
      'a claim in an unknown state',
      () => MEMBER_YEAR_ITEM.decode({ h: '[null,null,null,false]', 'c:S1': '[0,"paid","1.00","1.00"]' }, 'x'),
    ],
    ['a manual-claim item of the wrong shape', () => MANUAL_CLAIM_ITEM.decode({ v: '[1,2,3]' }, 'x')],
    ['counters that are not counts', () => COUNTERS.decode({ 'n:MEMBER_YEAR:OPEN': 'many' }, 'x')],
  ])('refuses %s as corrupt state', (_case, decode) => {
    expect(decode).toThrow(CorruptStateError);
  });
});

// ─── Summary ───────────────────────────────────────────────────────────────────────────────────────

describe('reconciler: summary for operations staff', () => {
  // Member 1: held, then not covered (9 000.00 without cover); member 2: covered, manual claim over-paid
  // by 500.00; member 3: manual claim matched.
  const { stage } = reconciled(
    dehong('S1', 1, '2025-02-10'),
    notice({ issuedOn: '2025-04-21' }),
    pay('TAX-2', 2, '2025-03-01'),
    manual('CLM-2', 2, '9000.00', {
      outOfArea: true,
      referral: 'NOT_REFERRED',
      hospitalCode: 'H53010200001',
    }),
    pay('TAX-3', 3, '2025-03-01'),
    manual('CLM-3', 3, '9000.00'),
  );
  const summary = summarise(stage.results);

  it('keeps the latest state per item and counts by kind and status', () => {
    expect(summary.items.map((i) => i.itemId)).toEqual([
      manualItem('CLM-2'),
      manualItem('CLM-3'),
      memberYear(1),
    ]);
    expect(summary.all.byStatus).toEqual({ OPEN: 0, MATCHED: 1, DISCREPANCY: 2, CLOSED: 0 });
    expect(summary.byKind.MANUAL_CLAIM.byStatus).toEqual({ OPEN: 0, MATCHED: 1, DISCREPANCY: 1, CLOSED: 0 });
    expect(summary.byKind.MEMBER_YEAR.byStatus).toEqual({ OPEN: 0, MATCHED: 0, DISCREPANCY: 1, CLOSED: 0 });
    // 9 000.00 + 500.00 open.
    expect(summary.all.openAmount.toFixed(2)).toBe('9500.00');
    expect(summary.discrepancies.map((i) => i.difference.toFixed(2))).toEqual(['9000.00', '500.00']);
  });

  it('agrees with the counters the reconciler keeps for the disclosure', () => {
    expect(counted(stage.counters(DEHONG, 2025))).toEqual({
      'MANUAL_CLAIM:DISCREPANCY': [1, '500.00'],
      'MANUAL_CLAIM:MATCHED': [1, '0.00'],
      'MEMBER_YEAR:DISCREPANCY': [1, '9000.00'],
    });
  });

  it('prints a bilingual table', () => {
    const printed = formatSummary(summary, { top: 1 });
    expect(printed).toContain('对账汇总 Reconciliation summary: 3 items');
    expect(printed).toContain('手工报销 Manual claim');
    expect(printed).toContain('533100 德宏傣族景颇族自治州 Dehong');
    expect(printed).toContain('最大未结差异 Largest open discrepancies (1 of 2)');
    expect(printed).toMatch(/合计 All\s+0\s+1\s+2\s+0\s+3\s+9500\.00\s+0\.00/);
  });

  it('an empty topic summarises to zeros', () => {
    const empty = summarise([]);
    expect(empty.all.total).toBe(0);
    expect(formatSummary(empty)).toContain('0 items');
  });
});
