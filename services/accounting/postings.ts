/**
 * The ledger postings the accounting service writes, rendered from its decisions (pure). Rendering
 * never refuses and never changes a decision: it only says, in double entry and in words, what was
 * decided. A rebuild replays decisions without rendering them.
 */
import { balancedPosting } from '../../shared/ledger.js';
import { formatMoney, type Money, ZERO } from '../../shared/money.js';
import { firstDayOfMonth, localDate } from '../../shared/policy/dates.js';
import { decideEligibility, type EligibilityDecision } from '../../shared/policy/eligibility.js';
import { formatRatio, type PolicyParams } from '../../shared/policy/params.js';
import { decideSupplement, type SupplementDecision } from '../../shared/policy/supplement.js';
import { cite } from '../../shared/policy/trail.js';
import {
  LEDGER_ACCOUNTS,
  type LedgerAccount,
  type LedgerFlag,
  type LedgerLine,
  type LedgerPosting,
  type PostingKind,
} from '../../shared/records.js';
import {
  type Booking,
  bookingKind,
  type Claim,
  type Cover,
  coverOf,
  evolveMemberYear,
  type MemberYear,
  type MemberYearEnv,
  type MemberYearEvent,
  type Origin,
} from './member-year.js';

/**
 * The parameter version applied, "<region>@<date>": the latest effective date among the parameters in
 * force, so two postings under the same values carry the same id (ledger-posting.avsc policyVersion).
 */
export function policyVersionOf(params: PolicyParams): string {
  const known = versions.get(params);
  if (known !== undefined) return known;
  let latest = params.region.document.effectiveFrom as string;
  for (const provenance of Object.values(params.provenance)) {
    if (provenance.effectiveFrom > latest) latest = provenance.effectiveFrom;
  }
  const version = `${params.region.code}@${latest}`;
  versions.set(params, version);
  return version;
}

const versions = new WeakMap<PolicyParams, string>();

type Amounts = Partial<Record<LedgerAccount, Money>>;

/** Signed amounts per account (debit positive) as lines, in the ledger's account order. */
function linesOf(amounts: Amounts): LedgerLine[] {
  const lines: LedgerLine[] = [];
  for (const account of LEDGER_ACCOUNTS) {
    const amount = amounts[account];
    if (amount === undefined || amount.isZero()) continue;
    lines.push({ account, direction: amount.isNegative() ? 'CREDIT' : 'DEBIT', amount: amount.abs() });
  }
  return lines;
}

/**
 * What the ledger holds for a claim in a booking. A direct settlement owes the hospital its claim in full
 * (HOSPITAL_PAYABLE); a manual claim was paid to the member (FUND_BANK). Decided, the due is expense and
 * claimed − due is variance in suspense until reconciled, never corrected silently; held, the whole claim
 * waits in COVER_PENDING_SUSPENSE until the member-year's cover is decided.
 */
function effect(claim: Claim, booking: Booking | null): Amounts {
  if (booking === null) return {};
  const counterparty: LedgerAccount = claim.kind === 'manual' ? 'FUND_BANK' : 'HOSPITAL_PAYABLE';
  const expense: LedgerAccount = claim.kind === 'manual' ? 'MANUAL_CLAIMS_EXPENSE' : 'DIRECT_CLAIMS_EXPENSE';
  const claimed = claim.claimed;
  if (booking.state === 'held') return { COVER_PENDING_SUSPENSE: claimed, [counterparty]: claimed.negated() };
  return {
    [expense]: booking.due,
    CLAIM_VARIANCE_SUSPENSE: claimed.minus(booking.due),
    [counterparty]: claimed.negated(),
  };
}

function difference(after: Amounts, before: Amounts): Amounts {
  const out: Amounts = {};
  for (const account of LEDGER_ACCOUNTS) {
    const value = (after[account] ?? ZERO).minus(before[account] ?? ZERO);
    if (!value.isZero()) out[account] = value;
  }
  return out;
}

/** What the member-year's events write on the ledger, in order, numbered from the state's sequence. */
export function memberYearPostings(
  before: MemberYear,
  events: readonly MemberYearEvent[],
  env: MemberYearEnv,
): LedgerPosting[] {
  const postings: LedgerPosting[] = [];
  let state = before;
  for (const event of events) {
    const next = evolveMemberYear(state, event);
    const sequence = state.sequence + 1;
    switch (event.type) {
      case 'premium-paid':
        postings.push(
          premiumPosting(
            next,
            'PREMIUM_COLLECTED',
            event.payment.eventId,
            event.payment.amount,
            event.payment.paidOn,
            event.payment.origin,
            env,
            sequence,
            `premium ${formatMoney(event.payment.amount)} paid ${event.payment.paidOn} for cover year ${next.year}`,
          ),
        );
        break;
      case 'premium-corrected': {
        const change = event.after.minus(event.before);
        postings.push(
          premiumPosting(
            next,
            'PREMIUM_CORRECTED',
            event.eventId,
            change,
            event.correctedOn,
            event.origin,
            env,
            sequence,
            `tax correction (冲正) of ${event.originalEventId}: ${formatMoney(event.before)} → ${formatMoney(event.after)} (${change.isNegative() ? '' : '+'}${formatMoney(change)}); ` +
              `a correction of what was collected, not a refund: premiums are not refunded (${cite(env.coverParams, ['premiumRefundable'])})`,
          ),
        );
        break;
      }
      case 'claim-booked':
        postings.push(claimPosting(next, event, env, sequence));
        break;
      case 'claim-arrived':
        break;
      default: {
        const unknown: never = event;
        throw new RangeError(`unknown member-year event ${JSON.stringify(unknown)}`);
      }
    }
    state = next;
  }
  return postings;
}

const originFields = (
  origin: Origin,
): Pick<LedgerPosting, 'sourceTopic' | 'sourcePartition' | 'sourceOffset'> => ({
  sourceTopic: origin.topic,
  sourcePartition: origin.partition,
  sourceOffset: origin.offset,
});

const NO_ADJUSTMENT = {
  revision: 0,
  relatedPostingId: null,
  causeEventId: null,
  causeDate: null,
  settlementIds: [],
  receivedOn: null,
};

function premiumPosting(
  state: MemberYear,
  kind: 'PREMIUM_COLLECTED' | 'PREMIUM_CORRECTED',
  eventId: string,
  amount: Money,
  postingDate: string,
  origin: Origin,
  env: MemberYearEnv,
  sequence: number,
  what: string,
): LedgerPosting {
  const cover = coverOf(state, env);
  const eligibility = decideEligibility({
    params: env.coverParams,
    year: state.year,
    enrolledOn: state.enrolledOn,
    payments: state.payments,
  });
  return balancedPosting({
    postingId: `${kind}:${eventId}`,
    sourceEventId: eventId,
    ...originFields(origin),
    regionCode: state.region,
    insuranceYear: state.year,
    postingDate: localDate(postingDate),
    kind,
    lines: linesOf({ FUND_BANK: amount, PREMIUM_INCOME: amount.negated() }),
    memberPseudonym: state.pseudonym,
    hospitalCode: null,
    serviceDate: null,
    claimedAmount: null,
    dueAmount: null,
    policyVersion: policyVersionOf(env.coverParams),
    description: `${what}; ${describeCover(env.coverParams, cover.state, eligibility)}`,
    // ledger-posting.avsc flags: why a member-year is not covered (LATE, PARTIAL, EARLY, NOT_PAID).
    flags: cover.eligibility.covered ? [] : [cover.eligibility.reason],
    sequence,
    ...NO_ADJUSTMENT,
  });
}

/** The cover outcome in words, with the article behind it; never personal data. */
function describeCover(params: PolicyParams, state: Cover['state'], e: EligibilityDecision): string {
  const cover = { state };
  const last = e.trail.at(-1);
  const why = last === undefined ? '' : `: ${last.detail} (${last.article})`;
  const outcome =
    cover.state === 'covered' ? 'covered' : cover.state === 'pending' ? 'not yet covered' : 'not covered';
  const income =
    cover.state === 'covered'
      ? ''
      : `; income recorded all the same, premiums are not refunded (${cite(params, ['premiumRefundable'])})`;
  return (
    `member-year ${e.year} ${e.reason} (${outcome})${why}; ` +
    `paid ${formatMoney(e.paidTotal)}, in window ${e.window.opensOn}–${e.window.closesOn} ` +
    `${formatMoney(e.paidInWindow)} of ${formatMoney(e.premiumDue)} due${income}`
  );
}

function claimPosting(
  state: MemberYear,
  event: Extract<MemberYearEvent, { type: 'claim-booked' }>,
  env: MemberYearEnv,
  sequence: number,
): LedgerPosting {
  const claim = state.claims.find((c) => c.id === event.claimId);
  if (claim === undefined)
    throw new Error(`accounting: booked claim ${event.claimId} is not in its member-year`);
  const params = env.paramsOn(claim.serviceDate);
  const to = event.to;
  const kind: PostingKind = bookingKind(claim, event.from, to);
  const flags: LedgerFlag[] = to.state === 'held' ? ['COVER_PENDING'] : [...to.flags];
  if (claim.kind === 'reversal') flags.push('REVERSAL');
  if (claim.manual !== null) {
    if (!claim.manual.sla.withinSla) flags.push('SLA_BREACHED');
    if (!claim.manual.sla.withinDeadline) flags.push('PAST_DEADLINE');
  }
  const cause = event.cause;
  return balancedPosting({
    postingId: to.postingId,
    sourceEventId: claim.id,
    ...originFields(cause?.origin ?? claim.origin),
    regionCode: state.region,
    insuranceYear: state.year,
    // The claim's own day, however late it is booked: a released claim counts in its settlement's period.
    postingDate: claim.postedOn,
    kind,
    lines: linesOf(difference(effect(claim, to), effect(claim, event.from))),
    memberPseudonym: state.pseudonym,
    hospitalCode: claim.hospitalCode,
    serviceDate: claim.serviceDate,
    claimedAmount: claim.claimed,
    dueAmount: to.state === 'decided' ? to.due : null,
    policyVersion: policyVersionOf(params),
    description: describeBooking(state, claim, event, params, env),
    flags: [...new Set(flags)],
    sequence,
    revision: to.revision,
    relatedPostingId: event.from?.postingId ?? null,
    causeEventId: cause?.eventId ?? null,
    causeDate: cause?.date ?? null,
    settlementIds: [],
    receivedOn: claim.manual?.receivedOn ?? null,
  });
}

/** A compact account of the booking: why it changed, and the rule trail of the decision. No personal data. */
function describeBooking(
  state: MemberYear,
  claim: Claim,
  event: Extract<MemberYearEvent, { type: 'claim-booked' }>,
  params: PolicyParams,
  env: MemberYearEnv,
): string {
  const parts: string[] = [];
  const cause = event.cause;
  if (cause !== null && event.from !== null) {
    const before = event.from.state === 'held' ? 'held' : `due ${formatMoney(event.from.due)}`;
    parts.push(
      `booked again after ${cause.eventId} (${cause.date}): was ${before} [${event.from.postingId}]`,
    );
  }
  const to = event.to;
  if (to.state === 'held') {
    const window = coverOf(state, env).eligibility.window;
    parts.push(
      `the ${state.year} cover is not yet decided: the premium window ${window.opensOn}–${window.closesOn} may still bring it ` +
        `(${cite(env.coverParams, ['premiumWindow'])}); claimed ${formatMoney(claim.claimed)} held in suspense`,
    );
    return parts.join('; ');
  }
  if (claim.kind === 'reversal') {
    parts.push(
      `reverses ${claim.reverses ?? ''}: basic fund ${formatMoney(claim.figures.basicFundPaid)}, supplement ${formatMoney(to.due)}, ` +
        `the settlement's booking with the opposite sign`,
    );
    return parts.join('; ');
  }
  const decision = decideSupplement({
    params,
    eligible: event.basis.cover === 'covered',
    ytd: event.basis.ytdBefore,
    claim: claim.figures,
  });
  if (event.basis.cover === 'not-covered') parts.push(`not covered for ${state.year}: nothing due`);
  for (const step of decision.trail) {
    const text = briefStep(step.rule, step.detail, decision, params);
    if (text !== undefined) parts.push(`${text} [${step.article}]`);
  }
  if (claim.manual !== null) {
    const m = claim.manual;
    parts.push(
      `received ${m.receivedOn}, paid ${m.paidOn}: ${m.sla.workingDays} working days (limit ${params.manualClaim.workingDays}: ` +
        `${m.sla.withinSla ? 'within SLA' : 'SLA missed'}); deadline ${m.sla.deadline} ${m.sla.withinDeadline ? 'met' : 'missed'} ` +
        `(${cite(params, ['manualClaim'])})`,
    );
  }
  const paid = claim.kind === 'manual' ? 'paid' : 'claimed';
  parts.push(
    `due ${formatMoney(to.due)}, ${paid} ${formatMoney(claim.claimed)}, variance ${formatMoney(claim.claimed.minus(to.due))}`,
  );
  return parts.join('; ');
}

function briefStep(
  rule: string,
  detail: string,
  decision: SupplementDecision,
  params: PolicyParams,
): string | undefined {
  switch (rule) {
    case 'medical-type':
    case 'basic-cap-reached':
    case 'fen-rounding':
    case 'annual-cap':
      return detail;
    case 'supplement-ratio':
      return decision.flags.includes('REFERRAL_PENALTY_APPLIED')
        ? `ratio ${formatRatio(decision.ratio)} (${formatRatio(params.supplementRatio)} less ${formatRatio(params.referralPenalty)} referral penalty)`
        : `ratio ${formatRatio(decision.ratio)}`;
    default:
      return undefined;
  }
}

// ─── Hospitals and regions ─────────────────────────────────────────────────────────────────────────

export interface PayoutPostingInput {
  readonly payoutId: string;
  readonly region: string;
  readonly hospitalCode: string;
  readonly month: string;
  readonly insuranceYear: number;
  readonly amount: Money;
  readonly paidOn: string;
  readonly settlementIds: readonly string[];
  readonly origin: Origin;
  readonly params: PolicyParams;
  readonly sequence: number;
}

/** 承办机构按月结算 (Dehong art. 15): cash to the hospital; what was due is the reconciler's question. */
export function hospitalPayoutPosting(p: PayoutPostingInput): LedgerPosting {
  return balancedPosting({
    postingId: `HOSPITAL_MONTH_SETTLED:${p.payoutId}`,
    sourceEventId: p.payoutId,
    ...originFields(p.origin),
    regionCode: p.region,
    insuranceYear: p.insuranceYear,
    postingDate: localDate(p.paidOn),
    kind: 'HOSPITAL_MONTH_SETTLED',
    lines: linesOf({ HOSPITAL_PAYABLE: p.amount, FUND_BANK: p.amount.negated() }),
    memberPseudonym: null,
    hospitalCode: p.hospitalCode,
    // The month settled, as its first day: the reconciler matches it with the settlements' months.
    serviceDate: firstDayOfMonth(p.month),
    claimedAmount: p.amount,
    dueAmount: null,
    policyVersion: policyVersionOf(p.params),
    description:
      `insurer paid ${p.hospitalCode} ${formatMoney(p.amount)} for ${p.month} (${cite(p.params, ['insurerSettlementCycle'])}): ` +
      `${p.settlementIds.length} settlements listed`,
    flags: [],
    sequence: p.sequence,
    ...NO_ADJUSTMENT,
    settlementIds: [...p.settlementIds],
  });
}

export interface CostPostingInput {
  readonly costId: string;
  readonly region: string;
  readonly period: string;
  readonly insuranceYear: number;
  readonly category: string;
  readonly amount: Money;
  readonly recordedOn: string;
  readonly origin: Origin;
  readonly params: PolicyParams;
  readonly sequence: number;
}

/** 经办费用 (Dehong art. 21): charged to the fund; a credit note (negative) gives it back. */
export function operatingCostPosting(p: CostPostingInput): LedgerPosting {
  return balancedPosting({
    postingId: `OPERATING_COST:${p.costId}`,
    sourceEventId: p.costId,
    ...originFields(p.origin),
    regionCode: p.region,
    insuranceYear: p.insuranceYear,
    postingDate: localDate(p.recordedOn),
    kind: 'OPERATING_COST',
    lines: linesOf({ OPERATING_COST_EXPENSE: p.amount, FUND_BANK: p.amount.negated() }),
    memberPseudonym: null,
    hospitalCode: null,
    serviceDate: null,
    claimedAmount: null,
    dueAmount: null,
    policyVersion: policyVersionOf(p.params),
    description: `${p.amount.isNegative() ? 'credit note for ' : ''}operating cost ${p.category} for ${p.period}: ${formatMoney(p.amount)} (${cite(p.params, ['operatingCostCeiling'])})`,
    flags: [],
    sequence: p.sequence,
    ...NO_ADJUSTMENT,
  });
}
