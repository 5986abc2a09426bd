/**
 * Reconciler, hospital stage (hospital-month changes → reconciliation), pure. One hospital-month per
 * item, in the hospital's partition: what the fund owes the hospital by policy for the month's
 * settlements, net of reversals, against what the insurer paid it (Dehong art. 15). Each claim counts at
 * its latest booking (a later revision replaces an earlier one; a copy changes nothing) and each payment
 * once, so the item ends the same whatever order its changes came in. While a claim waits for its
 * member-year's cover, what is due is not yet known and the item stays open.
 */
import { invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { requireMonth } from '../../shared/ingest/input.js';
import { formatMoney, type Money, ZERO } from '../../shared/money.js';
import { firstDayOfMonth, type LocalDate } from '../../shared/policy/dates.js';
import { regionParamsOn } from '../../shared/policy/regions.js';
import { cite } from '../../shared/policy/trail.js';
import {
  COUNTERS,
  countersId,
  type ItemView,
  itemIds,
  publishItem,
  timesWith,
} from '../../shared/reconciliation.js';
import type { HospitalMonthChange, ReconciliationStatus } from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import {
  type Decided,
  decided,
  decidedLatest,
  type EntityRef,
  type EntityStore,
  entity,
} from '../../shared/runner/service.js';
import { type Topics, unexpectedRecord } from '../../shared/topics.js';
import {
  claimLineage,
  HOSPITAL_MONTH_ITEM,
  type HospitalMonthItem,
  hospitalMonthId,
  type MonthClaim,
  type Totals,
} from './items.js';

export function parseChange(decoded: DecodedValue, topics: Topics): Result<HospitalMonthChange> {
  if (decoded.record !== 'hospital-month-change') {
    return refuse(unexpectedRecord(topics.hospitalMonth, decoded.record));
  }
  const change = decoded.value;
  const month = requireMonth(change.month, 'month');
  if (!month.ok) return month;
  if (change.kind === 'CLAIM' && (change.claimId === null || change.claimedAmount === null)) {
    return refuse(
      invalidInput(
        'CHANGE_INCOMPLETE',
        'claimId',
        'a CLAIM change names its claim and what it claims',
        change.changeId,
      ),
    );
  }
  if (change.kind === 'PAYMENT' && change.paidAmount === null) {
    return refuse(
      invalidInput(
        'CHANGE_INCOMPLETE',
        'paidAmount',
        'a PAYMENT change carries what was paid',
        change.changeId,
      ),
    );
  }
  return ok(change);
}

const itemIdOf = (c: HospitalMonthChange) => hospitalMonthId(c.regionCode, c.hospitalCode, c.month);

export function hospitalEntitiesOf(change: HospitalMonthChange): readonly EntityRef[] {
  return [
    entity(HOSPITAL_MONTH_ITEM, itemIdOf(change)),
    entity(COUNTERS, countersId(change.regionCode, change.insuranceYear)),
  ];
}

export function decideHospitalMonth(
  change: HospitalMonthChange,
  store: EntityStore,
  topics: Topics,
): Result<Decided> {
  const id = itemIdOf(change);
  const item = store.get(HOSPITAL_MONTH_ITEM, id);
  const applied = change.kind === 'CLAIM' ? withClaim(item, change) : withPayment(item, change);
  if (applied === undefined) return ok(decided([])); // a copy of a change already applied
  const next: HospitalMonthItem = {
    ...applied,
    ...timesWith(item, change.eventDate as LocalDate, change.revision, change.changeId),
  };
  const atStake = !next.totals.claimed.isZero() || !next.totals.due.isZero() || next.payments.size > 0;
  if (!item.published && !atStake) {
    store.put(HOSPITAL_MONTH_ITEM, id, next);
    return ok(decided([]));
  }
  const before = item.published ? (views.get(item) ?? viewOf(item)) : undefined;
  const after = viewOf(next);
  const stored: HospitalMonthItem = { ...next, published: true };
  views.set(stored, after);
  store.put(HOSPITAL_MONTH_ITEM, id, stored);
  const published = publishItem(topics.reconciliation, store, before, after);
  // A month changes with each of its claims: a chunk publishes its latest view only.
  return ok(decidedLatest(after.itemId, () => [published]));
}

// The view last published for an item, so the next change does not build it again.
const views = new WeakMap<HospitalMonthItem, ItemView>();

/** Replaces a claim's entry by its later booking, keeping the totals exact. */
function withClaim(item: HospitalMonthItem, change: HospitalMonthChange): HospitalMonthItem | undefined {
  const id = change.claimId as string;
  const known = item.claims.get(id);
  if (known !== undefined && change.revision <= known.revision) return undefined;
  const entry: MonthClaim = {
    revision: change.revision,
    held: change.held,
    reversal: change.reversal,
    claimed: change.claimedAmount ?? ZERO,
    due: change.held ? ZERO : (change.dueAmount ?? ZERO),
  };
  const claims = claimLineage.derive(item.claims, item.claims.set(id, entry), id);
  let totals = item.totals;
  if (known !== undefined) totals = add(totals, known, -1);
  else if (item.listed.has(id)) totals = { ...totals, listedNotSeen: totals.listedNotSeen - 1 };
  totals = add(totals, entry, 1);
  return { ...item, claims, totals };
}

function add(t: Totals, c: MonthClaim, sign: 1 | -1): Totals {
  const s = (m: Money) => (sign === 1 ? m : m.negated());
  return {
    ...t,
    due: t.due.plus(s(c.due)),
    claimed: t.claimed.plus(s(c.claimed)),
    held: c.held ? t.held.plus(s(c.claimed)) : t.held,
    heldClaims: t.heldClaims + (c.held ? sign : 0),
    settlements: t.settlements + (c.reversal ? 0 : sign),
    reversals: t.reversals + (c.reversal ? sign : 0),
  };
}

function withPayment(item: HospitalMonthItem, change: HospitalMonthChange): HospitalMonthItem | undefined {
  if (item.payments.has(change.changeId)) return undefined;
  const payments = new Map(item.payments);
  payments.set(change.changeId, { amount: change.paidAmount ?? ZERO, listed: change.settlementIds });
  const listed = new Set(item.listed);
  let notSeen = item.totals.listedNotSeen;
  for (const id of change.settlementIds) {
    if (listed.has(id)) continue;
    listed.add(id);
    if (!item.claims.has(id)) notSeen += 1;
  }
  return {
    ...item,
    payments,
    listed,
    totals: {
      ...item.totals,
      paid: item.totals.paid.plus(change.paidAmount ?? ZERO),
      listedNotSeen: notSeen,
    },
  };
}

/** OPEN until cover is decided and the insurer pays; then MATCHED when paid = due, else DISCREPANCY naming who got what. */
function viewOf(item: HospitalMonthItem): ItemView {
  const t = item.totals;
  const params = regionParamsOn(item.region, firstDayOfMonth(item.month));
  const cycle = params.ok
    ? `monthly settlement, ${cite(params.value, ['insurerSettlementCycle'])}`
    : 'monthly settlement';
  const due = formatMoney(t.due);
  const paid = formatMoney(t.paid);
  const claimed = formatMoney(t.claimed);
  const count = `${t.settlements} settlements, ${t.reversals} reversals`;
  const listed =
    t.listedNotSeen === 0
      ? ''
      : `; the insurer's lists name ${t.listedNotSeen} settlement(s) of ${item.hospitalCode} in ${item.month} that the hub has not received`;
  let status: ReconciliationStatus;
  let reason: string;
  if (t.heldClaims > 0 && !t.held.isZero()) {
    status = 'OPEN';
    reason =
      `HOSPITAL_MONTH_COVER_PENDING: ${t.heldClaims} claim(s) claiming ${formatMoney(t.held)} wait for their member-year's cover, ` +
      `so what is due for ${item.month} is not yet known; due so far ${due}, insurer paid ${paid} (${cycle})${listed}`;
  } else if (item.payments.size === 0) {
    status = t.claimed.isZero() && t.due.isZero() ? 'CLOSED' : 'OPEN';
    reason =
      status === 'CLOSED'
        ? `HOSPITAL_MONTH_NOTHING_DUE: the month's claims were reversed (${count})`
        : `HOSPITAL_MONTH_AWAITING_PAYMENT: due ${due} for ${item.month} (${count}), hospital claimed ${claimed}; the insurer has not settled the month yet (${cycle})`;
  } else {
    const difference = t.paid.minus(t.due);
    const overClaim = t.claimed.minus(t.due);
    if (difference.isZero() && t.listedNotSeen === 0) {
      status = 'MATCHED';
      reason =
        `HOSPITAL_MONTH_MATCHED: insurer paid ${paid} = due ${due} (${count}); hospital claimed ${claimed}` +
        (overClaim.gt(ZERO) ? `; the hospital's over-claim of ${formatMoney(overClaim)} was not paid` : '');
    } else {
      status = 'DISCREPANCY';
      reason = difference.isZero()
        ? `HOSPITAL_MONTH_UNKNOWN_SETTLEMENTS: insurer paid ${paid} = due ${due} (${count})${listed}`
        : difference.gt(ZERO)
          ? `HOSPITAL_MONTH_OVER_PAID: insurer paid ${paid}, due ${due} (${count}): over-payment ${formatMoney(difference)}; hospital claimed ${claimed}` +
            (overClaim.gt(ZERO) && t.paid.gte(t.claimed)
              ? ": the insurer paid the hospital's over-claim"
              : '') +
            listed
          : `HOSPITAL_MONTH_SHORT_PAID: insurer paid ${paid}, due ${due} (${count}): short payment ${formatMoney(difference.abs())}; hospital claimed ${claimed}${listed}`;
    }
  }
  return {
    itemId: itemIds.hospitalMonth(item.region, item.hospitalCode, item.month),
    kind: 'HOSPITAL_MONTH',
    status,
    region: item.region,
    year: item.year,
    period: item.month,
    expected: t.due,
    actual: t.paid,
    hospitalCode: item.hospitalCode,
    pseudonym: null,
    claimId: null,
    dueBy: null,
    openedOn: item.openedOn as LocalDate,
    updatedOn: item.updatedOn as LocalDate,
    sourceEventId: item.last?.[1] ?? null,
    reason,
  };
}
