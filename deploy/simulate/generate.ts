/**
 * A realistic synthetic insurance year for one region, pure and seeded:
 * the tax authority's premium collections, the hospitals' direct settlements and reversals, the
 * insurer's monthly settlements, manual reimbursements and operating costs, in publication order,
 * with the faults the hub must catch and a ground truth of what it should make of them.
 *
 * Honest actors follow the policy exactly: a hospital claims what decideSupplement gives for the
 * member's year-to-date (the platform's figures), the insurer pays what hospitals claim. Everything
 * the hub should flag comes from an injected fault, written to the truth with its identifiers.
 */
import type { PseudonymKey } from '../../shared/identity.js';
import { type Money, ZERO } from '../../shared/money.js';
import {
  addDays,
  chinaDateOf,
  firstDayOfMonth,
  firstDayOfYear,
  type LocalDate,
  yearOf,
} from '../../shared/policy/dates.js';
import { decideEligibility, premiumWindowFor } from '../../shared/policy/eligibility.js';
import { insuranceYearBounds } from '../../shared/policy/insuranceYear.js';
import { decideSupplement, type SupplementDecision } from '../../shared/policy/supplement.js';
import { manualClaimSla } from '../../shared/policy/workingDays.js';
import type { OperatingCostCategory } from '../../shared/records.js';
import type { Topics } from '../../shared/topics.js';
import { type CareCost, splitAtBasicCap } from './care.js';
import type { SimEvent } from './events.js';
import { groundTruth } from './expectations.js';
import {
  byAt,
  type ClaimRec,
  type Context,
  type CorrectionRec,
  type CostRec,
  type Coverage,
  chinaAt,
  type Draft,
  fen,
  type MemberStory,
  maxDate,
  minDate,
  monthOf,
  type PaymentRec,
  type PayoutRec,
  POLICY_MEDICAL_TYPE,
  paramsOrThrow,
  type Role,
  type SettlementRec,
  toFen,
} from './model.js';
import {
  addWorkingDays,
  awayClaims,
  type ClaimPlan,
  chronicEpisodes,
  type EpisodePlan,
  type HeavyOptions,
  heavyEpisodes,
  lastDayOfMonth,
  lightEpisodes,
  nextWorkingDay,
  officeMinute,
  planReversals,
} from './plan.js';
import {
  assignProfiles,
  dayBetween,
  type Member,
  makeEmployers,
  makeHospitals,
  makeMembers,
  type PremiumPart,
  singlePaymentPlan,
} from './population.js';
import { DraftBuilder } from './published.js';
import { Rng } from './random.js';
import { FAULT_KINDS, type FaultKind, type GroundTruth } from './truth.js';

export {
  type InputSchemaName,
  isRawEvent,
  type SimEvent,
  type SimRawEvent,
  type SimRecordEvent,
} from './events.js';

export interface GenerateOptions {
  /** A region with a policy file, e.g. "410200" Kaifeng, "533100" Dehong. */
  readonly region: string;
  /** The insurance (cover) year. */
  readonly year: number;
  readonly members: number;
  readonly seed: number;
  /** true or absent: every fault; false: none; a list: only those. */
  readonly faults?: boolean | readonly FaultKind[];
  /** The hub's pseudonym key (loadPseudonymKey(process.env)), so the truth names members as the hub does. */
  readonly pseudonymKey: PseudonymKey;
  /** The catalogue of the hub the year is for: each event and the truth name its topics. */
  readonly topics: Topics;
}

export interface SimulatedYear {
  /** In publication order. */
  readonly events: SimEvent[];
  readonly truth: GroundTruth;
}

export function enabledFaults(selection: boolean | readonly FaultKind[] | undefined): FaultKind[] {
  if (selection === undefined || selection === true) return [...FAULT_KINDS];
  if (selection === false) return [];
  return FAULT_KINDS.filter((kind) => selection.includes(kind));
}

/** Fewest members that leave room for every selected fault among realistic ones. */
export function minimumMembers(faults: readonly FaultKind[]): number {
  return faults.length === 0 ? 1 : 100;
}

// ─── The year ──────────────────────────────────────────────────────────────────────────────────────

export function generateYear(options: GenerateOptions): SimulatedYear {
  const ctx = contextOf(options);
  const root = Rng.seeded(options.seed);
  const hospitals = makeHospitals(root.fork('hospitals'), ctx.region, options.members, ctx.params);
  const planCtx: Context = { ...ctx, hospitals };
  const employers = makeEmployers(root.fork('employers'), ctx.region, options.members);
  const members = makeMembers(
    root.fork('members'),
    options.members,
    ctx.region,
    ctx.params,
    employers,
    ctx.pseudonymKey,
    ctx.seedTag,
    ctx.window.opensOn,
  );
  const f = ctx.faults;
  assignProfiles(root.fork('profiles'), members, profileCounts(f, options.members));

  const stories = members.map(
    (member): MemberStory => ({
      member,
      role: 'normal',
      payments: [],
      episodes: [],
      claims: [],
      tags: [],
      claimTags: new Map(),
    }),
  );
  assignRoles(root.fork('roles'), stories, planCtx);
  const courses = heavyCourses(root.fork('heavy-courses'), stories, planCtx);
  for (const story of stories)
    planMember(root.fork(`member:${story.member.index}`), story, planCtx, courses.get(story));
  injectLateClaims(root.fork('late-claims'), stories, planCtx);
  const corrections = planCorrections(root.fork('corrections'), stories, planCtx);

  // The tax authority says the window's collections are complete once the last of them is published.
  const noticeAt = collectionClosedAt(stories, planCtx);
  const settlements: SettlementRec[] = [];
  const claims: ClaimRec[] = [];
  const reachedCap = new Set<Member>();
  for (const story of stories) processMember(story, planCtx, noticeAt, settlements, claims, reachedCap);
  settlements.sort(byAt);
  claims.sort(byAt);

  const shortPaid = f.has('INSURER_SHORT_PAYMENT')
    ? shortPaidMonth(root.fork('short-payment'), settlements)
    : undefined;
  injectOverClaims(root.fork('over-claim'), settlements, planCtx, shortPaid);
  const payouts = monthlySettlements(root.fork('payouts'), settlements, planCtx, shortPaid);
  const payments = stories.flatMap((s) => s.payments);
  assignIds(planCtx, payments, corrections, settlements, claims);
  const premiumIncomeFen = payments.reduce((sum, p) => sum + (p.correction?.correctedFen ?? p.amountFen), 0);
  const costs = operatingCosts(root.fork('costs'), premiumIncomeFen, planCtx);

  const drafts = draftsOf(root, planCtx, {
    stories,
    payments,
    noticeAt,
    settlements,
    claims,
    payouts,
    costs,
  });
  const truth = groundTruth({
    ctx: planCtx,
    options,
    drafts,
    stories,
    settlements,
    claims,
    payouts,
    costs,
    hospitals,
    premiumIncomeFen,
    reachedCap,
  });
  return { events: drafts.map((d) => d.event), truth };
}

/** How many members get a heavy course of care and how many fall ill away from home: enough for the faults asked for. */
function profileCounts(faults: ReadonlySet<FaultKind>, members: number): { heavy: number; away: number } {
  const needsCoveredHeavy = faults.has('HOSPITAL_OVER_CLAIM') || faults.has('INSURER_SHORT_PAYMENT');
  const heavyForFaults =
    (faults.has('PARTIAL_PREMIUM') ? 1 : 0) +
    (faults.has('LATE_PREMIUM') ? 1 : 0) +
    (faults.has('SETTLEMENT_BEFORE_PREMIUM') ? 1 : 0) +
    (needsCoveredHeavy ? 3 : 0);
  return {
    heavy: Math.max(heavyForFaults, members >= 100 ? 1 : 0),
    away: faults.has('LATE_MANUAL_CLAIM') ? 4 : members >= 500 ? 1 : 0,
  };
}

interface PlannedYear {
  readonly stories: readonly MemberStory[];
  readonly payments: readonly PaymentRec[];
  readonly noticeAt: number;
  readonly settlements: readonly SettlementRec[];
  readonly claims: readonly ClaimRec[];
  readonly payouts: readonly PayoutRec[];
  readonly costs: readonly CostRec[];
}

/** Every event of the planned year as the agencies' platforms would publish it, in publication order. */
function draftsOf(root: Rng, ctx: Context, year: PlannedYear): Draft[] {
  const { payments, noticeAt } = year;
  const builder = new DraftBuilder(root.fork('platform'), ctx);
  for (const p of payments) builder.premium(p);
  for (const p of payments) if (p.correction !== null) builder.correction(p, p.correction);
  const inWindow = payments.filter((p) => p.paidOn >= ctx.window.opensOn && p.paidOn <= ctx.window.closesOn);
  builder.collectionClosed(noticeAt, chinaDateOf(noticeAt), inWindow.length);
  for (const s of year.settlements) builder.settlement(s);
  for (const c of year.claims) builder.manualClaim(c);
  for (const p of year.payouts) builder.payout(p);
  for (const c of year.costs) builder.operatingCost(c);
  if (ctx.faults.has('DUPLICATES')) builder.duplicates(root.fork('duplicates'));
  if (ctx.faults.has('BAD_RECORDS')) builder.badRecords(root.fork('bad-records'), year.stories);
  return builder.sorted();
}

function contextOf(options: GenerateOptions): Omit<Context, 'hospitals'> {
  const { region, year, members, seed } = options;
  if (!Number.isInteger(year)) throw new RangeError(`year must be an integer, got ${year}`);
  if (!Number.isInteger(members) || members < 1) throw new RangeError(`members must be ≥ 1, got ${members}`);
  if (!Number.isInteger(seed) || seed < 0)
    throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  const faults = enabledFaults(options.faults);
  if (members < minimumMembers(faults)) {
    throw new RangeError(`${members} members are too few to inject faults (need ${minimumMembers(faults)})`);
  }
  const yearStart = firstDayOfYear(year);
  const params = paramsOrThrow(region, yearStart);
  const bounds = insuranceYearBounds(params, year);
  return {
    region,
    year,
    seed,
    seedTag: String(seed % 10_000).padStart(4, '0'),
    yearStart: bounds.firstDay,
    yearEnd: bounds.lastDay,
    params,
    window: premiumWindowFor(params, year),
    premiumDueFen: toFen(params.premiumDue),
    basicCapFen: toFen(params.basicFundCap),
    faults: new Set(faults),
    pseudonymKey: options.pseudonymKey,
    topics: options.topics,
  };
}

// ─── Roles and plans ───────────────────────────────────────────────────────────────────────────────

/** Premium stories: the faults' members among the heavy users, and new enrolees where the region has the exception. */
function assignRoles(rng: Rng, stories: MemberStory[], ctx: Context): void {
  const heavy = rng.shuffled(stories.filter((s) => s.member.profile === 'heavy'));
  const take = (fault: FaultKind, role: Role) => {
    if (!ctx.faults.has(fault)) return;
    const story = heavy.shift();
    if (story === undefined) return;
    story.role = role;
    story.tags.push(fault);
  };
  take('PARTIAL_PREMIUM', 'partial');
  take('LATE_PREMIUM', 'late');
  take('SETTLEMENT_BEFORE_PREMIUM', 'before-premium');
  // Kaifeng art. 8–9: someone joining the basic insurance after the window closed, paying in full, is covered.
  if (ctx.params.newEnroleeException && ctx.window.closesOn < addDays(ctx.yearEnd, -150)) {
    const candidates = stories.filter(
      (s) =>
        s.role === 'normal' &&
        !s.member.retiree &&
        (s.member.profile === 'none' || s.member.profile === 'light'),
    );
    for (const story of rng.sample(candidates, Math.round(stories.length * 0.01))) story.role = 'new-enrolee';
  }
}

/** The first day an honest member is treated: the insurance year's, or the day after a window opening in it. */
const firstCareDay = (ctx: Context): LocalDate =>
  ctx.window.opensOn >= ctx.yearStart ? addDays(ctx.window.opensOn, 1) : ctx.yearStart;

/**
 * The course of each honest heavy user's illness, half of them acute (first in the shuffled order) and
 * half ongoing. The acute onsets are spread evenly over the months, starting in January, so that even a
 * small region has members crossing the basic cap early, mid and late in the year, as a real fund of
 * hundreds of thousands of members has every month. Heavy users with a premium story draw their own course.
 */
function heavyCourses(
  rng: Rng,
  stories: readonly MemberStory[],
  ctx: Context,
): Map<MemberStory, HeavyOptions> {
  const honest = rng.shuffled(stories.filter((s) => s.member.profile === 'heavy' && s.role === 'normal'));
  const acute = honest.filter((_, i) => i % 2 === 0);
  const from = firstCareDay(ctx);
  const courses = new Map<MemberStory, HeavyOptions>();
  for (const story of honest) courses.set(story, { course: 'ongoing' });
  acute.forEach((story, j) => {
    const month = Math.floor((j * 12) / acute.length) + 1;
    const monthStart = `${ctx.year}-${String(month).padStart(2, '0')}-01` as LocalDate;
    const onset = minDate(ctx.yearEnd, maxDate(from, addDays(monthStart, rng.int(0, 20))));
    courses.set(story, { course: 'acute', onset });
  });
  return courses;
}

function planMember(rng: Rng, story: MemberStory, ctx: Context, heavy: HeavyOptions | undefined): void {
  const { member } = story;
  let careFrom = firstCareDay(ctx);
  const single = () => singlePaymentPlan(ctx.params, member.kind);

  switch (story.role) {
    case 'late': {
      // Paid in full, but after the window closed: no benefits this year (Kaifeng art. 8).
      const paidOn = addDays(ctx.window.closesOn, rng.int(5, 50));
      member.parts = single();
      story.payments = [
        payment(story, member.parts[0] as PremiumPart, ctx.premiumDueFen, paidOn, rng, 'LATE_PREMIUM'),
      ];
      careFrom = addDays(paidOn, 3);
      break;
    }
    case 'new-enrolee': {
      const enrolledOn = dayBetween(
        rng,
        addDays(maxDate(ctx.window.closesOn, addDays(ctx.yearStart, -1)), 14),
        `${ctx.year}-08-31` as LocalDate,
      );
      const paidOn = addDays(enrolledOn, rng.int(3, 30));
      member.enrolledOn = enrolledOn;
      member.parts = single();
      story.payments = [
        payment(story, member.parts[0] as PremiumPart, ctx.premiumDueFen, paidOn, rng, 'NEW_ENROLEE'),
      ];
      careFrom = addDays(paidOn, 1);
      break;
    }
    case 'before-premium':
      member.parts = single();
      break;
    default:
      break;
  }

  switch (member.profile) {
    case 'light':
      story.episodes = lightEpisodes(rng, member, careFrom, ctx);
      break;
    case 'chronic':
      story.episodes = chronicEpisodes(rng, member, careFrom, ctx);
      break;
    case 'heavy':
      story.episodes =
        story.role === 'before-premium'
          ? beforePremiumEpisodes(rng, story, ctx)
          : heavyEpisodes(
              rng,
              member,
              careFrom,
              ctx,
              heavy ?? { course: rng.chance(0.5) ? 'acute' : 'ongoing' },
            );
      break;
    case 'away':
      story.claims = awayClaims(rng, member, careFrom, ctx);
      break;
    case 'none':
      break;
  }
  if (story.role === 'normal' || story.role === 'new-enrolee') planReversals(rng, story.episodes);

  if (story.role === 'normal' || story.role === 'partial') {
    // Honest premiums come before any care: the hub then knows the member's cover when a settlement arrives.
    const firstCare = [
      ...story.episodes.map((e) => e.date),
      ...story.claims.map((c) => c.serviceDate),
    ].sort()[0];
    const latest =
      firstCare === undefined ? ctx.window.closesOn : minDate(ctx.window.closesOn, addDays(firstCare, -1));
    story.payments = windowPayments(rng, story, ctx, latest);
  }
}

/**
 * A heavy user whose first, cap-crossing stay is settled before the premium reaches the hub: a premium
 * paid later in an open window (Dehong), or collected in time but reported late by the tax authority (Kaifeng).
 */
function beforePremiumEpisodes(rng: Rng, story: MemberStory, ctx: Context): EpisodePlan[] {
  const first = addDays(ctx.yearStart, rng.int(9, 68));
  const windowStillOpen = ctx.window.closesOn >= addDays(first, 3);
  const paidOn = windowStillOpen
    ? minDate(ctx.window.closesOn, addDays(first, rng.int(3, 15)))
    : dayBetween(rng, ctx.window.opensOn, ctx.window.closesOn);
  const episodes = heavyEpisodes(rng, story.member, first, ctx, {
    course: 'acute',
    onset: first,
    followFrom: windowStillOpen ? addDays(paidOn, 1) : addDays(first, 1),
  });
  const firstEpisode = episodes[0] as EpisodePlan;
  const pay = payment(story, story.member.parts[0] as PremiumPart, ctx.premiumDueFen, paidOn, rng, null);
  // Published after the first settlement whatever the day it was paid: the tax feed arrives late.
  pay.pubAt = Math.max(pay.pubAt, chinaAt(firstEpisode.date, firstEpisode.minute) + 60 * 60_000);
  story.payments = [pay];
  return episodes;
}

function payment(
  story: MemberStory,
  part: PremiumPart,
  amountFen: number,
  paidOn: LocalDate,
  rng: Rng,
  why: PaymentRec['why'],
): PaymentRec {
  const unitPays =
    part.payerType !== 'FLEXIBLE_WORKER_SELF_PAID' && part.payerType !== 'UNEMPLOYED_SELF_PAID';
  return {
    story,
    eventId: '',
    payerType: part.payerType,
    amountFen,
    paidOn,
    pubAt: chinaAt(paidOn, officeMinute(rng, 9, 17)),
    employerCode:
      unitPays && part.payerType !== 'RETIREE_SELF_PAID' ? (story.member.employer?.code ?? null) : null,
    why,
    correction: null,
  };
}

/**
 * Payments inside the window, by `latest`: units pay early in the window, self-payers crowd the deadline;
 * a unit's and the member's shares a few days apart. A partial payer pays only part of the premium.
 */
function windowPayments(rng: Rng, story: MemberStory, ctx: Context, latest: LocalDate): PaymentRec[] {
  const { opensOn } = ctx.window;
  const span = Math.max(0, Math.round((Date.parse(latest) - Date.parse(opensOn)) / 86_400_000));
  const selfPaid = story.member.employer === null;
  const r = rng.next();
  const offset =
    selfPaid && r < 0.35
      ? rng.int(Math.floor(span * 0.85), span)
      : !selfPaid && r < 0.6
        ? rng.int(0, Math.floor(span * 0.3))
        : rng.int(0, span);
  const first = addDays(opensOn, offset);
  const parts = story.member.parts;
  const due = ctx.premiumDueFen;
  if (story.role === 'partial') {
    // Only the unit's share arrived (or half the premium, for a single payer): not paid in full in the window.
    const part = parts[0] as PremiumPart;
    const amount = parts.length > 1 ? Math.round(due * part.share) : Math.round(due * rng.uniform(0.3, 0.7));
    return [payment(story, part, amount, first, rng, null)];
  }
  if (parts.length === 1) return [payment(story, parts[0] as PremiumPart, due, first, rng, null)];
  const firstAmount = Math.round(due * (parts[0] as PremiumPart).share);
  const second = minDate(latest, addDays(first, rng.int(0, 20)));
  return [
    payment(story, parts[0] as PremiumPart, firstAmount, first, rng, null),
    payment(story, parts[1] as PremiumPart, due - firstAmount, second, rng, null),
  ];
}

/** LATE_MANUAL_CLAIM: one claim paid after the service level, one paid after the 31 March deadline. */
function injectLateClaims(rng: Rng, stories: MemberStory[], ctx: Context): void {
  if (!ctx.faults.has('LATE_MANUAL_CLAIM')) return;
  const away = rng.shuffled(stories.filter((s) => s.claims.length > 0));
  const rule = ctx.params.manualClaim;
  const slaStory = away[0];
  const slaClaim = slaStory?.claims.at(-1);
  if (slaStory !== undefined && slaClaim !== undefined) {
    slaClaim.paidOn = addWorkingDays(slaClaim.receivedOn, rule.workingDays + rng.int(4, 12));
    slaStory.claimTags.set(slaClaim, 'LATE_MANUAL_CLAIM');
  }
  const deadlineStory = away[1];
  const deadlineClaim = deadlineStory?.claims.at(-1);
  if (deadlineStory !== undefined && deadlineClaim !== undefined) {
    // The member sent the claim late in March; the insurer paid it in April, past Dehong art. 16's deadline.
    const deadline = `${ctx.year + rule.deadlineYearOffset}-${rule.deadlineMonthDay}` as LocalDate;
    deadlineClaim.receivedOn = nextWorkingDay(addDays(deadline, -rng.int(6, 9)));
    deadlineClaim.paidOn = addWorkingDays(deadline, rng.int(1, 4));
    deadlineStory.claimTags.set(deadlineClaim, 'LATE_MANUAL_CLAIM');
  }
}

/**
 * Tax corrections (冲正) that change no one's cover: a payment taken twice, reversed in full, and an
 * amount keyed ten times too high, corrected to the premium.
 */
function planCorrections(rng: Rng, stories: MemberStory[], ctx: Context): CorrectionRec[] {
  if (stories.length < 50) return [];
  const candidates = stories.filter(
    (s) =>
      s.role === 'normal' &&
      s.member.profile !== 'heavy' &&
      s.member.profile !== 'away' &&
      s.payments.length > 0,
  );
  const chosen = rng.sample(candidates, Math.max(1, Math.round(stories.length * 0.002)));
  const corrections: CorrectionRec[] = [];
  chosen.forEach((story, i) => {
    const original = story.payments[0] as PaymentRec;
    if (i % 2 === 0) {
      const paidOn = minDate(ctx.window.closesOn, addDays(original.paidOn, rng.int(0, 5)));
      const twice: PaymentRec = {
        ...original,
        paidOn,
        pubAt: Math.max(original.pubAt + 60_000, chinaAt(paidOn, officeMinute(rng, 9, 17))),
        correction: null,
      };
      const correctedOn = addDays(paidOn, rng.int(3, 20));
      twice.correction = {
        eventId: '',
        correctedFen: 0,
        correctedOn,
        pubAt: chinaAt(correctedOn, officeMinute(rng, 9, 17)),
        reason: '重复缴费，全额冲正',
      };
      story.payments.push(twice);
      corrections.push(twice.correction);
    } else {
      const keyed: PaymentRec = { ...original, amountFen: original.amountFen * 10 };
      const correctedOn = addDays(original.paidOn, rng.int(2, 15));
      keyed.correction = {
        eventId: '',
        correctedFen: original.amountFen,
        correctedOn,
        pubAt: chinaAt(correctedOn, officeMinute(rng, 9, 17)),
        reason: '缴费金额录入错误，更正',
      };
      story.payments[0] = keyed;
      corrections.push(keyed.correction);
    }
  });
  return corrections;
}

// ─── The platform and the hub, member by member ────────────────────────────────────────────────────

interface MemberYear {
  basicFen: number;
  /** Σ due as the hub decides it. */
  hubSupplement: Money;
  /** Σ of what the platform (thinking the member covered) gave. */
  platformSupplement: Money;
}

type Action =
  | {
      readonly at: number;
      readonly kind: 'settle';
      readonly episode: EpisodePlan;
      readonly resettle: boolean;
    }
  | { readonly at: number; readonly kind: 'reverse'; readonly episode: EpisodePlan }
  | { readonly at: number; readonly kind: 'claim'; readonly claim: ClaimPlan };

/**
 * Settles a member's visits and claims in the order the hub will see them, computing the platform's
 * figures and the hub's due from the same year-to-date the hub keeps (shared/policy/supplement.ts).
 */
function processMember(
  story: MemberStory,
  ctx: Context,
  noticeAt: number,
  settlements: SettlementRec[],
  claims: ClaimRec[],
  reachedCap: Set<Member>,
): void {
  const actions: Action[] = [];
  for (const episode of story.episodes) {
    actions.push({ at: chinaAt(episode.date, episode.minute), kind: 'settle', episode, resettle: false });
    const reversal = episode.reversal;
    if (reversal !== null) {
      actions.push({ at: chinaAt(reversal.date, reversal.minute), kind: 'reverse', episode });
      if (reversal.resettle !== null)
        actions.push({
          at: chinaAt(reversal.date, reversal.resettle.minute),
          kind: 'settle',
          episode,
          resettle: true,
        });
    }
  }
  // A manual claim enters the member's year-to-date at the end of the day it was paid (as the hub orders it).
  for (const claim of story.claims)
    actions.push({ at: chinaAt(addDays(claim.paidOn, 1), 0) - 1, kind: 'claim', claim });
  actions.sort(byAt);
  const coverage = finalCoverage(story, ctx);

  const year: MemberYear = { basicFen: 0, hubSupplement: ZERO, platformSupplement: ZERO };
  const byEpisode = new Map<EpisodePlan, SettlementRec>();
  for (const action of actions) {
    switch (action.kind) {
      case 'settle': {
        const cost = action.resettle
          ? (action.episode.reversal?.resettle?.cost as CareCost)
          : action.episode.cost;
        const original = action.resettle ? (byEpisode.get(action.episode) ?? null) : null;
        const rec = settle(story, action.episode, cost, action.at, original, year, ctx, coverage, noticeAt);
        if (!action.resettle) byEpisode.set(action.episode, rec);
        settlements.push(rec);
        break;
      }
      case 'reverse': {
        const original = byEpisode.get(action.episode);
        if (original === undefined) throw new Error('simulate: reversal before its settlement');
        settlements.push(reverse(original, action.at, year, action.episode.reversal?.reason ?? null));
        break;
      }
      case 'claim': {
        const rec = manualClaim(story, action.claim, action.at, year, ctx, coverage, noticeAt);
        if (rec !== null) claims.push(rec);
        break;
      }
    }
    if (year.basicFen >= ctx.basicCapFen) reachedCap.add(story.member);
  }
}

/** The member-year's cover from every premium event: what the hub decides the year's claims by, in any order. */
function finalCoverage(story: MemberStory, ctx: Context): Coverage {
  const decision = decideEligibility({
    params: ctx.params,
    year: ctx.year,
    enrolledOn: story.member.enrolledOn,
    payments: story.payments.map((p) => ({
      amount: fen(p.correction !== null ? p.correction.correctedFen : p.amountFen),
      paidOn: p.paidOn,
    })),
  });
  return decision.covered ? 'covered' : 'not-covered';
}

/**
 * Whether, in publication order, a claim published at `at` finds its member-year's cover undecided: no
 * premium published by then covers the year, and the end-of-collection notice has not come yet.
 */
function heldInPublicationOrder(story: MemberStory, at: number, ctx: Context, noticeAt: number): boolean {
  if (noticeAt < at) return false;
  const seen = story.payments.filter((p) => p.pubAt < at);
  const decision = decideEligibility({
    params: ctx.params,
    year: ctx.year,
    enrolledOn: story.member.enrolledOn,
    payments: seen.map((p) => ({
      amount: fen(p.correction !== null && p.correction.pubAt < at ? p.correction.correctedFen : p.amountFen),
      paidOn: p.paidOn,
    })),
  });
  return !decision.covered;
}

/** One hour after the last collection of the window is published, and not before the day after it closes. */
function collectionClosedAt(stories: readonly MemberStory[], ctx: Context): number {
  let at = chinaAt(addDays(ctx.window.closesOn, 1), 9 * 60);
  for (const story of stories) {
    for (const p of story.payments) {
      if (p.paidOn >= ctx.window.opensOn && p.paidOn <= ctx.window.closesOn)
        at = Math.max(at, p.pubAt + 60 * 60_000);
    }
  }
  return at;
}

function settle(
  story: MemberStory,
  episode: EpisodePlan,
  cost: CareCost,
  at: number,
  original: SettlementRec | null,
  year: MemberYear,
  ctx: Context,
  coverage: Coverage,
  noticeAt: number,
): SettlementRec {
  const split = splitAtBasicCap(cost, year.basicFen, ctx.basicCapFen);
  const params = paramsOrThrow(ctx.region, episode.date);
  const claim = {
    inScopeAmount: fen(cost.inScopeFen),
    basicFundPaid: fen(split.basicFundPaidFen),
    overCapAmount: fen(split.overCapFen),
    outOfArea: false,
    referred: false,
    medicalType: POLICY_MEDICAL_TYPE[episode.medicalType],
  };
  const basicFundPaid = fen(year.basicFen);
  const hub = decideSupplement({
    params,
    eligible: coverage === 'covered',
    ytd: { basicFundPaid, supplementPaid: year.hubSupplement },
    claim,
  });
  // What the platform gives, believing the member covered: exactly the hub's due for an honest, covered member.
  const platform: SupplementDecision =
    coverage === 'covered' && year.platformSupplement.eq(year.hubSupplement)
      ? hub
      : decideSupplement({
          params,
          eligible: true,
          ytd: { basicFundPaid, supplementPaid: year.platformSupplement },
          claim,
        });
  year.basicFen += split.basicFundPaidFen;
  year.hubSupplement = year.hubSupplement.plus(hub.due);
  year.platformSupplement = year.platformSupplement.plus(platform.due);
  return {
    kind: 'settlement',
    id: '',
    visitId: '',
    story,
    hospital: episode.hospital,
    serviceDate: episode.date,
    at,
    medicalType: episode.medicalType,
    cost,
    basicFen: split.basicFundPaidFen,
    overCapFen: split.overCapFen,
    claimedFen: toFen(platform.due),
    dueFen: toFen(hub.due),
    platformDueFen: toFen(platform.due),
    coverage,
    heldFirst: heldInPublicationOrder(story, at, ctx, noticeAt),
    original,
    reversed: false,
    reason: null,
    tags: [...story.tags],
  };
}

/** Design.md §6 step 5: the same amounts with the opposite sign, so the year-to-date returns. */
function reverse(
  original: SettlementRec,
  at: number,
  year: MemberYear,
  reason: string | null,
): SettlementRec {
  original.reversed = true;
  year.basicFen -= original.basicFen;
  year.hubSupplement = year.hubSupplement.minus(fen(original.dueFen));
  year.platformSupplement = year.platformSupplement.minus(fen(original.platformDueFen));
  return {
    ...original,
    kind: 'reversal',
    id: '',
    at,
    basicFen: -original.basicFen,
    overCapFen: -original.overCapFen,
    claimedFen: -original.claimedFen,
    dueFen: -original.dueFen,
    platformDueFen: -original.platformDueFen,
    cost: {
      ...original.cost,
      totalFen: -original.cost.totalFen,
      fullOwnPayFen: -original.cost.fullOwnPayFen,
      inScopeFen: -original.cost.inScopeFen,
    },
    original,
    reversed: false,
    reason,
    tags: [...original.tags],
  };
}

/** A manual claim is decided when the insurer reports it paid; it pays what the policy gives, or is not made. */
function manualClaim(
  story: MemberStory,
  plan: ClaimPlan,
  at: number,
  year: MemberYear,
  ctx: Context,
  coverage: Coverage,
  noticeAt: number,
): ClaimRec | null {
  const split = splitAtBasicCap(plan.cost, year.basicFen, ctx.basicCapFen);
  const params = paramsOrThrow(ctx.region, plan.serviceDate);
  const decision = decideSupplement({
    params,
    eligible: coverage === 'covered',
    ytd: { basicFundPaid: fen(year.basicFen), supplementPaid: year.hubSupplement },
    claim: {
      inScopeAmount: fen(plan.cost.inScopeFen),
      basicFundPaid: fen(split.basicFundPaidFen),
      overCapAmount: fen(split.overCapFen),
      outOfArea: true,
      referred: plan.referral === 'REFERRED',
      medicalType: POLICY_MEDICAL_TYPE[plan.medicalType],
    },
  });
  // payout-ingest refuses a reimbursement of nothing: a claim the policy pays nothing for is refused by the insurer.
  if (!decision.due.gt(ZERO)) return null;
  const sla = manualClaimSla({
    params,
    receivedOn: plan.receivedOn,
    paidOn: plan.paidOn,
    serviceYear: ctx.year,
  });
  if (!sla.ok) throw new Error(`simulate: claim paid before it was received (${sla.error.rule})`);
  year.basicFen += split.basicFundPaidFen;
  year.hubSupplement = year.hubSupplement.plus(decision.due);
  year.platformSupplement = year.platformSupplement.plus(decision.due);
  const tag = story.claimTags.get(plan);
  return {
    id: '',
    story,
    plan,
    basicFen: split.basicFundPaidFen,
    overCapFen: split.overCapFen,
    dueFen: toFen(decision.due),
    at,
    sla: sla.value,
    heldFirst: heldInPublicationOrder(story, at, ctx, noticeAt),
    tags: [...story.tags, ...(tag === undefined ? [] : [tag])],
  };
}

// ─── Faults on the settled year ────────────────────────────────────────────────────────────────────

/**
 * HOSPITAL_OVER_CLAIM: the hospital with the most supplement settlements applies five points too many on
 * up to three of them; the insurer pays the claim, so those hospital-months are over-paid.
 */
function injectOverClaims(
  rng: Rng,
  settlements: SettlementRec[],
  ctx: Context,
  shortPaid: string | undefined,
): void {
  if (!ctx.faults.has('HOSPITAL_OVER_CLAIM')) return;
  const candidates = settlements.filter(
    (s) =>
      s.kind === 'settlement' &&
      s.tags.length === 0 &&
      !s.reversed &&
      s.original === null &&
      s.dueFen > 0 &&
      hospitalMonthKey(s) !== shortPaid,
  );
  const byHospital = new Map<string, SettlementRec[]>();
  for (const s of candidates)
    byHospital.set(s.hospital.code, [...(byHospital.get(s.hospital.code) ?? []), s]);
  const [, chosen] =
    [...byHospital].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))[0] ?? [];
  for (const s of rng.sample(chosen ?? [], 3)) {
    s.claimedFen += Math.max(1, Math.round(s.overCapFen * 0.05));
    s.tags.push('HOSPITAL_OVER_CLAIM');
  }
}

const hospitalMonthKey = (s: SettlementRec): string => `${s.hospital.code}|${monthOf(s.serviceDate)}`;

function byHospitalMonth(settlements: readonly SettlementRec[]): [string, SettlementRec[]][] {
  const groups = new Map<string, SettlementRec[]>();
  for (const s of settlements)
    groups.set(hospitalMonthKey(s), [...(groups.get(hospitalMonthKey(s)) ?? []), s]);
  return [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * INSURER_SHORT_PAYMENT: the hospital-month the insurer will pay short, chosen by claimed amount among
 * those no other fault touches (any month with claims when there is none).
 */
function shortPaidMonth(rng: Rng, settlements: readonly SettlementRec[]): string | undefined {
  const claimed = (list: readonly SettlementRec[]) => list.reduce((sum, s) => sum + s.claimedFen, 0);
  const withClaims = byHospitalMonth(settlements).filter(([, list]) => claimed(list) > 100);
  const clean = withClaims.filter(([, list]) => list.every((s) => s.tags.length === 0));
  const candidates = clean.length > 0 ? clean : withClaims;
  if (candidates.length === 0) return undefined;
  return rng.weighted(
    candidates,
    candidates.map(([, list]) => claimed(list)),
  )[0];
}

/**
 * The insurer settles each hospital-month that has something to pay, in the following month, listing the
 * settlements and reversals with a supplement claimed and paying their sum (Dehong art. 15), except the
 * short-paid month.
 */
function monthlySettlements(
  rng: Rng,
  settlements: readonly SettlementRec[],
  ctx: Context,
  short: string | undefined,
): PayoutRec[] {
  const months = byHospitalMonth(settlements);
  const payouts: PayoutRec[] = [];
  for (const [key, list] of months) {
    const listed = list.filter((s) => s.claimedFen !== 0).sort(byAt);
    const claimedFen = listed.reduce((sum, s) => sum + s.claimedFen, 0);
    const hospital = (list[0] as SettlementRec).hospital;
    const month = monthOf((list[0] as SettlementRec).serviceDate);
    let amountFen = claimedFen;
    const tags: FaultKind[] = [];
    if (key === short) {
      amountFen =
        claimedFen - Math.min(claimedFen - 1, Math.max(1, Math.round(claimedFen * rng.uniform(0.03, 0.12))));
      tags.push('INSURER_SHORT_PAYMENT');
    }
    // Nothing to pay (no supplement claimed, or a reversal cancelled the month's only claim): no payment.
    if (amountFen === 0) continue;
    const nextMonth = addDays(lastDayOfMonth(firstDayOfMonth(month)), 1);
    const paidOn = nextWorkingDay(addDays(nextMonth, rng.int(7, 19)));
    payouts.push({
      id: `INS-${ctx.region}-${hospital.code}-${month}-${ctx.seedTag}`,
      hospital,
      month,
      amountFen,
      paidOn,
      at: chinaAt(paidOn, officeMinute(rng, 9, 17)),
      listed,
      tags,
    });
  }
  return payouts.sort(byAt);
}

// Dehong art. 21: operating cost, here 5–8 % of premiums; shares of each month's cost by category.
const COST_LINES: readonly {
  category: OperatingCostCategory;
  share: number;
  description: string;
  quarterly?: true;
}[] = [
  { category: 'STAFF', share: 0.55, description: '经办人员薪酬' },
  { category: 'IT_SYSTEMS', share: 0.2, description: '信息系统运维' },
  { category: 'OFFICE_AND_ADMIN', share: 0.15, description: '办公及行政费用' },
  { category: 'CLAIMS_INVESTIGATION', share: 0.07, description: '理赔调查与稽核', quarterly: true },
  { category: 'OTHER', share: 0.03, description: '其他经办费用' },
];

function operatingCosts(rng: Rng, premiumIncomeFen: number, ctx: Context): CostRec[] {
  const annualFen = premiumIncomeFen * rng.uniform(0.055, 0.075);
  const weights = Array.from({ length: 12 }, () => rng.uniform(0.85, 1.15));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const monthly = weights.map((w) => (annualFen * w) / weightSum);
  const creditMonth = rng.int(3, 10);
  const costs: CostRec[] = [];
  for (let m = 1; m <= 12; m += 1) {
    const period = `${ctx.year}-${String(m).padStart(2, '0')}`;
    const recordedOn = lastWorkingDayOf(firstDayOfMonth(period));
    let line = 0;
    const add = (category: OperatingCostCategory, amountFen: number, description: string) => {
      if (amountFen === 0) return;
      line += 1;
      costs.push({
        id: `OPC-${ctx.region}-${period}-${ctx.seedTag}${String(line).padStart(2, '0')}`,
        period,
        category,
        amountFen,
        recordedOn,
        at: chinaAt(recordedOn, 16 * 60 + line * 7),
        description,
      });
    };
    for (const cost of COST_LINES) {
      if (cost.quarterly && m % 3 !== 0) continue;
      const base = cost.quarterly
        ? monthly.slice(m - 3, m).reduce((a, b) => a + b, 0)
        : (monthly[m - 1] as number);
      add(cost.category, Math.round(base * cost.share), cost.description);
    }
    if (m === creditMonth) {
      // A credit note: office costs booked twice last month are given back (negative amount).
      add(
        'OFFICE_AND_ADMIN',
        -Math.round((monthly[m - 2] as number) * 0.15 * rng.uniform(0.1, 0.3)),
        '上月办公费用重复入账冲减',
      );
    }
  }
  return costs;
}

function lastWorkingDayOf(firstOfMonth: LocalDate): LocalDate {
  let day = lastDayOfMonth(firstOfMonth);
  while (!isWorking(day)) day = addDays(day, -1);
  return day;
}

function isWorking(day: LocalDate): boolean {
  return nextWorkingDay(day) === day;
}

// ─── Identifiers ───────────────────────────────────────────────────────────────────────────────────

/** Source-system ids in time order, each with the run's seed tag so runs with other seeds do not collide. */
function assignIds(
  ctx: Context,
  payments: readonly PaymentRec[],
  corrections: readonly CorrectionRec[],
  settlements: readonly SettlementRec[],
  claims: readonly ClaimRec[],
): void {
  [...payments]
    .sort((a, b) => a.pubAt - b.pubAt)
    .forEach((p, i) => {
      p.eventId = `TAX-${ctx.region}-${yearOf(p.paidOn)}-${ctx.seedTag}${String(i + 1).padStart(8, '0')}`;
    });
  [...corrections]
    .sort((a, b) => a.pubAt - b.pubAt)
    .forEach((c, i) => {
      c.eventId = `TAXC-${ctx.region}-${yearOf(c.correctedOn)}-${ctx.seedTag}${String(i + 1).padStart(8, '0')}`;
    });
  let visit = 0;
  settlements.forEach((s, i) => {
    s.id = `${ctx.region}G${ctx.seedTag}${String(i + 1).padStart(9, '0')}`;
    if (s.original === null) {
      visit += 1;
      s.visitId = `${ctx.region}M${ctx.seedTag}${String(visit).padStart(9, '0')}`;
    } else {
      s.visitId = s.original.visitId;
    }
  });
  claims.forEach((c, i) => {
    c.id = `CLM-${ctx.region}-${ctx.year}-${ctx.seedTag}${String(i + 1).padStart(5, '0')}`;
  });
}
