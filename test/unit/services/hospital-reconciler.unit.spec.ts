import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hospitalReconcilerService } from '../../../services/hospital-reconciler/adapter.js';
import { decideHospitalMonth } from '../../../services/hospital-reconciler/decide.js';
import { HOSPITAL_MONTH_ITEM, hospitalMonthId } from '../../../services/hospital-reconciler/items.js';
import { CorruptStateError } from '../../../shared/errors.js';
import { Decimal } from '../../../shared/money.js';
import { COUNTERS, itemIds } from '../../../shared/reconciliation.js';
import type { HospitalMonthChange } from '../../../shared/records.js';
import { fieldDifference } from '../../../shared/runner/service.js';
import { avroSamples } from '../../fixtures/avro-samples.js';
import { DEFAULT_TOPICS as TOPICS } from '../../support/config.js';
import { expectExactChanges, ValueStore } from './entity-changes.js';
import {
  Books,
  DEHONG,
  DEHONG_HOSPITAL,
  hospitalPayout,
  notice,
  premium,
  reversal,
  settlement,
} from './journal.js';
import { brief, chinaMidnight, counted, HospitalStage, latest, MemberStage, only } from './reconcilers.js';

const hospitalReconciler = hospitalReconcilerService(TOPICS);

// The reconciler's hospital stage: one item per hospital-month, what the fund owes the hospital by
// policy for the month's settlements (net of reversals) against what the insurer paid it (Dehong
// art. 15). Changes are built by hand here; the last block feeds it what accounting and the member stage
// publish for the case.

const yuan = (text: string) => new Decimal(text);
const HOSPITAL = DEHONG_HOSPITAL;
const OTHER_HOSPITAL = 'H53310200007';
const MARCH = itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-03');

interface ClaimChange {
  readonly revision?: number;
  readonly held?: boolean;
  readonly reversal?: boolean;
  readonly claimed: string;
  /** null while held. */
  readonly due: string | null;
  readonly on: string;
  readonly month?: string;
  readonly hospital?: string;
}

/** A claim's booking as the member stage forwards it; the change id is its posting id. */
function claim(id: string, c: ClaimChange): HospitalMonthChange {
  const revision = c.revision ?? 0;
  const held = c.held ?? c.due === null;
  const kind = held ? 'SETTLEMENT_HELD' : c.reversal ? 'SETTLEMENT_REVERSED' : 'SETTLEMENT_APPLIED';
  const month = c.month ?? '2025-03';
  return {
    changeId: revision === 0 ? `${kind}:${id}` : `SETTLEMENT_RELEASED:${id}:${revision}`,
    kind: 'CLAIM',
    regionCode: DEHONG,
    hospitalCode: c.hospital ?? HOSPITAL,
    month,
    insuranceYear: Number(month.slice(0, 4)),
    eventDate: c.on,
    claimId: id,
    revision,
    reversal: c.reversal ?? false,
    held,
    claimedAmount: yuan(c.claimed),
    dueAmount: c.due === null ? null : yuan(c.due),
    paidAmount: null,
    settlementIds: [],
  };
}

/** The insurer's payment of a month, listing the settlements it pays. */
function payment(
  id: string,
  paid: string,
  listed: string[],
  on: string,
  month = '2025-03',
): HospitalMonthChange {
  return {
    changeId: `HOSPITAL_MONTH_SETTLED:${id}`,
    kind: 'PAYMENT',
    regionCode: DEHONG,
    hospitalCode: HOSPITAL,
    month,
    insuranceYear: Number(month.slice(0, 4)),
    eventDate: on,
    claimId: null,
    revision: 0,
    reversal: false,
    held: false,
    claimedAmount: null,
    dueAmount: null,
    paidAmount: yuan(paid),
    settlementIds: listed,
  };
}

const S1 = claim('S1', { claimed: '1000.00', due: '1000.00', on: '2025-03-03' });
const S2 = claim('S2', { claimed: '500.00', due: '500.00', on: '2025-03-20' });

function given(...changes: HospitalMonthChange[]): HospitalStage {
  const stage = new HospitalStage();
  stage.apply(...changes);
  expect(stage.refused).toEqual([]);
  return stage;
}

// ─── Wiring and parse ──────────────────────────────────────────────────────────────────────────────

describe('hospital reconciler: wiring and parse', () => {
  it('reads the hospital-month topic; writes reconciliation results', () => {
    expect(hospitalReconciler.name).toBe('hospital-reconciler');
    expect(hospitalReconciler.input).toBe(TOPICS.hospitalMonth);
    expect(hospitalReconciler.deadLetters).toBe(TOPICS.hospitalReconcilerDeadLetters);
    expect(hospitalReconciler.outputs).toEqual([TOPICS.reconciliation]);
    expect(hospitalReconciler.state?.kinds).toEqual([HOSPITAL_MONTH_ITEM, COUNTERS]);
  });

  const parse = (value: HospitalMonthChange) => {
    const result = hospitalReconciler.parse(
      { record: 'hospital-month-change', value, schemaId: 1 },
      {} as never,
    );
    return result.ok ? 'accepted' : `${result.error.code} ${result.error.field}`;
  };

  it('accepts a claim change and a payment change as they are', () => {
    expect(parse(S1)).toBe('accepted');
    expect(parse(avroSamples['hospital-month-change'])).toBe('accepted');
    const read = (value: HospitalMonthChange) =>
      hospitalReconciler.parse({ record: 'hospital-month-change', value, schemaId: 1 }, {} as never);
    expect(read(S1)).toEqual({ ok: true, value: S1 });
    expect(read(avroSamples['hospital-month-change'])).toEqual({
      ok: true,
      value: avroSamples['hospital-month-change'],
    });
  });

  it.each([
    ['a month that is not YYYY-MM', { ...S1, month: '2025-3' }, 'MONTH_FORMAT month'],
    ['a claim change without its claim', { ...S1, claimId: null }, 'CHANGE_INCOMPLETE claimId'],
    ['a claim change without what it claims', { ...S1, claimedAmount: null }, 'CHANGE_INCOMPLETE claimId'],
    [
      'a payment without what was paid',
      { ...payment('P1', '1.00', ['S1'], '2025-04-15'), paidAmount: null },
      'CHANGE_INCOMPLETE paidAmount',
    ],
  ])('refuses %s', (_case, change, expected) => {
    expect(parse(change)).toBe(expected);
  });

  it('refuses a record that is not a hospital-month change', () => {
    const result = hospitalReconciler.parse(
      { record: 'ledger-posting', value: avroSamples['ledger-posting'], schemaId: 1 },
      {} as never,
    );
    expect(result.ok ? null : result.error).toMatchObject({ code: 'UNEXPECTED_RECORD', field: 'value' });
  });
});

// ─── Statuses ──────────────────────────────────────────────────────────────────────────────────────

describe('hospital reconciler: a hospital-month (Dehong art. 15)', () => {
  it('OPEN while a claim waits for its member-year’s cover: what is due is not yet known', () => {
    const results = given().apply(claim('S1', { claimed: '9000.00', due: null, on: '2025-03-03' }));

    const month = only(results, MARCH);
    expect(brief(month)).toEqual({ status: 'OPEN', expected: '0.00', actual: '0.00', difference: '0.00' });
    expect(month.reason).toBe(
      "HOSPITAL_MONTH_COVER_PENDING: 1 claim(s) claiming 9000.00 wait for their member-year's cover, so what is due for 2025-03 is not yet known; due so far 0.00, insurer paid 0.00 (monthly settlement, Dehong art. 15)",
    );
    expect(month).toMatchObject({
      kind: 'HOSPITAL_MONTH',
      period: '2025-03',
      hospitalCode: HOSPITAL,
      memberPseudonym: null,
      claimId: null,
    });
  });

  it('OPEN, due summed, until the insurer settles the month', () => {
    const results = given(S1).apply(S2);

    const month = only(results, MARCH);
    expect(brief(month)).toEqual({
      status: 'OPEN',
      expected: '1500.00',
      actual: '0.00',
      difference: '-1500.00',
    });
    expect(month.reason).toBe(
      'HOSPITAL_MONTH_AWAITING_PAYMENT: due 1500.00 for 2025-03 (2 settlements, 0 reversals), hospital claimed 1500.00; the insurer has not settled the month yet (monthly settlement, Dehong art. 15)',
    );
  });

  it('MATCHED: the insurer paid what is due, for the settlements the hub has', () => {
    const month = only(given(S1, S2).apply(payment('P1', '1500.00', ['S1', 'S2'], '2025-04-15')), MARCH);

    expect(brief(month)).toEqual({
      status: 'MATCHED',
      expected: '1500.00',
      actual: '1500.00',
      difference: '0.00',
    });
    expect(month.reason).toBe(
      'HOSPITAL_MONTH_MATCHED: insurer paid 1500.00 = due 1500.00 (2 settlements, 0 reversals); hospital claimed 1500.00',
    );
    // 3 March → 15 April: 43 days.
    expect(month).toMatchObject({
      openedAt: chinaMidnight('2025-03-03'),
      updatedAt: chinaMidnight('2025-04-15'),
      ageDays: 43,
      sourceEventId: 'HOSPITAL_MONTH_SETTLED:P1',
    });
  });

  it('SHORT_PAID: a DISCREPANCY naming the shortfall and the claimed total', () => {
    const month = only(given(S1, S2).apply(payment('P1', '1200.00', ['S1', 'S2'], '2025-04-15')), MARCH);

    expect(brief(month)).toEqual({
      status: 'DISCREPANCY',
      expected: '1500.00',
      actual: '1200.00',
      difference: '-300.00',
    });
    expect(month.reason).toBe(
      'HOSPITAL_MONTH_SHORT_PAID: insurer paid 1200.00, due 1500.00 (2 settlements, 0 reversals): short payment 300.00; hospital claimed 1500.00',
    );
  });

  it('OVER_PAID: a hospital over-claim the insurer paid shows up as over-payment', () => {
    const overClaim = claim('S3', { claimed: '1200.00', due: '1080.00', on: '2025-03-05' });

    const month = only(given(overClaim).apply(payment('P1', '1200.00', ['S3'], '2025-04-15')), MARCH);

    expect(brief(month)).toEqual({
      status: 'DISCREPANCY',
      expected: '1080.00',
      actual: '1200.00',
      difference: '120.00',
    });
    expect(month.reason).toBe(
      "HOSPITAL_MONTH_OVER_PAID: insurer paid 1200.00, due 1080.00 (1 settlements, 0 reversals): over-payment 120.00; hospital claimed 1200.00: the insurer paid the hospital's over-claim",
    );
  });

  it('an over-claim the insurer did not pay is matched, and says so', () => {
    const overClaim = claim('S3', { claimed: '1200.00', due: '1080.00', on: '2025-03-05' });

    const month = only(given(overClaim).apply(payment('P1', '1080.00', ['S3'], '2025-04-15')), MARCH);

    expect(month.status).toBe('MATCHED');
    expect(month.reason).toContain("the hospital's over-claim of 120.00 was not paid");
  });

  it('settlements the insurer lists that the hub has not seen are a DISCREPANCY until they arrive', () => {
    // Paid 1 700.00 for S1, S2 and S9; the hub has S1 and S2 (1 500.00 due) and not yet S9 (200.00 due).
    const stage = given(S1, S2);

    const early = only(stage.apply(payment('P1', '1700.00', ['S1', 'S2', 'S9'], '2025-04-15')), MARCH);
    expect(brief(early)).toEqual({
      status: 'DISCREPANCY',
      expected: '1500.00',
      actual: '1700.00',
      difference: '200.00',
    });
    expect(early.reason).toContain('over-payment 200.00');
    expect(early.reason).toContain(
      "the insurer's lists name 1 settlement(s) of H53310200003 in 2025-03 that the hub has not received",
    );

    const settled = only(
      stage.apply(claim('S9', { claimed: '200.00', due: '200.00', on: '2025-03-28' })),
      MARCH,
    );
    expect(brief(settled)).toEqual({
      status: 'MATCHED',
      expected: '1700.00',
      actual: '1700.00',
      difference: '0.00',
    });
  });

  it('paid as due, but listing a settlement the hub has not seen, is still a DISCREPANCY', () => {
    const month = only(
      given(S1, S2).apply(payment('P1', '1500.00', ['S1', 'S2', 'S9'], '2025-04-15')),
      MARCH,
    );

    expect(brief(month)).toEqual({
      status: 'DISCREPANCY',
      expected: '1500.00',
      actual: '1500.00',
      difference: '0.00',
    });
    expect(month.reason).toBe(
      "HOSPITAL_MONTH_UNKNOWN_SETTLEMENTS: insurer paid 1500.00 = due 1500.00 (2 settlements, 0 reversals); the insurer's lists name 1 settlement(s) of H53310200003 in 2025-03 that the hub has not received",
    );
  });

  it('a reversal nets its settlement out of the month', () => {
    const r2 = claim('R2', { reversal: true, claimed: '-500.00', due: '-500.00', on: '2025-03-25' });

    const month = only(given(S1, S2).apply(r2), MARCH);

    expect(brief(month)).toEqual({
      status: 'OPEN',
      expected: '1000.00',
      actual: '0.00',
      difference: '-1000.00',
    });
    expect(month.reason).toContain('(2 settlements, 1 reversals)');
  });

  it('a month whose claims were all reversed, with no payment, is CLOSED: nothing due', () => {
    const r1 = claim('R1', { reversal: true, claimed: '-1000.00', due: '-1000.00', on: '2025-03-06' });

    const month = only(given(S1).apply(r1), MARCH);

    expect(brief(month)).toEqual({ status: 'CLOSED', expected: '0.00', actual: '0.00', difference: '0.00' });
    expect(month.reason).toBe(
      "HOSPITAL_MONTH_NOTHING_DUE: the month's claims were reversed (1 settlements, 1 reversals)",
    );
  });

  it('a settlement that claims and owes nothing opens no item', () => {
    expect(given().apply(claim('S0', { claimed: '0.00', due: '0.00', on: '2025-03-03' }))).toEqual([]);
  });

  it('keeps hospitals and months apart', () => {
    const stage = given(
      S1,
      claim('S5', { claimed: '10.00', due: '10.00', on: '2025-03-04', hospital: OTHER_HOSPITAL }),
      claim('S6', { claimed: '20.00', due: '20.00', on: '2025-04-04', month: '2025-04' }),
    );

    expect(latest(stage.results, MARCH).expected.toFixed(2)).toBe('1000.00');
    expect(
      latest(stage.results, itemIds.hospitalMonth(DEHONG, OTHER_HOSPITAL, '2025-03')).expected.toFixed(2),
    ).toBe('10.00');
    expect(
      latest(stage.results, itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-04')).expected.toFixed(2),
    ).toBe('20.00');
  });
});

// ─── Revisions and copies ──────────────────────────────────────────────────────────────────────────

describe('hospital reconciler: each claim counts at its latest booking, each payment once', () => {
  it('names its item as the latest view, so a chunk publishes each month once (Decided.latest)', () => {
    const store = new ValueStore();
    const first = decideHospitalMonth(S1, store, TOPICS);
    const second = decideHospitalMonth(S2, store, TOPICS);
    if (!first.ok || !second.ok) throw new Error('both changes are accepted');

    expect(first.value.latest).toBe(MARCH);
    expect(second.value.latest).toBe(MARCH);
    // The later view is the whole month: both claims, whatever the earlier one said.
    const [latest] = second.value.outputs();
    expect(latest?.record === 'reconciliation-result' && latest.value.expected.toFixed(2)).toBe('1500.00');
  });

  const held = claim('S1', { claimed: '9000.00', due: null, on: '2025-03-03' });
  const released = claim('S1', { revision: 1, claimed: '9000.00', due: '9000.00', on: '2025-04-01' });

  it('a later revision replaces an earlier one', () => {
    const stage = given(held);

    const month = only(stage.apply(released), MARCH);

    expect(brief(month)).toEqual({
      status: 'OPEN',
      expected: '9000.00',
      actual: '0.00',
      difference: '-9000.00',
    });
    expect(month.reason).toContain(
      'HOSPITAL_MONTH_AWAITING_PAYMENT: due 9000.00 for 2025-03 (1 settlements, 0 reversals)',
    );
  });

  it('an earlier revision arriving after a later one changes nothing', () => {
    const stage = given(released);
    const before = stage.store.hashes.get(`hospital-month:${hospitalMonthId(DEHONG, HOSPITAL, '2025-03')}`);

    expect(stage.apply(held)).toEqual([]);
    expect(stage.store.hashes.get(`hospital-month:${hospitalMonthId(DEHONG, HOSPITAL, '2025-03')}`)).toEqual(
      before,
    );
  });

  it('a copy of the same revision, or of a payment, changes nothing', () => {
    const stage = given(S1, S2, payment('P1', '1500.00', ['S1', 'S2'], '2025-04-15'));
    const counters = counted(stage.counters(DEHONG, 2025));

    expect(stage.apply(S1, S2, payment('P1', '1500.00', ['S1', 'S2'], '2025-04-15'))).toEqual([]);
    expect(counted(stage.counters(DEHONG, 2025))).toEqual(counters);
  });

  it('the counters move with each status change, by kind, status and |actual − expected|', () => {
    const stage = new HospitalStage();
    const seen: Array<Record<string, [number, string]>> = [];
    for (const change of [
      S1,
      S2,
      payment('P1', '1200.00', ['S1', 'S2'], '2025-04-15'),
      payment('P2', '300.00', ['S2'], '2025-05-15'),
    ]) {
      stage.apply(change);
      seen.push(counted(stage.counters(DEHONG, 2025)));
    }

    expect(seen).toEqual([
      { 'HOSPITAL_MONTH:OPEN': [1, '1000.00'] },
      { 'HOSPITAL_MONTH:OPEN': [1, '1500.00'] },
      { 'HOSPITAL_MONTH:DISCREPANCY': [1, '300.00'] },
      { 'HOSPITAL_MONTH:MATCHED': [1, '0.00'] },
    ]);
  });

  it('ends the same whatever order its changes came in (as hospital partitions interleave members)', () => {
    // S1 held then released at 9 000.00; S2 500.00 and its reversal; S3 1 000.00; the insurer pays
    // 9 000.00 + 1 000.00 = 10 000.00 for the four. Due: 9 000.00 + 500.00 − 500.00 + 1 000.00 = 10 000.00.
    const changes = [
      held,
      released,
      claim('S2', { claimed: '500.00', due: '500.00', on: '2025-03-10' }),
      claim('R2', { reversal: true, claimed: '-500.00', due: '-500.00', on: '2025-03-12' }),
      claim('S3', { claimed: '1000.00', due: '1000.00', on: '2025-03-15' }),
      payment('P1', '10000.00', ['S1', 'S2', 'R2', 'S3'], '2025-04-15'),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(changes, { minLength: changes.length }), (order) => {
        // A claim's own bookings come from one member partition, in order; everything else may interleave.
        fc.pre(order.indexOf(held) < order.indexOf(released));
        const stage = given(...order);
        const final = latest(stage.results, MARCH);
        expect(brief(final)).toEqual({
          status: 'MATCHED',
          expected: '10000.00',
          actual: '10000.00',
          difference: '0.00',
        });
        expect(final.openedAt).toEqual(chinaMidnight('2025-03-03'));
        expect(final.updatedAt).toEqual(chinaMidnight('2025-04-15'));
        expect(final.sourceEventId).toBe('HOSPITAL_MONTH_SETTLED:P1');
        expect(counted(stage.counters(DEHONG, 2025))).toEqual({ 'HOSPITAL_MONTH:MATCHED': [1, '0.00'] });
      }),
      { numRuns: 200 },
    );
  });
});

// ─── Codec ─────────────────────────────────────────────────────────────────────────────────────────

describe('hospital reconciler: the hospital-month codec', () => {
  const id = hospitalMonthId(DEHONG, HOSPITAL, '2025-03');

  it('reads back what it writes', () => {
    const stage = given(S1, S2, payment('P1', '1700.00', ['S1', 'S2', 'S9'], '2025-04-15'));
    const item = stage.store.get(HOSPITAL_MONTH_ITEM, id);

    expect(item.totals.listedNotSeen).toBe(1);
    expect(HOSPITAL_MONTH_ITEM.decode(HOSPITAL_MONTH_ITEM.encode(item), id)).toEqual(item);
  });

  // What a chunk writes is found from the values (changes), not from encoding the month's every claim:
  // it must be exactly the difference of the two encodings, for any run of changes a chunk may hold.
  it('changes between two values are exactly the difference of their encodings', () => {
    const ids = ['S1', 'S2', 'S3', 'S4', 'S5'];
    const step = fc.oneof(
      fc.record({
        id: fc.constantFrom(...ids),
        held: fc.boolean(),
        reversal: fc.boolean(),
        cents: fc.integer({ min: -50_000, max: 900_000 }),
        day: fc.integer({ min: 1, max: 28 }),
      }),
      fc.record({
        payment: fc.constantFrom('P1', 'P2'),
        cents: fc.integer({ min: 0, max: 900_000 }),
        listed: fc.subarray([...ids, 'S9']),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        // Values kept as the runner keeps them in memory (no trip through the codec between changes).
        const store = new ValueStore();
        const apply = (change: HospitalMonthChange) => decideHospitalMonth(change, store, TOPICS);
        const revisions = new Map<string, number>();
        const values = [store.get(HOSPITAL_MONTH_ITEM, id)];
        for (const s of steps) {
          const day = `2025-03-${String('day' in s ? s.day : 28).padStart(2, '0')}`;
          const amount = (s.cents / 100).toFixed(2);
          if ('payment' in s) {
            apply(payment(s.payment, amount, s.listed, '2025-04-15'));
          } else {
            const revision = (revisions.get(s.id) ?? -1) + 1;
            revisions.set(s.id, revision);
            apply(
              claim(s.id, {
                revision,
                held: s.held,
                reversal: s.reversal,
                claimed: amount,
                due: s.held ? null : amount,
                on: day,
              }),
            );
          }
          values.push(store.get(HOSPITAL_MONTH_ITEM, id));
        }
        expectExactChanges(HOSPITAL_MONTH_ITEM, values);
      }),
      { numRuns: 200 },
    );
  });

  it('a claim no longer in the month is deleted (a value built by hand: decide only adds or replaces)', () => {
    const item = given(S1, S2).store.get(HOSPITAL_MONTH_ITEM, id);
    const without = { ...item, claims: item.claims.delete('S2') };
    const changes = HOSPITAL_MONTH_ITEM.changes?.(item, without);
    expect(changes).toEqual({ set: [], del: ['c:S2'] });
    expect(fieldDifference(HOSPITAL_MONTH_ITEM.encode(item), HOSPITAL_MONTH_ITEM.encode(without))).toEqual({
      set: [],
      del: ['c:S2'],
    });
  });

  it.each([
    ['a missing header', {}],
    ['a header that is null', { h: 'null' }],
    ['totals of the wrong shape', { h: JSON.stringify([2025, ['1.00'], null, null, null, false]) }],
    [
      'a claim amount that is not money',
      {
        h: JSON.stringify([2025, ['0.00', '0.00', '0.00', 0, 0, 0, '0.00', 0], null, null, null, true]),
        'c:S1': '[0,false,false,"lots","1.00"]',
      },
    ],
  ])('refuses %s as corrupt state', (_case, fields) => {
    expect(() => HOSPITAL_MONTH_ITEM.decode(fields, id)).toThrow(CorruptStateError);
  });
});

// ─── Fed by accounting and the member stage ────────────────────────────────────────────────────────

describe('hospital reconciler: the issue’s case, from journal to hospital-month', () => {
  it('OPEN while the settlement is held, awaiting payment once the premium releases it, MATCHED when the insurer pays', () => {
    // Dehong: settled 10 February 2025, 9 000.00 claimed and (once covered) due; premium paid 1 March;
    // the insurer pays the February month 9 000.00 on 15 March, listing the settlement.
    const books = new Books();
    const s1 = settlement('S1', 1, { basic: '150000.00', overCap: '10000.00', claimed: '9000.00' });
    books.apply(
      s1,
      premium(1, { eventId: 'TAX-1', paidOn: '2025-03-01' }),
      hospitalPayout('P1', '9000.00', ['S1']),
    );
    const members = new MemberStage();
    members.apply(...books.postings);
    const hospitals = new HospitalStage();
    const february = itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-02');

    const statuses = members.changes.map((change) => {
      const results = hospitals.apply(change);
      return [change.changeId, only(results, february).status];
    });

    expect(statuses).toEqual([
      ['SETTLEMENT_HELD:S1', 'OPEN'],
      ['SETTLEMENT_RELEASED:S1:1', 'OPEN'],
      ['HOSPITAL_MONTH_SETTLED:P1', 'MATCHED'],
    ]);
    expect(latest(hospitals.results, february).reason).toBe(
      'HOSPITAL_MONTH_MATCHED: insurer paid 9000.00 = due 9000.00 (1 settlements, 0 reversals); hospital claimed 9000.00',
    );
    expect(hospitals.results.map((r) => r.reason?.split(':')[0])).toEqual([
      'HOSPITAL_MONTH_COVER_PENDING',
      'HOSPITAL_MONTH_AWAITING_PAYMENT',
      'HOSPITAL_MONTH_MATCHED',
    ]);
  });

  it('not covered: the hospital is owed its claim by the fund only as policy allows, nothing here', () => {
    // Held, then the notice (no premium): due 0.00; the insurer paid the 9 000.00 claimed: over-payment.
    const books = new Books();
    const s1 = settlement('S1', 2, { basic: '150000.00', overCap: '10000.00', claimed: '9000.00' });
    books.apply(
      s1,
      notice({ issuedOn: '2025-04-21' }),
      hospitalPayout('P1', '9000.00', ['S1'], { paidOn: '2025-04-25' }),
    );
    const members = new MemberStage();
    members.apply(...books.postings);
    const hospitals = new HospitalStage();
    hospitals.apply(...members.changes);

    const february = latest(hospitals.results, itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-02'));
    expect(brief(february)).toEqual({
      status: 'DISCREPANCY',
      expected: '0.00',
      actual: '9000.00',
      difference: '9000.00',
    });
    expect(february.reason).toContain('over-payment 9000.00');
  });

  it('a reversal of a held settlement nets out of the month once both are released', () => {
    const books = new Books();
    const s1 = settlement('S1', 3, { basic: '150000.00', overCap: '10000.00', claimed: '9000.00' });
    books.apply(s1, reversal('R1', s1), premium(3, { eventId: 'TAX-3', paidOn: '2025-03-01' }));
    const members = new MemberStage();
    members.apply(...books.postings);
    const hospitals = new HospitalStage();
    hospitals.apply(...members.changes);

    const february = latest(hospitals.results, itemIds.hospitalMonth(DEHONG, HOSPITAL, '2025-02'));
    expect(brief(february)).toEqual({
      status: 'CLOSED',
      expected: '0.00',
      actual: '0.00',
      difference: '0.00',
    });
  });
});
