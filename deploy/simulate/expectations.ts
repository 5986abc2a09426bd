/**
 * The ground truth of a simulated year, computed from the generator's own records: what was published,
 * which ledger postings and dead letters the ingest services must produce, and the state every
 * reconciliation item must reach (the reconciler's rules, services/reconciler/README.md).
 */
import { Decimal, formatMoney } from '../../shared/money.js';
import type { PostingKind, ReconciliationStatus } from '../../shared/records.js';
import type { GenerateOptions } from './generate.js';
import {
  type ClaimRec,
  type Context,
  type CostRec,
  type Draft,
  type MemberStory,
  money,
  monthOf,
  type PayoutRec,
  type SettlementRec,
} from './model.js';
import type { Hospital, Member } from './population.js';
import {
  type EventRef,
  type ExpectedDeadLetter,
  type ExpectedItem,
  type FaultKind,
  type GroundTruth,
  type HospitalMonthTruth,
  type InjectedFault,
  type ManualClaimTruth,
  TRUTH_FORMAT,
} from './truth.js';

export interface TruthInput {
  readonly ctx: Context;
  readonly options: GenerateOptions;
  readonly drafts: readonly Draft[];
  readonly stories: readonly MemberStory[];
  readonly settlements: readonly SettlementRec[];
  readonly claims: readonly ClaimRec[];
  readonly payouts: readonly PayoutRec[];
  readonly costs: readonly CostRec[];
  readonly hospitals: readonly Hospital[];
  readonly premiumIncomeFen: number;
  readonly reachedCap: ReadonlySet<Member>;
}

const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  HOSPITAL_OVER_CLAIM:
    'one hospital claims five points of over-cap cost too many on some settlements; the insurer pays the claim, so its hospital-months are over-paid',
  INSURER_SHORT_PAYMENT:
    'the insurer pays one hospital-month less than the hospital claimed (and the fund owes)',
  LATE_MANUAL_CLAIM:
    'one manual claim paid after the working-day service level, one paid after the 31 March deadline',
  PARTIAL_PREMIUM:
    'a member pays only part of the premium in the window, is not covered, then has settlements claiming the supplement',
  LATE_PREMIUM:
    'a member pays the premium in full after the window closed, is not covered, then has settlements claiming the supplement',
  SETTLEMENT_BEFORE_PREMIUM:
    "a member's cap-crossing settlement is published before the member's premium: the hub holds it (the member-year opens), then releases it by policy when the premium arrives (it closes)",
  DUPLICATES: 'a few events are published twice; the second copy is a dead letter',
  BAD_RECORDS:
    'bytes that are not Avro, a national ID with a wrong check character, a negative amount, an unknown hospital (refused by the ingest services), a reversal of an unknown settlement (refused by accounting)',
};

export function groundTruth(input: TruthInput): GroundTruth {
  const { ctx, options, drafts, stories, settlements, claims } = input;
  const refs = drafts.map(
    (d, index): EventRef => ({ index, topic: d.event.topic.name, kind: d.kind, id: d.id }),
  );
  const outcomes = outcomesOf(drafts, refs);
  const { deadLetters, postings } = outcomes;
  const hospitalMonths = hospitalMonthTruth(ctx, settlements, input.payouts);
  const manualClaims = claims.map((c) => manualClaimTruth(ctx, c));
  const memberYears = memberYearTruth(ctx, stories, settlements);
  const reconciliation = { hospitalMonths, manualClaims, memberYears };
  return {
    format: TRUTH_FORMAT,
    region: ctx.region,
    regionName: ctx.params.region.name.en,
    year: ctx.year,
    members: options.members,
    seed: options.seed,
    policy: policyTruth(ctx),
    faults: { enabled: [...ctx.faults], injected: injectedFaults(input, refs, deadLetters, reconciliation) },
    counts: {
      published: { total: drafts.length, by: outcomes.byKind, byTopic: outcomes.byTopic },
      notices: outcomes.notices,
      ledgerPostings: { total: sum(Object.values(postings)), by: postings },
      deadLetters: { total: deadLetters.length, by: outcomes.byCode, byService: outcomes.byService },
    },
    deadLetters,
    reconciliation,
    totals: totalsOf(input),
    distribution: distributionOf(input),
    premiumsOutsideWindow: stories
      .flatMap((s) => s.payments)
      .filter((p) => p.why !== null)
      .map((p) => ({ eventId: p.eventId, paidOn: p.paidOn, why: p.why as 'LATE_PREMIUM' | 'NEW_ENROLEE' })),
  };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** What each published event must lead to, counted: postings, end-of-collection notices, dead letters. */
function outcomesOf(drafts: readonly Draft[], refs: readonly EventRef[]) {
  const deadLetters: ExpectedDeadLetter[] = [];
  const postings: Partial<Record<PostingKind, number>> = {};
  const byKind: Record<string, number> = {};
  const byTopic: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  const byService: Record<string, number> = {};
  let notices = 0;
  drafts.forEach((d, index) => {
    const ref = refs[index] as EventRef;
    byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
    byTopic[ref.topic] = (byTopic[ref.topic] ?? 0) + 1;
    if ('posting' in d.outcome) {
      postings[d.outcome.posting] = (postings[d.outcome.posting] ?? 0) + 1;
    } else if ('notice' in d.outcome) {
      notices += 1;
    } else {
      const service = d.outcome.deadLetter.service;
      deadLetters.push({
        ...ref,
        service,
        errorCode: d.outcome.deadLetter.code,
        field: d.outcome.deadLetter.field,
      });
      byCode[d.outcome.deadLetter.code] = (byCode[d.outcome.deadLetter.code] ?? 0) + 1;
      byService[service] = (byService[service] ?? 0) + 1;
    }
  });
  return { deadLetters, postings, byKind, byTopic, byCode, byService, notices };
}

function manualClaimTruth(ctx: Context, c: ClaimRec): ManualClaimTruth {
  const problems = !c.sla.withinSla || !c.sla.withinDeadline;
  return {
    itemId: `MANUAL_CLAIM:${ctx.region}:${c.id}`,
    claimId: c.id,
    memberPseudonym: c.story.member.pseudonym,
    serviceDate: c.plan.serviceDate,
    receivedOn: c.plan.receivedOn,
    paidOn: c.plan.paidOn,
    workingDays: c.sla.workingDays,
    withinSla: c.sla.withinSla,
    deadline: c.sla.deadline,
    withinDeadline: c.sla.withinDeadline,
    outOfArea: true,
    referral: c.plan.referral,
    due: money(c.dueFen),
    paid: money(c.dueFen),
    status: problems ? 'DISCREPANCY' : 'MATCHED',
  };
}

/** Each fault turned on and injected: its events, and the items and dead letters it must show up as. */
function injectedFaults(
  input: TruthInput,
  refs: readonly EventRef[],
  deadLetters: readonly ExpectedDeadLetter[],
  reconciliation: GroundTruth['reconciliation'],
): InjectedFault[] {
  const { ctx, drafts, stories, settlements, claims, payouts } = input;
  const { hospitalMonths, manualClaims, memberYears } = reconciliation;
  const injected: InjectedFault[] = [];
  for (const kind of [...ctx.faults]) {
    const events = refs.filter((_, i) => (drafts[i] as Draft).tags.includes(kind));
    if (events.length === 0) continue;
    const monthIds = new Set<string>();
    for (const s of settlements) {
      if (s.tags.includes(kind) && s.claimedFen !== s.dueFen) monthIds.add(hospitalMonthId(ctx, s));
    }
    for (const p of payouts)
      if (p.tags.includes(kind)) monthIds.add(`HOSPITAL_MONTH:${ctx.region}:${p.hospital.code}:${p.month}`);
    const items: ExpectedItem[] = [
      ...hospitalMonths.filter((m) => monthIds.has(m.itemId)).map(hospitalMonthItem),
      ...manualClaims
        .filter(
          (m) =>
            claims.some((c) => c.id === m.claimId && c.tags.includes(kind)) && m.status === 'DISCREPANCY',
        )
        .map(manualClaimItem),
      ...memberYears.filter((m) =>
        stories.some((s) => s.tags.includes(kind) && m.itemId.includes(s.member.pseudonym)),
      ),
    ];
    injected.push({
      kind,
      description: FAULT_DESCRIPTIONS[kind],
      events,
      reconciliation: items,
      deadLetters: deadLetters.filter((dl) => (drafts[dl.index] as Draft).tags.includes(kind)),
    });
  }
  return injected;
}

function policyTruth(ctx: Context): GroundTruth['policy'] {
  const params = ctx.params;
  return {
    premiumDue: formatMoney(params.premiumDue),
    premiumWindow: { opensOn: ctx.window.opensOn, closesOn: ctx.window.closesOn },
    basicFundCap: formatMoney(params.basicFundCap),
    supplementRatio: params.supplementRatio.toFixed(2),
    referralPenalty: params.referralPenalty.toFixed(2),
    supplementCap: params.supplementCap === null ? null : formatMoney(params.supplementCap),
    manualClaimWorkingDays: params.manualClaim.workingDays,
    manualClaimDeadline: `${ctx.year + params.manualClaim.deadlineYearOffset}-${params.manualClaim.deadlineMonthDay}`,
  };
}

function totalsOf(input: TruthInput): GroundTruth['totals'] {
  const { settlements, payouts, claims, costs } = input;
  const operatingCostFen = costs.reduce((total, c) => total + c.amountFen, 0);
  return {
    premiumIncome: money(input.premiumIncomeFen),
    directSupplementDue: money(sum(settlements.map((s) => s.dueFen))),
    directSupplementClaimed: money(sum(settlements.map((s) => s.claimedFen))),
    insurerPaidHospitals: money(sum(payouts.map((p) => p.amountFen))),
    manualClaimsPaid: money(sum(claims.map((c) => c.dueFen))),
    operatingCost: money(operatingCostFen),
    operatingCostRatio:
      input.premiumIncomeFen === 0 ? '0.0000' : (operatingCostFen / input.premiumIncomeFen).toFixed(4),
  };
}

/** How the year's settlements and claims spread over hospitals and members. */
function distributionOf(input: TruthInput): GroundTruth['distribution'] {
  const { settlements, claims, stories } = input;
  const settlementsOnly = settlements.filter((s) => s.kind === 'settlement');
  const overCapByMember = new Map<Member, number>();
  for (const s of settlementsOnly) {
    if (s.overCapFen > 0) overCapByMember.set(s.story.member, (overCapByMember.get(s.story.member) ?? 0) + 1);
  }
  return {
    hospitals: input.hospitals.map((h) => ({
      code: h.code,
      tier: h.tier,
      settlements: settlementsOnly.filter((s) => s.hospital === h).length,
    })),
    membersWithSettlements: new Set(settlementsOnly.map((s) => s.story.member)).size,
    membersWithManualClaims: new Set(claims.map((c) => c.story.member)).size,
    membersReachingBasicCap: input.reachedCap.size,
    maxOverCapSettlementsOfOneMember: Math.max(0, ...overCapByMember.values()),
    twoPartPremiums: stories.filter((s) => s.role === 'normal' && s.member.parts.length > 1).length,
    settlements: settlementsOnly.length,
    reversals: settlements.length - settlementsOnly.length,
    manualClaims: claims.length,
    manualClaimsOutOfArea: {
      referred: claims.filter((c) => c.plan.referral === 'REFERRED').length,
      notReferred: claims.filter((c) => c.plan.referral === 'NOT_REFERRED').length,
    },
  };
}

const hospitalMonthId = (ctx: Context, s: SettlementRec): string =>
  `HOSPITAL_MONTH:${ctx.region}:${s.hospital.code}:${monthOf(s.serviceDate)}`;

/**
 * The reconciler's hospital-month items: opened by any settlement or reversal with a supplement claimed
 * or due, OPEN until the insurer pays, then MATCHED when paid = Σ due, else DISCREPANCY.
 */
function hospitalMonthTruth(
  ctx: Context,
  settlements: readonly SettlementRec[],
  payouts: readonly PayoutRec[],
): HospitalMonthTruth[] {
  const items = new Map<string, { list: SettlementRec[]; payout: PayoutRec | null }>();
  for (const s of settlements) {
    if (s.claimedFen === 0 && s.dueFen === 0) continue;
    const id = hospitalMonthId(ctx, s);
    const item = items.get(id) ?? { list: [], payout: null };
    item.list.push(s);
    items.set(id, item);
  }
  for (const p of payouts) {
    const id = `HOSPITAL_MONTH:${ctx.region}:${p.hospital.code}:${p.month}`;
    const item = items.get(id);
    if (item === undefined) throw new Error(`simulate: payout ${p.id} for a month without claims`);
    item.payout = p;
  }
  return [...items]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([itemId, { list, payout }]): HospitalMonthTruth => {
      const first = list[0] as SettlementRec;
      const dueFen = list.reduce((sum, s) => sum + s.dueFen, 0);
      const paidFen = payout?.amountFen ?? 0;
      const status: ReconciliationStatus =
        payout === null ? 'OPEN' : paidFen === dueFen ? 'MATCHED' : 'DISCREPANCY';
      return {
        itemId,
        hospitalCode: first.hospital.code,
        month: monthOf(first.serviceDate),
        settlements: list.filter((s) => s.kind === 'settlement').length,
        reversals: list.filter((s) => s.kind === 'reversal').length,
        due: money(dueFen),
        claimed: money(list.reduce((sum, s) => sum + s.claimedFen, 0)),
        paid: money(paidFen),
        payoutId: payout?.id ?? null,
        status,
      };
    });
}

function hospitalMonthItem(m: HospitalMonthTruth): ExpectedItem {
  const difference = new Decimal(m.paid).minus(m.due);
  return {
    itemId: m.itemId,
    kind: 'HOSPITAL_MONTH',
    status: m.status,
    transitions: m.payoutId === null ? ['OPEN'] : ['OPEN', m.status],
    expected: m.due,
    actual: m.paid,
    difference: formatMoney(difference),
    why: difference.isPositive()
      ? `insurer paid ${m.paid}, due ${m.due}: over-paid (hospital claimed ${m.claimed})`
      : `insurer paid ${m.paid}, due ${m.due}: short-paid (hospital claimed ${m.claimed})`,
  };
}

function manualClaimItem(m: ManualClaimTruth): ExpectedItem {
  const why = [
    ...(m.withinSla ? [] : [`SLA_BREACHED: ${m.workingDays} working days after receipt`]),
    ...(m.withinDeadline ? [] : [`PAST_DEADLINE: paid ${m.paidOn}, deadline ${m.deadline}`]),
  ];
  return {
    itemId: m.itemId,
    kind: 'MANUAL_CLAIM',
    status: m.status,
    transitions: [m.status],
    expected: m.due,
    actual: m.paid,
    difference: '0.00',
    why: why.join('; '),
  };
}

/**
 * Member-years of the premium faults. A member not covered (partial or late premium) has every claim
 * decided with nothing due: a DISCREPANCY, in any order. A settlement published before its premium is held
 * (the item opens) and released by policy when the premium arrives (it closes); in an order where the
 * premium comes first there is nothing to hold, and no item.
 */
function memberYearTruth(
  ctx: Context,
  stories: readonly MemberStory[],
  settlements: readonly SettlementRec[],
): ExpectedItem[] {
  const items: ExpectedItem[] = [];
  for (const story of stories) {
    if (story.role !== 'partial' && story.role !== 'late' && story.role !== 'before-premium') continue;
    const before = story.role === 'before-premium';
    const counted = settlements.filter(
      (s) =>
        s.story === story &&
        (before ? s.heldFirst : s.coverage !== 'covered') &&
        (s.claimedFen !== 0 || s.dueFen !== 0),
    );
    if (counted.length === 0) continue;
    const dueFen = counted.reduce((sum, s) => sum + s.dueFen, 0);
    const claimedFen = counted.reduce((sum, s) => sum + s.claimedFen, 0);
    const transitions: ReconciliationStatus[] = before ? ['OPEN', 'CLOSED'] : ['DISCREPANCY'];
    items.push({
      itemId: `MEMBER_YEAR:${ctx.region}:${story.member.pseudonym}:${ctx.year}`,
      kind: 'MEMBER_YEAR',
      status: transitions.at(-1) as ReconciliationStatus,
      transitions,
      expected: money(dueFen),
      actual: money(claimedFen),
      difference: money(claimedFen - dueFen),
      why: before
        ? `${counted.length} settlement(s) claimed ${money(claimedFen)} before the premium was seen: held, then released by policy when the premium covered the year`
        : `${story.role === 'late' ? 'LATE' : 'PARTIAL'} premium: not covered; ${counted.length} settlement(s) claimed ${money(claimedFen)}, due ${money(dueFen)}`,
    });
  }
  return items;
}
