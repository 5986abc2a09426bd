/**
 * One member's insurance year in one region, as a fold over the member's facts in journal order (pure).
 *
 * `decideMemberYear(state, fact, env)` says what a fact changes, as events; `evolveMemberYear(state,
 * event)` applies one. Every claim's booking is a function of the member-year's facts, never of the order
 * they arrived in:
 * - cover comes from the premium payments (Kaifeng art. 8-9, Dehong art. 8): covered when paid in full
 *   in the window (or under Kaifeng's new-enrolee exception); not covered once the tax authority's
 *   end-of-collection notice says no more payments of the window can come; until then *pending*;
 * - while cover is pending every claim is held (in COVER_PENDING_SUSPENSE on the ledger);
 * - once it is decided, the claims are decided by policy in the order they enter the member's
 *   year-to-date (settlement time; a manual claim at the end of the day it was paid), so the basic-cap
 *   and annual-cap steps see the same year-to-date whatever order the facts came in;
 * - a reversal takes back exactly what its settlement is booked at, from the reversal's time on.
 * When a fact changes a claim's booking (cover decided, a claim earlier in the year arriving late), the
 * claim is booked again: a release from suspense or a re-decision, never a silent change.
 */
import { invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { type Money, sumMoney, ZERO } from '../../shared/money.js';
import { addDays, chinaMidnight, type LocalDate } from '../../shared/policy/dates.js';
import { decideEligibility, type EligibilityDecision } from '../../shared/policy/eligibility.js';
import type { PolicyParams } from '../../shared/policy/params.js';
import {
  decideSupplement,
  type SettlementClaim,
  type SupplementFlag,
  type YearToDate,
} from '../../shared/policy/supplement.js';
import type { ManualClaimSlaDecision } from '../../shared/policy/workingDays.js';
import type { PostingKind } from '../../shared/records.js';

// ─── State ─────────────────────────────────────────────────────────────────────────────────────────

/** Where a fact was read on its input topic (for postings and for recognising a redelivery). */
export interface Origin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface Payment {
  readonly eventId: string;
  /** As collected, or as the latest correction (冲正) set it. */
  readonly amount: Money;
  readonly paidOn: LocalDate;
  readonly origin: Origin;
}

/** A claim's figures are what the supplement is decided from, kept as the policy reads them. */
export type ClaimFigures = SettlementClaim;

export type ClaimKind = 'settlement' | 'reversal' | 'manual';

/** What the ledger holds for a claim now. */
export type Booking =
  | { readonly state: 'held'; readonly revision: number; readonly postingId: string }
  | {
      readonly state: 'decided';
      readonly revision: number;
      readonly postingId: string;
      readonly due: Money;
      readonly flags: readonly SupplementFlag[];
    };

export interface Claim {
  readonly id: string;
  readonly kind: ClaimKind;
  /** Epoch ms at which the claim enters the member's year-to-date: the canonical order. */
  readonly at: number;
  readonly serviceDate: LocalDate;
  /** The claim's business date (settled, reversed, paid): the period it counts in, whenever it is booked. */
  readonly postedOn: LocalDate;
  readonly hospitalCode: string | null;
  readonly figures: ClaimFigures;
  /** hifob_pay of a settlement (≤ 0 for a reversal), the amount paid to the member for a manual claim. */
  readonly claimed: Money;
  /** A reversal: the settlement it reverses. */
  readonly reverses: string | null;
  /** A settlement: the reversal that reverses it. */
  readonly reversedBy: string | null;
  /** A manual claim: receipt, payment and the service level (Dehong art. 16), fixed when it arrived. */
  readonly manual: ManualClaimFacts | null;
  readonly origin: Origin;
  readonly booking: Booking;
}

export interface ManualClaimFacts {
  readonly receivedOn: LocalDate;
  readonly paidOn: LocalDate;
  readonly sla: ManualClaimService;
}

/** The service level of a manual claim (Dehong art. 16), as checked when it arrived. */
export type ManualClaimService = Omit<ManualClaimSlaDecision, 'trail'>;

export interface MemberYear {
  readonly region: string;
  readonly year: number;
  readonly pseudonym: string;
  readonly enrolledOn: LocalDate | null;
  readonly payments: readonly Payment[];
  /** Corrections applied, by event id, with where each was read. */
  readonly corrections: ReadonlyArray<readonly [string, Origin]>;
  /** In canonical order. */
  readonly claims: readonly Claim[];
  /** Postings emitted for this member-year so far (ledger-posting.avsc `sequence`). */
  readonly sequence: number;
}

export function emptyMemberYear(region: string, year: number, pseudonym: string): MemberYear {
  return {
    region,
    year,
    pseudonym,
    enrolledOn: null,
    payments: [],
    corrections: [],
    claims: [],
    sequence: 0,
  };
}

// ─── Facts and events ──────────────────────────────────────────────────────────────────────────────

/** The fact that caused a claim to be booked again: named on the later posting. */
export interface Cause {
  readonly eventId: string;
  readonly date: LocalDate;
  readonly origin: Origin;
}

/** A claim as it arrives, before it is booked. */
export type ArrivingClaim = Omit<Claim, 'booking' | 'reversedBy'>;

export type MemberFact =
  | {
      readonly type: 'premium-collected';
      readonly eventId: string;
      readonly amount: Money;
      readonly paidOn: LocalDate;
      readonly enrolledOn: LocalDate | null;
      readonly origin: Origin;
    }
  | {
      readonly type: 'premium-corrected';
      readonly eventId: string;
      readonly originalEventId: string;
      readonly correctedAmount: Money;
      readonly correctedOn: LocalDate;
      readonly origin: Origin;
    }
  | { readonly type: 'claim'; readonly claim: ArrivingClaim }
  | {
      readonly type: 'collection-closed';
      readonly noticeId: string;
      readonly issuedOn: LocalDate;
      readonly origin: Origin;
    };

export type MemberYearEvent =
  | { readonly type: 'premium-paid'; readonly payment: Payment; readonly enrolledOn: LocalDate | null }
  | {
      readonly type: 'premium-corrected';
      readonly eventId: string;
      readonly originalEventId: string;
      readonly before: Money;
      readonly after: Money;
      readonly correctedOn: LocalDate;
      readonly origin: Origin;
    }
  | { readonly type: 'claim-arrived'; readonly claim: ArrivingClaim }
  | {
      readonly type: 'claim-booked';
      readonly claimId: string;
      readonly from: Booking | null;
      readonly to: Booking;
      /** What was decided from (for the rule trail when the posting is written). */
      readonly basis: BookingBasis;
      /** null for the claim's own arrival. */
      readonly cause: Cause | null;
    };

/** The decision a booking rests on: cover and the year-to-date before the claim. */
export interface BookingBasis {
  readonly cover: CoverState;
  readonly ytdBefore: YearToDate;
}

export type CoverState = 'covered' | 'not-covered' | 'pending';

/** What decide needs besides the state: the cover year's parameters, the claims' parameters, the window's end. */
export interface MemberYearEnv {
  readonly coverParams: PolicyParams;
  /** The parameters in force on a claim's service date. */
  paramsOn(serviceDate: LocalDate): PolicyParams;
  /** The end-of-collection notice for the cover year has been seen in this member's order. */
  readonly collectionClosed: boolean;
}

// ─── Decide ────────────────────────────────────────────────────────────────────────────────────────

/** What a fact changes; a redelivery of a fact already applied (same event, same input offset) changes nothing. */
export function decideMemberYear(
  state: MemberYear,
  fact: MemberFact,
  env: MemberYearEnv,
): Result<readonly MemberYearEvent[]> {
  switch (fact.type) {
    case 'premium-collected':
      return decideCollection(state, fact, env);
    case 'premium-corrected':
      return decideCorrection(state, fact, env);
    case 'claim':
      return decideClaim(state, fact.claim, env);
    case 'collection-closed':
      return ok(
        rebook(
          state,
          coverOf(state, env),
          env,
          { eventId: fact.noticeId, date: fact.issuedOn, origin: fact.origin },
          0,
        ),
      );
    default: {
      const unknown: never = fact;
      throw new RangeError(`unknown member fact ${JSON.stringify(unknown)}`);
    }
  }
}

const sameOrigin = (a: Origin, b: Origin) =>
  a.topic === b.topic && a.partition === b.partition && a.offset === b.offset;

/** The same id again: a redelivery when read from the same input offset, else a second event with a used id. */
function seenBefore(
  origin: Origin | undefined,
  fact: Origin,
  field: string,
  what: string,
  id: string,
): Result<readonly MemberYearEvent[]> | undefined {
  if (origin === undefined) return undefined;
  if (sameOrigin(origin, fact)) return ok([]);
  return refuse(
    invalidInput(
      'DUPLICATE_EVENT',
      field,
      `${what} is applied once; this id was already applied from ${origin.topic} partition ${origin.partition} offset ${origin.offset}`,
      id,
    ),
  );
}

function decideCollection(
  state: MemberYear,
  fact: Extract<MemberFact, { type: 'premium-collected' }>,
  env: MemberYearEnv,
): Result<readonly MemberYearEvent[]> {
  const earlier = state.payments.find((p) => p.eventId === fact.eventId);
  const seen = seenBefore(earlier?.origin, fact.origin, 'eventId', 'a premium collection', fact.eventId);
  if (seen) return seen;
  const paid: MemberYearEvent = {
    type: 'premium-paid',
    payment: { eventId: fact.eventId, amount: fact.amount, paidOn: fact.paidOn, origin: fact.origin },
    enrolledOn: fact.enrolledOn,
  };
  return ok(
    withRebooking(state, paid, env, { eventId: fact.eventId, date: fact.paidOn, origin: fact.origin }),
  );
}

function decideCorrection(
  state: MemberYear,
  fact: Extract<MemberFact, { type: 'premium-corrected' }>,
  env: MemberYearEnv,
): Result<readonly MemberYearEvent[]> {
  const applied = state.corrections.find(([id]) => id === fact.eventId);
  const seen = seenBefore(applied?.[1], fact.origin, 'eventId', 'a premium correction', fact.eventId);
  if (seen) return seen;
  const original = state.payments.find((p) => p.eventId === fact.originalEventId);
  if (original === undefined) {
    return refuse(
      invalidInput(
        'UNKNOWN_PREMIUM_EVENT',
        'originalEventId',
        'a correction (冲正) corrects a collection of the same member, region and cover year that the hub has applied',
        fact.originalEventId,
      ),
    );
  }
  if (fact.correctedOn < original.paidOn) {
    return refuse(
      invalidInput(
        'CORRECTION_BEFORE_PAYMENT',
        'correctedOn',
        `must be on or after the corrected collection's payment date ${original.paidOn}`,
        fact.correctedOn,
      ),
    );
  }
  // No double counting: the difference is taken from the amount the hub holds now.
  if (fact.correctedAmount.eq(original.amount)) {
    return refuse(
      invalidInput(
        'CORRECTION_NO_CHANGE',
        'correctedAmount',
        `the collection already stands at ${original.amount.toFixed(2)}: nothing to correct`,
        fact.correctedAmount.toFixed(2),
      ),
    );
  }
  const corrected: MemberYearEvent = {
    type: 'premium-corrected',
    eventId: fact.eventId,
    originalEventId: fact.originalEventId,
    before: original.amount,
    after: fact.correctedAmount,
    correctedOn: fact.correctedOn,
    origin: fact.origin,
  };
  return ok(
    withRebooking(state, corrected, env, {
      eventId: fact.eventId,
      date: fact.correctedOn,
      origin: fact.origin,
    }),
  );
}

function decideClaim(
  state: MemberYear,
  claim: ArrivingClaim,
  env: MemberYearEnv,
): Result<readonly MemberYearEvent[]> {
  const earlier = state.claims.find((c) => c.id === claim.id);
  const what = claim.kind === 'manual' ? 'a manual claim' : 'a setl_id';
  const seen = seenBefore(
    earlier?.origin,
    claim.origin,
    claim.kind === 'manual' ? 'claimId' : 'settlementId',
    what,
    claim.id,
  );
  if (seen) return seen;
  if (claim.kind === 'reversal') {
    const refused = checkReversal(state, claim);
    if (refused) return refused;
  }
  const arrived: MemberYearEvent = { type: 'claim-arrived', claim };
  const next = evolveMemberYear(state, arrived);
  const index = next.claims.findIndex((c) => c.id === claim.id);
  const cause = { eventId: claim.id, date: claim.postedOn, origin: claim.origin };
  return ok([arrived, ...rebook(next, coverOf(next, env), env, cause, index)]);
}

/** A reversal undoes one settlement of the same member-year, once, and after it (schema hospital-settlement-reversal). */
function checkReversal(
  state: MemberYear,
  reversal: ArrivingClaim,
): Result<readonly MemberYearEvent[]> | undefined {
  const rule = (what: string) =>
    `schema hospital-settlement-reversal: a reversal carries the original settlement's ${what}`;
  const original = state.claims.find((c) => c.id === reversal.reverses);
  if (original === undefined) {
    return refuse(
      invalidInput(
        'UNKNOWN_SETTLEMENT',
        'originalSettlementId',
        'a reversal undoes a settlement of the same member, region and insurance year that the hub has applied; none has this setl_id',
        reversal.reverses ?? '',
      ),
    );
  }
  const mismatch = (field: string, why: string, value?: string) =>
    refuse<readonly MemberYearEvent[]>(invalidInput('REVERSAL_MISMATCH', field, why, value));
  if (original.kind !== 'settlement') {
    return mismatch(
      'originalSettlementId',
      'a reversal undoes a direct settlement, not a reversal or a manual claim',
      original.id,
    );
  }
  if (original.reversedBy !== null) {
    return refuse(
      invalidInput(
        'ALREADY_REVERSED',
        'originalSettlementId',
        `a settlement is reversed once; this one was by ${original.reversedBy}`,
        original.id,
      ),
    );
  }
  if (original.hospitalCode !== reversal.hospitalCode)
    return mismatch('hospitalCode', rule('hospital'), reversal.hospitalCode ?? '');
  if (original.serviceDate !== reversal.serviceDate)
    return mismatch('serviceDate', rule('service date'), reversal.serviceDate);
  if (!reversal.figures.basicFundPaid.eq(original.figures.basicFundPaid.negated())) {
    return mismatch(
      'basicFundPaid',
      rule('hifp_pay with the opposite sign'),
      reversal.figures.basicFundPaid.toFixed(2),
    );
  }
  if (!reversal.claimed.eq(original.claimed.negated())) {
    return mismatch(
      'supplementClaimed',
      rule('hifob_pay with the opposite sign'),
      reversal.claimed.toFixed(2),
    );
  }
  if (reversal.at < original.at) {
    return mismatch(
      'reversedAt',
      `a reversal comes after the settlement it reverses (settled ${new Date(original.at).toISOString()})`,
      new Date(reversal.at).toISOString(),
    );
  }
  return undefined;
}

/** A premium event, then the bookings its change of cover calls for. */
function withRebooking(
  state: MemberYear,
  event: MemberYearEvent,
  env: MemberYearEnv,
  cause: Cause,
): MemberYearEvent[] {
  const before = coverOf(state, env);
  const next = evolveMemberYear(state, event);
  const after = coverOf(next, env);
  return after.state === before.state ? [event] : [event, ...rebook(next, after, env, cause, 0)];
}

// ─── Cover ─────────────────────────────────────────────────────────────────────────────────────────

export interface Cover {
  readonly state: CoverState;
  readonly eligibility: EligibilityDecision;
}

/** Cover from the payments; not covered is final only once the end-of-collection notice was seen. */
export function coverOf(state: MemberYear, env: MemberYearEnv): Cover {
  // Cover changes only with the payments, the enrolment date or the notice: decided once per such state.
  const key = `${state.enrolledOn ?? ''}|${env.collectionClosed}|${state.year}|${env.coverParams.region.code}`;
  const known = coverMemo.get(state.payments)?.get(key);
  if (known !== undefined) return known;
  const eligibility = decideEligibility({
    params: env.coverParams,
    year: state.year,
    enrolledOn: state.enrolledOn,
    payments: state.payments,
    explain: false,
  });
  const cover: Cover = eligibility.covered
    ? { state: 'covered', eligibility }
    : { state: env.collectionClosed ? 'not-covered' : 'pending', eligibility };
  const memo = coverMemo.get(state.payments) ?? new Map<string, Cover>();
  memo.set(key, cover);
  coverMemo.set(state.payments, memo);
  return cover;
}

const coverMemo = new WeakMap<readonly Payment[], Map<string, Cover>>();

// ─── Booking ───────────────────────────────────────────────────────────────────────────────────────

type Decision =
  | { readonly state: 'held' }
  | { readonly state: 'decided'; readonly due: Money; readonly flags: readonly SupplementFlag[] };

interface Target {
  readonly booking: Decision;
  readonly basis: BookingBasis;
}

const sameBooking = (a: Booking, b: Decision): boolean => {
  if (a.state === 'held' || b.state === 'held') return a.state === b.state;
  // A change of flags alone (a reason, not an amount) is not booked again, except whether the member was covered.
  return a.due.eq(b.due) && a.flags.includes('NOT_COVERED') === b.flags.includes('NOT_COVERED');
};

const NOTHING_YET: YearToDate = { basicFundPaid: ZERO, supplementPaid: ZERO };

/** What a claim adds to the year-to-date: a decided claim its basic-fund payment and its due. */
function contribution(claim: Claim): YearToDate {
  return claim.booking.state === 'decided'
    ? { basicFundPaid: claim.figures.basicFundPaid, supplementPaid: claim.booking.due }
    : NOTHING_YET;
}

// The year-to-date of all of a claims list, kept per list: evolve derives the next list's total from
// the previous one, so a fact that adds a claim at the end does not sum the member's whole year again.
const totals = new WeakMap<readonly Claim[], YearToDate>();

function totalOf(claims: readonly Claim[]): YearToDate {
  let total = totals.get(claims);
  if (total === undefined) {
    total = NOTHING_YET;
    for (const claim of claims) total = addYearToDate(total, contribution(claim));
    totals.set(claims, total);
  }
  return total;
}

/** The year-to-date before the claim at `index`: the list's total when every claim from there on adds nothing yet. */
function ytdBefore(claims: readonly Claim[], index: number): YearToDate {
  let laterAddNothing = true;
  for (let i = index; i < claims.length && laterAddNothing; i++) {
    laterAddNothing = (claims[i] as Claim).booking.state !== 'decided';
  }
  if (laterAddNothing) return totalOf(claims);
  let ytd = NOTHING_YET;
  for (let i = 0; i < index; i++) ytd = addYearToDate(ytd, contribution(claims[i] as Claim));
  return ytd;
}

/**
 * Decides the claims from `from` on (the earlier ones keep their bookings) and books those whose
 * booking changes. A new claim is always booked.
 */
function rebook(
  state: MemberYear,
  cover: Cover,
  env: MemberYearEnv,
  cause: Cause,
  from: number,
): MemberYearEvent[] {
  const events: MemberYearEvent[] = [];
  let ytd = ytdBefore(state.claims, from);
  // The bookings decided in this pass; an earlier claim's stands in the state (a reversal looks its settlement up).
  const decided = new Map<string, Extract<Decision, { state: 'decided' }>>();
  const bookingOf = (id: string) => {
    const now = decided.get(id);
    if (now !== undefined) return now;
    const booking = state.claims.find((c) => c.id === id)?.booking;
    return booking?.state === 'decided' ? booking : undefined;
  };
  for (let i = from; i < state.claims.length; i++) {
    const claim = state.claims[i] as Claim;
    const target = targetOf(claim, cover, ytd, env, bookingOf);
    const decision = target.booking;
    if (decision.state === 'decided') {
      decided.set(claim.id, decision);
      ytd = addYearToDate(ytd, { basicFundPaid: claim.figures.basicFundPaid, supplementPaid: decision.due });
    }
    const isNew = claim.booking.revision < 0;
    if (!isNew && sameBooking(claim.booking, decision)) continue;
    const revision = claim.booking.revision + 1;
    const postingId = bookingPostingId(claim, isNew ? null : claim.booking, decision, revision);
    const booking: Booking =
      decision.state === 'held'
        ? { state: 'held', revision, postingId }
        : { ...decision, revision, postingId };
    events.push({
      type: 'claim-booked',
      claimId: claim.id,
      from: isNew ? null : claim.booking,
      to: booking,
      basis: target.basis,
      cause: isNew ? null : cause,
    });
  }
  return events;
}

function targetOf(
  claim: Claim,
  cover: Cover,
  ytd: YearToDate,
  env: MemberYearEnv,
  decidedBooking: (claimId: string) => Extract<Decision, { state: 'decided' }> | undefined,
): Target {
  const basis: BookingBasis = { cover: cover.state, ytdBefore: ytd };
  if (cover.state === 'pending') return { booking: { state: 'held' }, basis };
  if (claim.kind === 'reversal') {
    // A reversal applies its settlement's booking with the opposite sign, so the year-to-date returns.
    const original = decidedBooking(claim.reverses ?? '');
    const due = (original?.due ?? ZERO).negated();
    // It keeps the settlement's NOT_COVERED, so the member-year's reconciliation nets the two.
    const flags = original?.flags.includes('NOT_COVERED') ? (['NOT_COVERED'] as const) : [];
    return { booking: { state: 'decided', due, flags }, basis };
  }
  const decision = decideSupplement({
    params: env.paramsOn(claim.serviceDate),
    explain: false,
    eligible: cover.state === 'covered',
    ytd,
    claim: claim.figures,
  });
  return { booking: { state: 'decided', due: decision.due, flags: decision.flags }, basis };
}

const addYearToDate = (a: YearToDate, b: YearToDate): YearToDate => ({
  basicFundPaid: a.basicFundPaid.plus(b.basicFundPaid),
  supplementPaid: a.supplementPaid.plus(b.supplementPaid),
});

// ─── Evolve ────────────────────────────────────────────────────────────────────────────────────────

/** Where a claim enters the year-to-date: its instant, then settlements before reversals before manual claims, then id. */
export function compareClaims(
  a: Pick<Claim, 'at' | 'kind' | 'id'>,
  b: Pick<Claim, 'at' | 'kind' | 'id'>,
): number {
  if (a.at !== b.at) return a.at - b.at;
  const rank = { settlement: 0, reversal: 1, manual: 2 } as const;
  if (rank[a.kind] !== rank[b.kind]) return rank[a.kind] - rank[b.kind];
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Payments in a fixed order, so the state reads the same after a trip through Redis. */
export function comparePayments(a: Payment, b: Payment): number {
  if (a.paidOn !== b.paidOn) return a.paidOn < b.paidOn ? -1 : 1;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** A manual claim enters the year-to-date at the end of the day it was paid, after that day's settlements. */
export function manualClaimInstant(paidOn: LocalDate): number {
  return chinaMidnight(addDays(paidOn, 1)).getTime() - 1;
}

// decide evolves a state by an event to look ahead, the caller folds the same events, and rendering
// folds them once more: each (state, event) is applied once.
const evolved = new WeakMap<MemberYearEvent, { readonly from: MemberYear; readonly to: MemberYear }>();

export function evolveMemberYear(state: MemberYear, event: MemberYearEvent): MemberYear {
  const known = evolved.get(event);
  if (known !== undefined && known.from === state) return known.to;
  const next = apply(state, event);
  evolved.set(event, { from: state, to: next });
  return next;
}

/** The claims with `claim` in its canonical place (most arrive last); the settlement it reverses marked. */
function withClaim(claims: readonly Claim[], claim: Claim): Claim[] {
  let at = claims.length;
  while (at > 0 && compareClaims(claims[at - 1] as Claim, claim) > 0) at -= 1;
  const next = [...claims.slice(0, at), claim, ...claims.slice(at)];
  if (claim.reverses === null) return next;
  return next.map((c) => (c.id === claim.reverses ? { ...c, reversedBy: claim.id } : c));
}

function apply(state: MemberYear, event: MemberYearEvent): MemberYear {
  switch (event.type) {
    case 'premium-paid':
      return {
        ...state,
        // The newest enrolment date the tax authority reports wins; a payment without one keeps the known date.
        enrolledOn: event.enrolledOn ?? state.enrolledOn,
        payments: [...state.payments, event.payment].sort(comparePayments),
        sequence: state.sequence + 1,
      };
    case 'premium-corrected':
      return {
        ...state,
        payments: state.payments.map((p) =>
          p.eventId === event.originalEventId ? { ...p, amount: event.after } : p,
        ),
        corrections: [...state.corrections, [event.eventId, event.origin] as const],
        sequence: state.sequence + 1,
      };
    case 'claim-arrived': {
      // A claim is booked as it arrives (revision 0): until then it carries revision −1.
      const claim: Claim = {
        ...event.claim,
        reversedBy: null,
        booking: { state: 'held', revision: -1, postingId: '' },
      };
      const claims = withClaim(state.claims, claim);
      // A claim arrives held (it adds nothing), and marking a settlement reversed changes no amount.
      const total = totals.get(state.claims);
      if (total !== undefined) totals.set(claims, total);
      return { ...state, claims };
    }
    case 'claim-booked': {
      let before: Claim | undefined;
      let after: Claim | undefined;
      const claims = state.claims.map((c) => {
        if (c.id !== event.claimId) return c;
        before = c;
        after = { ...c, booking: event.to };
        return after;
      });
      const total = totals.get(state.claims);
      if (total !== undefined && before !== undefined && after !== undefined) {
        const was = contribution(before);
        const is = contribution(after);
        totals.set(claims, {
          basicFundPaid: total.basicFundPaid.minus(was.basicFundPaid).plus(is.basicFundPaid),
          supplementPaid: total.supplementPaid.minus(was.supplementPaid).plus(is.supplementPaid),
        });
      }
      return { ...state, claims, sequence: state.sequence + 1 };
    }
    default: {
      const unknown: never = event;
      throw new RangeError(`unknown member-year event ${JSON.stringify(unknown)}`);
    }
  }
}

/** The posting kind a booking change is written as (ledger-posting.avsc PostingKind). */
export function bookingKind(claim: Pick<Claim, 'kind'>, from: Booking | null, to: Decision): PostingKind {
  const direct = claim.kind !== 'manual';
  if (from === null) {
    if (claim.kind === 'reversal') return 'SETTLEMENT_REVERSED';
    if (to.state === 'held') return direct ? 'SETTLEMENT_HELD' : 'MANUAL_REIMBURSEMENT_HELD';
    return direct ? 'SETTLEMENT_APPLIED' : 'MANUAL_REIMBURSEMENT';
  }
  if (to.state === 'held') return direct ? 'SETTLEMENT_HELD' : 'MANUAL_REIMBURSEMENT_HELD';
  if (from.state === 'held') return direct ? 'SETTLEMENT_RELEASED' : 'MANUAL_REIMBURSEMENT_RELEASED';
  return direct ? 'SETTLEMENT_REDECIDED' : 'MANUAL_REIMBURSEMENT_REDECIDED';
}

/** "<kind>:<claim id>" for the claim's own posting, "<kind>:<claim id>:<revision>" for a later one. */
function bookingPostingId(claim: Claim, from: Booking | null, to: Decision, revision: number): string {
  const kind = bookingKind(claim, from, to);
  return revision === 0 ? `${kind}:${claim.id}` : `${kind}:${claim.id}:${revision}`;
}

/** Claims whose cover is not yet decided: the member-year waits for its premium or the notice. */
export const hasHeldClaims = (state: MemberYear): boolean =>
  state.claims.some((c) => c.booking.state === 'held');

/** Σ of the payments, for descriptions. */
export const paidTotal = (state: MemberYear): Money => sumMoney(state.payments.map((p) => p.amount));
