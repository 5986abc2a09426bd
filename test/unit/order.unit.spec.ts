import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateYear, isRawEvent } from '../../deploy/simulate/generate.js';
import { TEST_ONLY_PSEUDONYM_KEY } from '../../shared/identity.js';
import { Decimal, formatMoney } from '../../shared/money.js';
import { addDays, type LocalDate } from '../../shared/policy/dates.js';
import { DEFAULT_TOPICS as TOPICS } from '../support/config.js';
import {
  balancesOf,
  type IngestOrder,
  type InputEvent,
  openStatuses,
  runMemoryHub,
} from '../support/memory-hub.js';
import {
  DEHONG,
  HOSPITAL,
  manualClaim,
  memberId,
  monthlySettlement,
  premium,
  premiumCorrection,
  reversal,
  settlement,
} from '../support/streams.js';

// Order is an input: the three input topics come from different agencies and are consumed by different
// services, so the hub sees them in any interleaving that keeps each source's own order. Whatever the
// interleaving, the ledger's balances, the items left open and the disclosure totals must be the same.

type Source = 'tax' | 'hospital' | 'insurer';
const day = (from: string, to: string) =>
  fc
    .integer({ min: 0, max: Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000) })
    .map((n) => addDays(from as LocalDate, n));

const payment = fc.record({
  amount: fc.constantFrom('180.00', '90.00', '100.00'),
  paidOn: day('2025-01-01', '2025-06-30'),
});

const care = fc.record({
  on: day('2025-01-02', '2025-11-30'),
  basic: fc.constantFrom('0.00', '30000.00', '80000.00', '150000.00'),
  overCap: fc.constantFrom('0.00', '2000.00', '10000.00'),
  claimedShare: fc.constantFrom(0, 0.85, 0.9, 1),
  place: fc.constantFrom('home', 'referred', 'not-referred'),
  reversed: fc.boolean(),
});

const memberFacts = fc.record({
  payments: fc.array(payment, { maxLength: 3 }),
  correction: fc.option(fc.record({ index: fc.nat(), amount: fc.constantFrom('0.00', '180.00', '90.00') })),
  notice: fc.boolean(),
  noticeAt: fc.nat(),
  settlements: fc.array(care, { maxLength: 5 }),
  manual: fc.array(care, { maxLength: 2 }),
});

type MemberFacts = typeof memberFacts extends fc.Arbitrary<infer T> ? T : never;

/** One member's facts as the three agencies publish them, each source in its own (time) order. */
function sourcesOf(n: number, facts: MemberFacts): Record<Source, InputEvent[]> {
  const key = memberId(n);
  const tax: InputEvent[] = [];
  const paid = [...facts.payments].sort((a, b) => (a.paidOn < b.paidOn ? -1 : 1));
  paid.forEach((p, i) => {
    const value = premium(n, { eventId: `TAX-${n}-${i}`, amount: new Decimal(p.amount), paidOn: p.paidOn });
    tax.push({ topic: TOPICS.taxPremium, key, record: 'premium-collected', value });
    const c = facts.correction;
    if (c && c.index % Math.max(1, paid.length) === i && c.amount !== p.amount) {
      const correction = premiumCorrection(n, {
        eventId: `TAXC-${n}-${i}`,
        originalEventId: `TAX-${n}-${i}`,
        originalAmount: new Decimal(p.amount),
        correctedAmount: new Decimal(c.amount),
        correctedOn: addDays(p.paidOn, 5),
      });
      tax.push({ topic: TOPICS.taxPremium, key, record: 'premium-correction', value: correction });
    }
  });
  // The end-of-collection notice may even come before a collection of the window (a tax authority late with it).
  if (facts.notice && n === 1) {
    const notice = {
      noticeId: 'TAXN-533100-2025',
      regionCode: DEHONG,
      coverYear: 2025,
      issuedOn: '2025-04-21',
      publishedCount: null,
    };
    tax.splice(facts.noticeAt % (tax.length + 1), 0, {
      topic: TOPICS.taxPremium,
      key: DEHONG,
      record: 'premium-collection-closed',
      value: notice,
    });
  }

  const hospital: Array<{ at: number; event: InputEvent }> = [];
  const listed = new Map<string, { ids: string[]; claimed: Decimal }>();
  facts.settlements.forEach((s, i) => {
    const id = `S${n}-${i}`;
    const overCap = new Decimal(s.overCap);
    const settledAt = new Date(`${s.on}T06:00:00.000Z`);
    const value = settlement(
      id,
      n,
      { basic: s.basic, overCap: s.overCap, claimed: overCap.times(s.claimedShare).toFixed(2) },
      { serviceDate: s.on, settledAt, ...placeOf(s.place) },
    );
    hospital.push({
      at: settledAt.getTime(),
      event: { topic: TOPICS.hospitalSettlement, key, record: 'hospital-settlement', value },
    });
    const month = s.on.slice(0, 7);
    const list = listed.get(month) ?? { ids: [], claimed: new Decimal(0) };
    list.ids.push(id);
    list.claimed = list.claimed.plus(value.supplementClaimed);
    listed.set(month, list);
    if (s.reversed) {
      const back = {
        ...reversal(`R${n}-${i}`, value),
        reversedAt: new Date(settledAt.getTime() + 2 * 86_400_000),
      };
      hospital.push({
        at: back.reversedAt.getTime(),
        event: { topic: TOPICS.hospitalSettlement, key, record: 'hospital-settlement-reversal', value: back },
      });
      list.ids.push(back.settlementId);
      list.claimed = list.claimed.plus(back.supplementClaimed);
    }
  });
  hospital.sort((a, b) => a.at - b.at);

  const insurer: InputEvent[] = [];
  facts.manual.forEach((m, i) => {
    const overCap = new Decimal(m.overCap);
    const basic = new Decimal(m.basic);
    const value = manualClaim(`CLM-${n}-${i}`, n, {
      serviceDate: m.on,
      receivedOn: addDays(m.on, 5),
      paidOn: addDays(m.on, 12),
      inScopeAmount: basic.plus(overCap),
      totalMedicalCost: basic.plus(overCap).plus(1000),
      basicFundPaid: basic,
      overBasicCapAmount: overCap,
      amountPaid: overCap.times(m.claimedShare).plus('0.01'),
      referral: m.place === 'not-referred' ? 'NOT_REFERRED' : 'REFERRED',
    });
    insurer.push({ topic: TOPICS.insurerPayout, key, record: 'manual-reimbursement', value });
  });
  for (const [month, list] of listed) {
    if (list.claimed.isZero()) continue;
    const value = monthlySettlement(`INS-${n}-${month}`, list.ids, list.claimed.toFixed(2), {
      month,
      paidOn: addDays(`${month}-28` as LocalDate, 10),
    });
    insurer.push({ topic: TOPICS.insurerPayout, key: HOSPITAL, record: 'insurer-monthly-settlement', value });
  }
  return { tax, hospital: hospital.map((h) => h.event), insurer };
}

function placeOf(place: string) {
  if (place === 'home') return { outOfArea: false, referral: 'NOT_APPLICABLE' as const };
  // Out of the prefecture: a designated institution elsewhere (H + 11 digits).
  return {
    outOfArea: true,
    referral: place === 'referred' ? ('REFERRED' as const) : ('NOT_REFERRED' as const),
    hospitalCode: 'H53010200007',
  };
}

/** Merges the sources in the order the picks give, each source keeping its own order. */
function interleave(sources: Record<Source, InputEvent[]>, picks: readonly number[]): InputEvent[] {
  const queues: InputEvent[][] = [[...sources.tax], [...sources.hospital], [...sources.insurer]];
  const out: InputEvent[] = [];
  let i = 0;
  while (queues.some((q) => q.length > 0)) {
    const live = queues.filter((q) => q.length > 0);
    const queue = live[(picks[i++] ?? 0) % live.length] as InputEvent[];
    out.push(queue.shift() as InputEvent);
  }
  return out;
}

function books(events: readonly InputEvent[]) {
  const run = runMemoryHub(events, 'publication');
  const year = run.totals(DEHONG, '2025');
  return {
    balances: balancesOf(run.ledger),
    open: openStatuses(run.results),
    deadLetters: run.deadLetters.map((d) => `${d.service}:${d.code}:${d.field}`).sort(),
    disclosure: {
      premiumIncome: formatMoney(year.premiumIncome),
      claimsPaidDirect: formatMoney(year.claimsPaidDirect),
      claimsPaidManual: formatMoney(year.claimsPaidManual),
      visits: year.visits,
      beneficiaries: year.beneficiaries,
      insured: year.insured,
    },
  };
}

describe('one order per member: the books do not depend on the order the sources were consumed in', () => {
  it('property: for random facts of two members, every interleaving keeping each source’s order gives the same books', () => {
    fc.assert(
      fc.property(
        memberFacts,
        memberFacts,
        fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
        (a, b, picks) => {
          const one = sourcesOf(1, a);
          const two = sourcesOf(2, b);
          const sources: Record<Source, InputEvent[]> = {
            tax: [...one.tax, ...two.tax],
            hospital: [...one.hospital, ...two.hospital],
            insurer: [...one.insurer, ...two.insurer],
          };
          // Reference order: every premium first, then the hospitals, then the insurer.
          const reference = books([...sources.tax, ...sources.hospital, ...sources.insurer]);
          const premiumsLast = books([...sources.hospital, ...sources.insurer, ...sources.tax]);
          const interleaved = books(interleave(sources, picks));
          expect(premiumsLast).toEqual(reference);
          expect(interleaved).toEqual(reference);
        },
      ),
      { numRuns: 150, seed: 20261201 },
    );
  }, 120_000);
});

describe.each(['533100', '410200'])('a simulated year of region %s in four processing orders', (region) => {
  const { events } = generateYear({
    region,
    year: 2025,
    members: 120,
    seed: 11,
    pseudonymKey: TEST_ONLY_PSEUDONYM_KEY,
    topics: TOPICS,
  });
  const inputs: InputEvent[] = events.map((e) =>
    isRawEvent(e)
      ? { topic: e.topic, key: e.key, bytes: e.bytes }
      : { topic: e.topic, key: e.key, record: e.record, value: e.value },
  );
  const orders: IngestOrder[] = ['publication', 'premiums-first', 'premiums-last', 'random'];
  const runs = orders.map((order) => runMemoryHub(inputs, order, 5));
  const figures = (run: (typeof runs)[number]) =>
    ['2025', '2025-Q1', '2025-02', '2025-06', '2025-12'].map((label) => {
      const t = run.totals(region, label);
      return [
        label,
        formatMoney(t.premiumIncome),
        formatMoney(t.claimsPaidDirect),
        formatMoney(t.claimsPaidManual),
        formatMoney(t.operatingCost),
        t.visits,
        t.beneficiaries,
        t.insured,
      ];
    });

  it.each(orders.slice(1))(
    '%s gives the balances, open items and disclosure totals of publication order',
    (order) => {
      const run = runs[orders.indexOf(order)] as (typeof runs)[number];
      const reference = runs[0] as (typeof runs)[number];
      expect(balancesOf(run.ledger)).toEqual(balancesOf(reference.ledger));
      expect(openStatuses(run.results)).toEqual(openStatuses(reference.results));
      expect(figures(run)).toEqual(figures(reference));
      expect(run.deadLetters.map((d) => `${d.service}:${d.code}`).sort()).toEqual(
        reference.deadLetters.map((d) => `${d.service}:${d.code}`).sort(),
      );
    },
  );

  it('holds claims in the orders where premiums come late, and none remain held at the end', () => {
    const last = runs[orders.indexOf('premiums-last')] as (typeof runs)[number];
    expect(last.ledger.filter((p) => p.kind === 'SETTLEMENT_HELD').length).toBeGreaterThan(50);
    for (const run of runs)
      expect(balancesOf(run.ledger)[`${region}/2025/COVER_PENDING_SUSPENSE`]).toBeUndefined();
  });
});
