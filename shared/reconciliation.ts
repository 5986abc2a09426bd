/**
 * What the two reconciler stages share: item ids, the published record, and the counters per region
 * and year that the disclosure publisher reads. The member stage (services/reconciler) keeps
 * member-year and manual-claim items; the hospital stage (services/hospital-reconciler) keeps
 * hospital-month items. Every item's state is a function of the postings it has seen, never of the order
 * they came in, so its final status is the same for every interleaving of the inputs.
 */
import { CorruptStateError } from './errors.js';
import { formatMoney, type Money, parseMoneyText, ZERO } from './money.js';
import { chinaMidnight, type LocalDate } from './policy/dates.js';
import {
  type LedgerPosting,
  RECONCILIATION_KINDS,
  RECONCILIATION_STATUSES,
  type ReconciliationKind,
  type ReconciliationResult,
  type ReconciliationStatus,
} from './records.js';
import type { EntityKind, EntityStore, Output } from './runner/service.js';
import type { TopicSpec } from './topics.js';

export const itemIds = {
  hospitalMonth: (region: string, hospitalCode: string, month: string) =>
    `HOSPITAL_MONTH:${region}:${hospitalCode}:${month}`,
  manualClaim: (region: string, claimId: string) => `MANUAL_CLAIM:${region}:${claimId}`,
  memberYear: (region: string, pseudonym: string, year: number) =>
    `MEMBER_YEAR:${region}:${pseudonym}:${year}`,
} as const;

/** An item as published (reconciliation-result.avsc), before its dates become instants. */
export interface ItemView {
  readonly itemId: string;
  readonly kind: ReconciliationKind;
  readonly status: ReconciliationStatus;
  readonly region: string;
  readonly year: number;
  readonly period: string;
  readonly expected: Money;
  readonly actual: Money;
  readonly hospitalCode: string | null;
  readonly pseudonym: string | null;
  readonly claimId: string | null;
  readonly dueBy: LocalDate | null;
  readonly openedOn: LocalDate;
  readonly updatedOn: LocalDate;
  readonly sourceEventId: string | null;
  readonly reason: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Ages and times are event time (the postings' business dates, 00:00 in China), so a replay publishes alike. */
export function resultOf(item: ItemView): ReconciliationResult {
  const openedAt = chinaMidnight(item.openedOn);
  const updatedAt = chinaMidnight(item.updatedOn);
  return {
    itemId: item.itemId,
    kind: item.kind,
    status: item.status,
    regionCode: item.region,
    period: item.period,
    expected: item.expected,
    actual: item.actual,
    difference: item.actual.minus(item.expected),
    hospitalCode: item.hospitalCode,
    memberPseudonym: item.pseudonym,
    claimId: item.claimId,
    dueBy: item.dueBy,
    ageDays: Math.max(0, Math.round((updatedAt.getTime() - openedAt.getTime()) / DAY_MS)),
    openedAt,
    updatedAt,
    sourceEventId: item.sourceEventId,
    reason: item.reason,
  };
}

/**
 * The business date of a posting's change: the later of the claim's own date and its cause's. A premium
 * paid before the claim but read after it still releases the claim no earlier than the claim itself.
 */
export const eventDateOf = (p: Pick<LedgerPosting, 'postingDate' | 'causeDate'>): LocalDate =>
  (p.causeDate !== null && p.causeDate > p.postingDate ? p.causeDate : p.postingDate) as LocalDate;

/** What orders two changes of an item: business date, then the claim's revision, then the posting id. */
export const changeOrder = (date: string, revision: number): string =>
  `${date}#${String(revision).padStart(6, '0')}`;

/** The latest change of an item (changeOrder, then posting id): the same whichever order they came in. */
export function laterEvent(
  a: readonly [string, string] | null,
  b: readonly [string, string],
): readonly [string, string] {
  if (a === null) return b;
  return a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]) ? a : b;
}

/** An item's latest change as its codec stored it ([order, posting id]); anything else reads as none. */
export const storedLast = (value: unknown): readonly [string, string] | null =>
  Array.isArray(value) && value.length === 2 ? [String(value[0]), String(value[1])] : null;

export const earlierDate = (a: LocalDate, b: LocalDate): LocalDate => (a <= b ? a : b);
export const laterDate = (a: LocalDate, b: LocalDate): LocalDate => (a >= b ? a : b);

/** When an item's changes happened: the earliest and latest business date, and the latest change. */
export interface ItemTimes {
  readonly openedOn: LocalDate | null;
  readonly updatedOn: LocalDate | null;
  readonly last: readonly [string, string] | null;
}

/** An item's times once a change of `date` (its revision, its id) is applied; null before the first. */
export function timesWith(
  times: ItemTimes | null,
  date: LocalDate,
  revision: number,
  changeId: string,
): { readonly openedOn: LocalDate; readonly updatedOn: LocalDate; readonly last: readonly [string, string] } {
  return {
    openedOn: times?.openedOn == null ? date : earlierDate(times.openedOn, date),
    updatedOn: times?.updatedOn == null ? date : laterDate(times.updatedOn, date),
    last: laterEvent(times?.last ?? null, [changeOrder(date, revision), changeId]),
  };
}

/**
 * An item's new view, published: the region-year counters move from its last published view (if any)
 * to this one, and the result goes out on the reconciliation topic under the item's id.
 */
export function publishItem(
  reconciliation: TopicSpec,
  store: EntityStore,
  before: ItemView | undefined,
  after: ItemView,
): Output {
  const id = countersId(after.region, after.year);
  store.put(COUNTERS, id, moveCounters(store.get(COUNTERS, id), before, after));
  return {
    topic: reconciliation,
    key: after.itemId,
    record: 'reconciliation-result',
    value: resultOf(after),
  };
}

// ─── Counters per region and year (read by the disclosure publisher) ───────────────────────────────

/** Items by kind and status, and the size of their differences, for one region and insurance year. */
export interface Counters {
  /** `${kind}:${status}` → number of items. */
  readonly counts: ReadonlyMap<string, number>;
  /** `${kind}:${status}` → Σ |actual − expected| of those items. */
  readonly amounts: ReadonlyMap<string, Money>;
}

export const EMPTY_COUNTERS: Counters = { counts: new Map(), amounts: new Map() };

const slot = (kind: ReconciliationKind, status: ReconciliationStatus) => `${kind}:${status}`;

/** Moves an item from its old status (if it had one) to its new one. */
export function moveCounters(counters: Counters, before: ItemView | undefined, after: ItemView): Counters {
  const counts = new Map(counters.counts);
  const amounts = new Map(counters.amounts);
  const apply = (item: ItemView, sign: 1 | -1) => {
    const key = slot(item.kind, item.status);
    counts.set(key, (counts.get(key) ?? 0) + sign);
    const size = item.actual.minus(item.expected).abs();
    amounts.set(key, (amounts.get(key) ?? ZERO).plus(sign === 1 ? size : size.negated()));
  };
  if (before !== undefined) apply(before, -1);
  apply(after, 1);
  return { counts, amounts };
}

/** Adds counters of several partitions. */
export function addCounters(all: readonly Counters[]): Counters {
  const counts = new Map<string, number>();
  const amounts = new Map<string, Money>();
  for (const c of all) {
    for (const [k, v] of c.counts) counts.set(k, (counts.get(k) ?? 0) + v);
    for (const [k, v] of c.amounts) amounts.set(k, (amounts.get(k) ?? ZERO).plus(v));
  }
  return { counts, amounts };
}

export const countOf = (c: Counters, kind: ReconciliationKind, status: ReconciliationStatus): number =>
  c.counts.get(slot(kind, status)) ?? 0;

export const amountOf = (c: Counters, kind: ReconciliationKind, status: ReconciliationStatus): Money =>
  c.amounts.get(slot(kind, status)) ?? ZERO;

export const countersId = (region: string, year: number) => `${region}:${year}`;

/** The counters entity of a reconciler stage: one hash per region and year in each partition. */
export const COUNTERS: EntityKind<Counters> = {
  name: 'counters',
  empty: () => EMPTY_COUNTERS,
  encode(counters) {
    const fields: Record<string, string> = {};
    for (const kind of RECONCILIATION_KINDS) {
      for (const status of RECONCILIATION_STATUSES) {
        const key = slot(kind, status);
        const count = counters.counts.get(key) ?? 0;
        if (count === 0) continue;
        fields[`n:${key}`] = String(count);
        fields[`a:${key}`] = formatMoney(counters.amounts.get(key) ?? ZERO);
      }
    }
    return fields;
  },
  decode(fields, id) {
    return countersFrom(fields, `counters ${id}`);
  },
};

/** Reads a counters hash (also used by the disclosure publisher on what it reads from Redis). */
export function countersFrom(fields: Readonly<Record<string, string>>, where: string): Counters {
  const counts = new Map<string, number>();
  const amounts = new Map<string, Money>();
  for (const [field, text] of Object.entries(fields)) {
    if (field.startsWith('n:')) {
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0)
        throw new CorruptStateError(`state ${where}: ${field} is not a count`);
      counts.set(field.slice(2), n);
    } else if (field.startsWith('a:')) {
      const amount = parseMoneyText(text);
      if (amount === undefined) throw new CorruptStateError(`state ${where}: ${field} is not money`);
      amounts.set(field.slice(2), amount);
    }
  }
  return { counts, amounts };
}
