/**
 * Reconciler, member stage (ledger → reconciliation), pure. It keeps the items a member's postings
 * decide, in the member's own ledger partition:
 * - MEMBER_YEAR: claims of a member-year that waited for cover or were decided without it;
 * - MANUAL_CLAIM: a manual reimbursement's due against what was paid, and when (Dehong art. 16);
 * and forwards every direct settlement's state and every insurer payment, re-keyed by hospital, to the
 * hospital stage (services/hospital-reconciler), which reconciles hospital-months in one partition.
 * Each item is a function of the latest booking of each of its claims (a later revision replaces an
 * earlier one, a copy of the same revision changes nothing). A claim's postings reach the item in
 * revision order (they share the member's ledger partition), so however the members' postings
 * interleave, the item ends the same.
 */
import { ConfigError, invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { formatMoney, sumMoney, ZERO } from '../../shared/money.js';
import { type LocalDate, parseLocalDate } from '../../shared/policy/dates.js';
import { regionParamsOn, regionPolicy } from '../../shared/policy/regions.js';
import { cite } from '../../shared/policy/trail.js';
import { manualClaimDeadline, workingDayAfter } from '../../shared/policy/workingDays.js';
import {
  COUNTERS,
  countersId,
  earlierDate,
  eventDateOf,
  type ItemView,
  itemIds,
  publishItem,
  timesWith,
} from '../../shared/reconciliation.js';
import type {
  HospitalMonthChange,
  LedgerPosting,
  PostingKind,
  ReconciliationStatus,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import {
  type Decided,
  decided,
  type EntityRef,
  type EntityStore,
  entity,
  type Output,
} from '../../shared/runner/service.js';
import { type Topics, unexpectedRecord } from '../../shared/topics.js';
import {
  MANUAL_CLAIM_ITEM,
  type ManualClaimItem,
  MEMBER_YEAR_ITEM,
  type MemberYearItem,
  type TrackedClaim,
} from './items.js';

// Typed, so a posting kind misspelt here fails to compile instead of never matching.
const SETTLEMENT_KINDS: ReadonlySet<PostingKind> = new Set<PostingKind>([
  'SETTLEMENT_APPLIED',
  'SETTLEMENT_REVERSED',
  'SETTLEMENT_HELD',
  'SETTLEMENT_RELEASED',
  'SETTLEMENT_REDECIDED',
]);
const MANUAL_KINDS: ReadonlySet<PostingKind> = new Set<PostingKind>([
  'MANUAL_REIMBURSEMENT',
  'MANUAL_REIMBURSEMENT_HELD',
  'MANUAL_REIMBURSEMENT_RELEASED',
  'MANUAL_REIMBURSEMENT_REDECIDED',
]);

// ─── Parse ─────────────────────────────────────────────────────────────────────────────────────────

/** Accepts a ledger posting whose dates and region the reconciler can work with. */
export function parsePosting(decoded: DecodedValue, topics: Topics): Result<LedgerPosting> {
  if (decoded.record !== 'ledger-posting') {
    return refuse(unexpectedRecord(topics.ledger, decoded.record));
  }
  const posting = decoded.value;
  if (posting.postingId.trim() === '') {
    return refuse(invalidInput('POSTING_ID_EMPTY', 'postingId', 'a posting id is the event id'));
  }
  for (const field of ['postingDate', 'serviceDate', 'causeDate', 'receivedOn'] as const) {
    const value = posting[field];
    if (value !== null && parseLocalDate(value) === undefined) {
      return refuse(invalidInput('INVALID_DATE', field, 'a calendar date', value));
    }
  }
  const region = regionPolicy(posting.regionCode);
  if (!region.ok) return refuse({ ...region.error, field: 'regionCode' });
  const needs = (field: 'memberPseudonym' | 'hospitalCode' | 'serviceDate' | 'claimedAmount') =>
    posting[field] === null
      ? refuse<LedgerPosting>(
          invalidInput(
            'POSTING_INCOMPLETE',
            field,
            `ledger-posting.avsc: a ${posting.kind} posting carries ${field}`,
            posting.postingId,
          ),
        )
      : undefined;
  if (SETTLEMENT_KINDS.has(posting.kind)) {
    const missing =
      needs('memberPseudonym') ?? needs('hospitalCode') ?? needs('serviceDate') ?? needs('claimedAmount');
    if (missing) return missing;
  }
  if (MANUAL_KINDS.has(posting.kind)) {
    const missing = needs('memberPseudonym') ?? needs('serviceDate') ?? needs('claimedAmount');
    if (missing) return missing;
  }
  if (posting.kind === 'HOSPITAL_MONTH_SETTLED') {
    const missing = needs('hospitalCode') ?? needs('serviceDate') ?? needs('claimedAmount');
    if (missing) return missing;
  }
  return ok(posting);
}

// ─── Entities ──────────────────────────────────────────────────────────────────────────────────────

const memberYearItemId = (p: LedgerPosting) => `${p.regionCode}:${p.insuranceYear}:${p.memberPseudonym}`;
const manualItemId = (p: LedgerPosting) => `${p.regionCode}:${p.sourceEventId}`;

export function reconcilerEntitiesOf(posting: LedgerPosting): readonly EntityRef[] {
  const counters = entity(COUNTERS, countersId(posting.regionCode, posting.insuranceYear));
  if (SETTLEMENT_KINDS.has(posting.kind))
    return [entity(MEMBER_YEAR_ITEM, memberYearItemId(posting)), counters];
  if (MANUAL_KINDS.has(posting.kind)) return [entity(MANUAL_CLAIM_ITEM, manualItemId(posting)), counters];
  return [];
}

// ─── Decide ────────────────────────────────────────────────────────────────────────────────────────

export function decideReconciliation(
  posting: LedgerPosting,
  store: EntityStore,
  topics: Topics,
): Result<Decided> {
  const outputs: Output[] = [];
  if (SETTLEMENT_KINDS.has(posting.kind)) {
    outputs.push(hospitalChange(posting, claimChange(posting), topics));
    const published = updateMemberYear(store, posting, topics);
    if (published) outputs.push(published);
  } else if (MANUAL_KINDS.has(posting.kind)) {
    const published = updateManualClaim(store, posting, topics);
    if (published) outputs.push(published);
  } else if (posting.kind === 'HOSPITAL_MONTH_SETTLED') {
    outputs.push(hospitalChange(posting, paymentChange(posting), topics));
  }
  return ok(decided(outputs));
}

type ChangeBody = Omit<
  HospitalMonthChange,
  'changeId' | 'regionCode' | 'hospitalCode' | 'month' | 'insuranceYear' | 'eventDate'
>;

function claimChange(p: LedgerPosting): ChangeBody {
  return {
    kind: 'CLAIM',
    claimId: p.sourceEventId,
    revision: p.revision,
    reversal: p.kind === 'SETTLEMENT_REVERSED' || (p.flags ?? []).includes('REVERSAL'),
    held: p.dueAmount === null,
    claimedAmount: p.claimedAmount,
    dueAmount: p.dueAmount,
    paidAmount: null,
    settlementIds: [],
  };
}

function paymentChange(p: LedgerPosting): ChangeBody {
  return {
    kind: 'PAYMENT',
    claimId: null,
    revision: 0,
    reversal: false,
    held: false,
    claimedAmount: null,
    dueAmount: null,
    paidAmount: p.claimedAmount,
    settlementIds: [...p.settlementIds],
  };
}

/** The hospital-month a posting concerns, re-keyed by hospital (its service month; a payment's month). */
function hospitalChange(p: LedgerPosting, body: ChangeBody, topics: Topics): Output {
  const change: HospitalMonthChange = {
    changeId: p.postingId,
    regionCode: p.regionCode,
    hospitalCode: p.hospitalCode as string,
    month: (p.serviceDate as string).slice(0, 7),
    insuranceYear: p.insuranceYear,
    eventDate: eventDateOf(p),
    ...body,
  };
  return {
    topic: topics.hospitalMonth,
    key: change.hospitalCode,
    record: 'hospital-month-change',
    value: change,
  };
}

// ─── Member-year ───────────────────────────────────────────────────────────────────────────────────

function claimStateOf(p: LedgerPosting): TrackedClaim['state'] {
  if (p.dueAmount === null) return 'held';
  return (p.flags ?? []).includes('NOT_COVERED') ? 'not-covered' : 'covered';
}

/**
 * A claim joins its member-year's item once it is held or decided without cover; a later booking of a
 * claim already in the item replaces it. The item is published once anything in it was claimed.
 */
function updateMemberYear(store: EntityStore, posting: LedgerPosting, topics: Topics): Output | undefined {
  const id = memberYearItemId(posting);
  const item = store.get(MEMBER_YEAR_ITEM, id);
  const known = item.claims.get(posting.sourceEventId);
  if (known !== undefined && posting.revision <= known.revision) return undefined; // a copy: already applied
  const state = claimStateOf(posting);
  // A claim decided covered at once has nothing to reconcile here; one released from suspense has.
  const released = /^(SETTLEMENT|MANUAL_REIMBURSEMENT)_HELD:/.test(posting.relatedPostingId ?? '');
  if (known === undefined && state === 'covered' && !released) return undefined;
  const claims = new Map(item.claims);
  claims.set(posting.sourceEventId, {
    revision: posting.revision,
    state,
    claimed: posting.claimedAmount ?? ZERO,
    due: posting.dueAmount ?? ZERO,
  });
  const next: MemberYearItem = {
    ...item,
    claims,
    ...timesWith(item, eventDateOf(posting), posting.revision, posting.postingId),
  };
  const before = item.published ? memberYearView(item) : undefined;
  const after = memberYearView(next);
  if (!item.published && sumMoney([...claims.values()].map((c) => c.claimed.abs())).isZero()) {
    store.put(MEMBER_YEAR_ITEM, id, next);
    return undefined;
  }
  store.put(MEMBER_YEAR_ITEM, id, { ...next, published: true });
  return publishItem(topics.reconciliation, store, before, after);
}

function memberYearView(item: MemberYearItem): ItemView {
  const claims = [...item.claims.values()];
  const claimed = (state: TrackedClaim['state']) =>
    sumMoney(claims.filter((c) => c.state === state).map((c) => c.claimed));
  const notCovered = claimed('not-covered');
  const held = claimed('held');
  const expected = sumMoney(claims.filter((c) => c.state !== 'held').map((c) => c.due));
  const actual = sumMoney(claims.map((c) => c.claimed));
  const n = (state: TrackedClaim['state']) => claims.filter((c) => c.state === state).length;
  let status: ReconciliationStatus;
  let reason: string;
  if (!notCovered.isZero()) {
    status = 'DISCREPANCY';
    reason =
      `MEMBER_YEAR_NOT_COVERED: the ${item.year} premium was not paid in full in its window, so nothing is due; ` +
      `${n('not-covered')} claim(s) claimed ${formatMoney(notCovered)} for a member without cover`;
  } else if (!held.isZero()) {
    status = 'OPEN';
    reason =
      `MEMBER_YEAR_COVER_PENDING: ${n('held')} claim(s) claimed ${formatMoney(held)} wait for the ${item.year} premium ` +
      `(or the end-of-collection notice) to decide cover`;
  } else {
    status = 'CLOSED';
    reason =
      n('covered') === 0
        ? `MEMBER_YEAR_REVERSED: every claim made without cover for ${item.year} was reversed`
        : `MEMBER_YEAR_COVERED: cover was decided; the held claims were decided by policy: due ${formatMoney(expected)}, claimed ${formatMoney(actual)}`;
  }
  return {
    itemId: itemIds.memberYear(item.region, item.pseudonym, item.year),
    kind: 'MEMBER_YEAR',
    status,
    region: item.region,
    year: item.year,
    period: String(item.year),
    expected,
    actual,
    hospitalCode: null,
    pseudonym: item.pseudonym,
    claimId: null,
    dueBy: null,
    openedOn: item.openedOn as LocalDate,
    updatedOn: item.updatedOn as LocalDate,
    sourceEventId: item.last?.[1] ?? null,
    reason,
  };
}

// ─── Manual claims ─────────────────────────────────────────────────────────────────────────────────

function updateManualClaim(store: EntityStore, posting: LedgerPosting, topics: Topics): Output | undefined {
  const id = manualItemId(posting);
  const item = store.get(MANUAL_CLAIM_ITEM, id);
  if (item !== null && posting.revision <= item.revision) return undefined; // a copy: already applied
  const flags = posting.flags ?? [];
  const next: ManualClaimItem = {
    region: posting.regionCode,
    year: posting.insuranceYear,
    claimId: posting.sourceEventId,
    pseudonym: posting.memberPseudonym as string,
    revision: posting.revision,
    paid: posting.claimedAmount ?? ZERO,
    due: posting.dueAmount,
    withinSla: !flags.includes('SLA_BREACHED'),
    withinDeadline: !flags.includes('PAST_DEADLINE'),
    receivedOn: posting.receivedOn as LocalDate | null,
    paidOn: posting.postingDate as LocalDate,
    ...timesWith(item, eventDateOf(posting), posting.revision, posting.postingId),
  };
  const before = item === null ? undefined : manualClaimView(item);
  const after = manualClaimView(next);
  store.put(MANUAL_CLAIM_ITEM, id, next);
  return publishItem(topics.reconciliation, store, before, after);
}

function manualClaimView(item: ManualClaimItem): ItemView {
  const params = regionParamsOn(item.region, item.paidOn);
  if (!params.ok) throw new ConfigError(`reconciler: no parameters for ${item.region} on ${item.paidOn}`);
  const rule = params.value.manualClaim;
  const article = cite(params.value, ['manualClaim']);
  const deadline = manualClaimDeadline(params.value, item.year);
  const slaDay = item.receivedOn === null ? undefined : workingDayAfter(item.receivedOn, rule.workingDays);
  const base = {
    itemId: itemIds.manualClaim(item.region, item.claimId),
    kind: 'MANUAL_CLAIM' as const,
    region: item.region,
    year: item.year,
    period: String(item.year),
    actual: item.paid,
    hospitalCode: null,
    pseudonym: item.pseudonym,
    claimId: item.claimId,
    dueBy: slaDay === undefined ? null : earlierDate(slaDay, deadline),
    openedOn: item.openedOn,
    updatedOn: item.updatedOn,
    sourceEventId: item.last?.[1] ?? null,
  };
  if (item.due === null) {
    return {
      ...base,
      status: 'OPEN',
      expected: ZERO,
      reason: `MANUAL_CLAIM_COVER_PENDING: paid ${formatMoney(item.paid)} on ${item.paidOn}; what is due waits for the member-year's cover to be decided`,
    };
  }
  const problems: string[] = [];
  const difference = item.paid.minus(item.due);
  if (difference.gt(ZERO)) {
    problems.push(
      `MANUAL_CLAIM_OVER_PAID: paid ${formatMoney(item.paid)}, due ${formatMoney(item.due)} by policy: over-payment ${formatMoney(difference)}`,
    );
  } else if (difference.lt(ZERO)) {
    problems.push(
      `MANUAL_CLAIM_SHORT_PAID: paid ${formatMoney(item.paid)}, due ${formatMoney(item.due)} by policy: short payment ${formatMoney(difference.abs())}`,
    );
  }
  if (!item.withinSla) {
    problems.push(
      `SLA_BREACHED: paid ${item.paidOn}, more than ${rule.workingDays} working days after receipt${item.receivedOn === null ? '' : ` on ${item.receivedOn}`} (${article})`,
    );
  }
  if (!item.withinDeadline)
    problems.push(`PAST_DEADLINE: paid ${item.paidOn}, after the deadline ${deadline} (${article})`);
  return {
    ...base,
    status: problems.length === 0 ? 'MATCHED' : 'DISCREPANCY',
    expected: item.due,
    reason:
      problems.length === 0
        ? `MANUAL_CLAIM_MATCHED: paid ${formatMoney(item.paid)} = due ${formatMoney(item.due)}, within ${rule.workingDays} working days and by the deadline ${deadline} (${article})`
        : problems.join('; '),
  };
}
