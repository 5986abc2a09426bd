/**
 * Reconciler (design.md §3), pure: reads the fund ledger and keeps three kinds of reconciliation item
 * (hospital-month, manual claim, member-year), publishing the latest state of every item it changes.
 * No I/O, no clock: event time is the posting's postingDate, so replaying the ledger decides alike.
 */
import { ConfigError, HubError, invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { formatMoney, type Money, parseMoneyText, ZERO } from '../../shared/money.js';
import {
  addDays,
  compareDates,
  dateInYear,
  type LocalDate,
  parseLocalDate,
  yearOf,
} from '../../shared/policy/dates.js';
import { premiumWindowFor } from '../../shared/policy/eligibility.js';
import { insuranceYearBounds } from '../../shared/policy/insuranceYear.js';
import type { PolicyParams } from '../../shared/policy/params.js';
import { paramsOn, regionParamsOn, regionPolicy } from '../../shared/policy/regions.js';
import { cite } from '../../shared/policy/trail.js';
import { isWorkingDay } from '../../shared/policy/workingDays.js';
import {
  type LedgerPosting,
  RECONCILIATION_KINDS,
  RECONCILIATION_STATUSES,
  type ReconciliationKind,
  type ReconciliationResult,
  type ReconciliationStatus,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import type {
  DecideContext,
  Decision,
  Output,
  ParseContext,
  StateView,
  StateWrite,
} from '../../shared/runner/service.js';
import { stateKeys } from '../../shared/state-keys.js';
import { TOPICS } from '../../shared/topics.js';

// ─── Item ids (reconciliation-result.avsc itemId) ──────────────────────────────────────────────────

export const itemIds = {
  hospitalMonth: (region: string, hospitalCode: string, month: string) =>
    `HOSPITAL_MONTH:${region}:${hospitalCode}:${month}`,
  manualClaim: (region: string, claimId: string) => `MANUAL_CLAIM:${region}:${claimId}`,
  memberYear: (region: string, pseudonym: string, year: number) =>
    `MEMBER_YEAR:${region}:${pseudonym}:${year}`,
} as const;

/** Dead-letter codes this service produces. */
export const REFUSAL_CODES = [
  'UNEXPECTED_RECORD',
  'POSTING_ID_EMPTY',
  'UNKNOWN_REGION',
  'INVALID_DATE',
  'POSTING_INCOMPLETE',
  'HOSPITAL_MONTH_MISSING',
  'DUPLICATE_EVENT',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

// ledger-posting.avsc flags the ingest services set (settlement-ingest, payout-ingest, premium-ingest).
const PREMIUM_NOT_SEEN = 'PREMIUM_NOT_SEEN';
const NOT_COVERED = 'NOT_COVERED';
const SLA_BREACHED = 'SLA_BREACHED';
const PAST_DEADLINE = 'PAST_DEADLINE';
/** premium-ingest's not-covered reasons (EligibilityDecision.reason); an empty flag list means covered. */
const NOT_COVERED_REASONS: readonly string[] = ['LATE', 'EARLY', 'PARTIAL', 'NOT_PAID'];

/** Region-year hash: one field per open member-year item, its snapshot (JSON) or "" once no longer open. */
const OPEN_INDEX_PREFIX = 'openMemberYear:';
/** Region-year hash: the first postingDate of the region seen after the year's premium window closed. */
const WATERMARK = 'windowPassedOn';
/** Item hash: last ledger offset applied per ledger partition, so a replay past the memo changes nothing. */
const LEDGER_MARK_PREFIX = 'ledger:';
/** Member-year item hash: one field per settlement counted in it ("1"), "0" once reversed. */
const SETTLEMENT_PREFIX = 'settlement:';

// openedAt/updatedAt are the posting's business day at 00:00 in China (UTC+8, no daylight saving).
const CHINA_OFFSET = '+08:00';
const DAY_MS = 24 * 60 * 60 * 1000;

// ─── Parse ─────────────────────────────────────────────────────────────────────────────────────────

/** Accepts a ledger posting whose dates and region the reconciler can work with. */
export function parsePosting(decoded: DecodedValue, _context?: ParseContext): Result<LedgerPosting> {
  if (decoded.record !== 'ledger-posting') {
    return refuse(
      invalidInput(
        'UNEXPECTED_RECORD',
        'value',
        `${TOPICS.ledger.name} carries ${TOPICS.ledger.records.join(', ')}`,
        decoded.record,
      ),
    );
  }
  const posting = decoded.value;
  if (posting.postingId.trim() === '') {
    return refuse(invalidInput('POSTING_ID_EMPTY', 'postingId', 'a posting id is the event id'));
  }
  if (parseLocalDate(posting.postingDate) === undefined) {
    return refuse(invalidInput('INVALID_DATE', 'postingDate', 'a calendar date', posting.postingDate));
  }
  if (posting.serviceDate !== null && parseLocalDate(posting.serviceDate) === undefined) {
    return refuse(invalidInput('INVALID_DATE', 'serviceDate', 'a calendar date', posting.serviceDate));
  }
  const region = regionPolicy(posting.regionCode);
  if (!region.ok) return refuse({ ...region.error, field: 'regionCode' });
  return ok(posting);
}

/** postingId is deterministic ("<kind>:<sourceEventId>"), so a second delivery is recognised. */
export const postingEventId = (posting: LedgerPosting): string => posting.postingId;

// ─── What a posting touches ────────────────────────────────────────────────────────────────────────

const flagsOf = (posting: LedgerPosting): readonly string[] => posting.flags ?? [];

/** A settlement decided without cover: the member-year item follows it (design.md §6 step 1). */
const withoutCover = (posting: LedgerPosting): boolean =>
  flagsOf(posting).includes(PREMIUM_NOT_SEEN) || flagsOf(posting).includes(NOT_COVERED);

const hospitalMonthOf = (posting: LedgerPosting): string | undefined =>
  posting.hospitalCode !== null && posting.serviceDate !== null
    ? itemIds.hospitalMonth(posting.regionCode, posting.hospitalCode, posting.serviceDate.slice(0, 7))
    : undefined;

const memberYearOf = (posting: LedgerPosting): string | undefined =>
  posting.memberPseudonym !== null
    ? itemIds.memberYear(posting.regionCode, posting.memberPseudonym, posting.insuranceYear)
    : undefined;

const manualClaimOf = (posting: LedgerPosting): string =>
  itemIds.manualClaim(posting.regionCode, posting.sourceEventId);

/** The items a posting itself may change (not those the event-time sweep may close). */
function itemsOf(posting: LedgerPosting): string[] {
  const items: (string | undefined)[] = [];
  switch (posting.kind) {
    case 'SETTLEMENT_APPLIED':
      items.push(hospitalMonthOf(posting), withoutCover(posting) ? memberYearOf(posting) : undefined);
      break;
    case 'SETTLEMENT_REVERSED':
      items.push(hospitalMonthOf(posting), memberYearOf(posting));
      break;
    case 'HOSPITAL_MONTH_SETTLED':
      items.push(hospitalMonthOf(posting));
      break;
    case 'MANUAL_REIMBURSEMENT':
      items.push(manualClaimOf(posting));
      break;
    case 'PREMIUM_COLLECTED':
    case 'PREMIUM_CORRECTED':
      items.push(memberYearOf(posting));
      break;
    case 'OPERATING_COST':
    case 'SURPLUS_CARRIED_FORWARD':
      break;
    default: {
      const unknown: never = posting.kind;
      throw new RangeError(`unknown posting kind ${String(unknown)}`);
    }
  }
  return items.filter((id): id is string => id !== undefined);
}

/**
 * The region-years whose hash the posting reads: its own insurance year when it may change an item, and
 * every year whose premium window closed within the year before the posting's date, so event time can
 * sweep that year's open member-year items.
 */
function regionYearsOf(posting: LedgerPosting): number[] {
  const date = posting.postingDate as LocalDate;
  const years = new Set<number>();
  if (itemsOf(posting).length > 0) years.add(posting.insuranceYear);
  const year = yearOf(date);
  for (const candidate of [year - 1, year, year + 1]) {
    const window = premiumWindowOf(posting.regionCode, candidate);
    if (window !== undefined && window.closesOn < date && addDays(window.closesOn, 366) >= date) {
      years.add(candidate);
    }
  }
  return [...years].sort((a, b) => a - b);
}

/** Every Redis hash `decidePosting` reads (and writes, apart from items the sweep closes). */
export function reconcilerStateKeys(posting: LedgerPosting): readonly string[] {
  const keys = itemsOf(posting).map((id) => stateKeys.reconciliationItem(id));
  if (posting.kind === 'SETTLEMENT_REVERSED') keys.push(stateKeys.settlement(posting.sourceEventId));
  if (posting.kind === 'MANUAL_REIMBURSEMENT') keys.push(stateKeys.manualClaim(posting.sourceEventId));
  for (const year of regionYearsOf(posting)) {
    keys.push(stateKeys.reconciliationRegionYear(posting.regionCode, year));
  }
  return [...new Set(keys)];
}

// ─── Policy reads ──────────────────────────────────────────────────────────────────────────────────

interface PremiumWindow {
  readonly opensOn: LocalDate;
  readonly closesOn: LocalDate;
  readonly article: string;
}

/** The collection window of a cover year, under the parameters in force on its first day (as premium-ingest). */
export function premiumWindowOf(region: string, year: number): PremiumWindow | undefined {
  const policy = regionPolicy(region);
  if (!policy.ok) return undefined;
  const anyDay = paramsOn(policy.value, policy.value.document.effectiveFrom);
  if (!anyDay.ok) return undefined;
  const params = paramsOn(policy.value, insuranceYearBounds(anyDay.value, year).firstDay);
  if (!params.ok) return undefined;
  const window = premiumWindowFor(params.value, year);
  return { ...window, article: cite(params.value, ['premiumWindow']) };
}

/** The parameters in force on a day the ingest services already validated; a gap is a configuration bug. */
function paramsOrThrow(region: string, date: string): PolicyParams {
  const params = regionParamsOn(region, date as LocalDate);
  if (!params.ok) throw new HubError(`reconciler: no policy for ${region} on ${date}: ${params.error.code}`);
  return params.value;
}

/** The article behind the monthly settlement of a hospital-month (Dehong art. 15). */
function settlementCycleArticle(region: string, month: string): string {
  const params = regionParamsOn(region, `${month}-01` as LocalDate);
  return params.ok
    ? `monthly settlement, ${cite(params.value, ['insurerSettlementCycle'])}`
    : 'monthly settlement';
}

/** The limit-th Chinese working day after `receivedOn`; undefined when the holiday data does not reach it. */
function workingDaysAfter(receivedOn: LocalDate, limit: number): LocalDate | undefined {
  try {
    let day = receivedOn;
    for (let counted = 0; counted < limit; ) {
      day = addDays(day, 1);
      if (isWorkingDay(day)) counted += 1;
    }
    return day;
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

// ─── Items as kept in Redis ────────────────────────────────────────────────────────────────────────

/** One reconciliation item: the fields of stateKeys.reconciliationItem(itemId). */
export interface Item {
  readonly itemId: string;
  readonly kind: ReconciliationKind;
  readonly status: ReconciliationStatus;
  readonly region: string;
  /** The insurance year whose region-year counters hold the item. */
  readonly year: number;
  readonly period: string;
  readonly expected: Money;
  readonly actual: Money;
  /** What the counterparty claimed: the hospitals' hifob_pay for a hospital-month; = actual otherwise. */
  readonly claimed: Money;
  /** Hospital-month: Σ due of the settlements the insurer's payments listed. */
  readonly listedDue: Money;
  readonly settlements: number;
  readonly reversals: number;
  readonly payments: number;
  readonly hospitalCode: string | null;
  readonly pseudonym: string | null;
  readonly claimId: string | null;
  readonly dueBy: LocalDate | null;
  readonly openedOn: LocalDate;
  readonly updatedOn: LocalDate;
  readonly sourceEventId: string | null;
  readonly reason: string | null;
}

const text = (value: string | null): string => value ?? '';
const nullable = (value: string | undefined): string | null =>
  value === undefined || value === '' ? null : value;

function itemFields(item: Item): Record<string, string> {
  return {
    itemId: item.itemId,
    kind: item.kind,
    status: item.status,
    region: item.region,
    year: String(item.year),
    period: item.period,
    expected: formatMoney(item.expected),
    actual: formatMoney(item.actual),
    claimed: formatMoney(item.claimed),
    listedDue: formatMoney(item.listedDue),
    settlements: String(item.settlements),
    reversals: String(item.reversals),
    payments: String(item.payments),
    hospitalCode: text(item.hospitalCode),
    pseudonym: text(item.pseudonym),
    claimId: text(item.claimId),
    dueBy: text(item.dueBy),
    openedOn: item.openedOn,
    updatedOn: item.updatedOn,
    sourceEventId: text(item.sourceEventId),
    reason: text(item.reason),
  };
}

const isOneOf = <T extends string>(allowed: readonly T[], value: string): value is T =>
  (allowed as readonly string[]).includes(value);

/** State is written by the reconciler itself: a malformed field is corruption, so it throws. */
function itemFrom(fields: Readonly<Record<string, string>>, where: string): Item {
  const field = (name: string): string => {
    const value = fields[name];
    if (value === undefined) throw new HubError(`state ${where}: field ${name} is missing`);
    return value;
  };
  const money = (name: string): Money => {
    const amount = parseMoneyText(field(name));
    if (amount === undefined) throw new HubError(`state ${where}: field ${name} is not money`);
    return amount;
  };
  const count = (name: string): number => {
    const value = Number(field(name));
    if (!Number.isInteger(value)) throw new HubError(`state ${where}: field ${name} is not a count`);
    return value;
  };
  const date = (name: string): LocalDate => {
    const value = parseLocalDate(field(name));
    if (value === undefined) throw new HubError(`state ${where}: field ${name} is not a date`);
    return value;
  };
  const kind = field('kind');
  const status = field('status');
  if (!isOneOf(RECONCILIATION_KINDS, kind)) throw new HubError(`state ${where}: kind ${kind} is unknown`);
  if (!isOneOf(RECONCILIATION_STATUSES, status))
    throw new HubError(`state ${where}: status ${status} is unknown`);
  const dueBy = nullable(fields.dueBy);
  return {
    itemId: field('itemId'),
    kind,
    status,
    region: field('region'),
    year: count('year'),
    period: field('period'),
    expected: money('expected'),
    actual: money('actual'),
    claimed: money('claimed'),
    listedDue: money('listedDue'),
    settlements: count('settlements'),
    reversals: count('reversals'),
    payments: count('payments'),
    hospitalCode: nullable(fields.hospitalCode),
    pseudonym: nullable(fields.pseudonym),
    claimId: nullable(fields.claimId),
    dueBy: dueBy === null ? null : date('dueBy'),
    openedOn: date('openedOn'),
    updatedOn: date('updatedOn'),
    sourceEventId: nullable(fields.sourceEventId),
    reason: nullable(fields.reason),
  };
}

function newItem(
  itemId: string,
  kind: ReconciliationKind,
  posting: LedgerPosting,
  period: string,
  who: Pick<Item, 'hospitalCode' | 'pseudonym' | 'claimId'>,
): Item {
  return {
    itemId,
    kind,
    status: 'OPEN',
    region: posting.regionCode,
    year: posting.insuranceYear,
    period,
    expected: ZERO,
    actual: ZERO,
    claimed: ZERO,
    listedDue: ZERO,
    settlements: 0,
    reversals: 0,
    payments: 0,
    ...who,
    dueBy: null,
    openedOn: posting.postingDate as LocalDate,
    updatedOn: posting.postingDate as LocalDate,
    sourceEventId: posting.sourceEventId,
    reason: null,
  };
}

/** Event time moves the item on; openedAt is the earliest event seen, whatever order partitions deliver. */
function touched(item: Item, posting: LedgerPosting): Item {
  const date = posting.postingDate as LocalDate;
  return {
    ...item,
    openedOn: earlier(date, item.openedOn),
    updatedOn: date,
    sourceEventId: posting.sourceEventId,
  };
}

const earlier = (a: LocalDate, b: LocalDate): LocalDate => (compareDates(a, b) <= 0 ? a : b);

const chinaMidnight = (date: LocalDate): Date => new Date(`${date}T00:00:00${CHINA_OFFSET}`);

/** The item as published (reconciliation-result.avsc). */
export function resultOf(item: Item): ReconciliationResult {
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

// ─── The decision's working copy of the state ──────────────────────────────────────────────────────

/** State as this decision has changed it so far, the writes to make and the items to publish. */
class Workspace {
  private readonly changed = new Map<string, Record<string, string>>();
  private readonly published = new Map<string, ReconciliationResult>();

  constructor(private readonly state: StateView) {}

  hash(key: string): Readonly<Record<string, string>> {
    const changes = this.changed.get(key);
    return changes === undefined ? this.state.hash(key) : { ...this.state.hash(key), ...changes };
  }

  field(key: string, name: string): string | undefined {
    return this.changed.get(key)?.[name] ?? this.state.hash(key)[name];
  }

  write(key: string, fields: Readonly<Record<string, string>>): void {
    this.changed.set(key, { ...this.changed.get(key), ...fields });
  }

  item(itemId: string): Item | undefined {
    const key = stateKeys.reconciliationItem(itemId);
    const hash = this.hash(key);
    return hash.kind === undefined ? undefined : itemFrom(hash, key);
  }

  /** Stores the item, keeps its region-year counters and open index exact, and publishes it. */
  save(before: Item | undefined, after: Item, extra: Readonly<Record<string, string>> = {}): void {
    this.write(stateKeys.reconciliationItem(after.itemId), { ...itemFields(after), ...extra });
    const regionYear = stateKeys.reconciliationRegionYear(after.region, after.year);
    const stored: Record<string, string> = {};
    for (const name of [...Object.values(STATUS_FIELD), 'openAmount', 'pendingAmount']) {
      const value = this.field(regionYear, name);
      if (value !== undefined) stored[name] = value;
    }
    const counters = countersFrom(stored, regionYear);
    this.write(regionYear, counterFields(moveCounters(counters, before, after)));
    if (after.kind === 'MEMBER_YEAR' && (after.status === 'OPEN' || before?.status === 'OPEN')) {
      const snapshot = after.status === 'OPEN' ? JSON.stringify(itemFields(after)) : '';
      this.write(regionYear, { [`${OPEN_INDEX_PREFIX}${after.itemId}`]: snapshot });
    }
    // The latest state of an item changed twice by one posting is what counts: publish it once.
    this.published.delete(after.itemId);
    this.published.set(after.itemId, resultOf(after));
  }

  decision(): Decision {
    const outputs: Output[] = [...this.published.values()].map((result) => ({
      topic: TOPICS.reconciliation,
      key: result.itemId,
      record: 'reconciliation-result',
      value: result,
    }));
    const writes: StateWrite[] = [...this.changed].map(([key, fields]) => ({ key, fields }));
    return { outputs, writes };
  }
}

// ─── Region-year counters (read by the disclosure publisher) ───────────────────────────────────────

/** Counts of items by status, and Σ |difference| of items in DISCREPANCY (open) and OPEN (pending). */
export interface RegionYearCounters {
  readonly open: number;
  readonly matched: number;
  readonly discrepancy: number;
  readonly closed: number;
  /** Σ |actual − expected| of the items in DISCREPANCY. */
  readonly openAmount: Money;
  /** Σ |actual − expected| of the items still OPEN (waiting for the other side). */
  readonly pendingAmount: Money;
}

const STATUS_FIELD = {
  OPEN: 'open',
  MATCHED: 'matched',
  DISCREPANCY: 'discrepancy',
  CLOSED: 'closed',
} as const satisfies Record<ReconciliationStatus, keyof RegionYearCounters>;

/** The counters of stateKeys.reconciliationRegionYear; absent fields are zero. */
export function countersFrom(
  hash: Readonly<Record<string, string>>,
  where = 'region-year',
): RegionYearCounters {
  const count = (name: string): number => {
    const value = hash[name];
    if (value === undefined || value === '') return 0;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new HubError(`state ${where}: field ${name} is not a count`);
    return n;
  };
  const money = (name: string): Money => {
    const value = hash[name];
    if (value === undefined || value === '') return ZERO;
    const amount = parseMoneyText(value);
    if (amount === undefined) throw new HubError(`state ${where}: field ${name} is not money`);
    return amount;
  };
  return {
    open: count('open'),
    matched: count('matched'),
    discrepancy: count('discrepancy'),
    closed: count('closed'),
    openAmount: money('openAmount'),
    pendingAmount: money('pendingAmount'),
  };
}

function counterFields(counters: RegionYearCounters): Record<string, string> {
  return {
    open: String(counters.open),
    matched: String(counters.matched),
    discrepancy: String(counters.discrepancy),
    closed: String(counters.closed),
    openAmount: formatMoney(counters.openAmount),
    pendingAmount: formatMoney(counters.pendingAmount),
  };
}

function moveCounters(
  counters: RegionYearCounters,
  before: Item | undefined,
  after: Item,
): RegionYearCounters {
  const next = { ...counters };
  const apply = (item: Item, sign: 1 | -1) => {
    next[STATUS_FIELD[item.status]] += sign;
    const size = item.actual.minus(item.expected).abs();
    if (item.status === 'DISCREPANCY') next.openAmount = next.openAmount.plus(size.times(sign));
    if (item.status === 'OPEN') next.pendingAmount = next.pendingAmount.plus(size.times(sign));
  };
  if (before !== undefined) apply(before, -1);
  apply(after, 1);
  return next;
}

// ─── Decide ────────────────────────────────────────────────────────────────────────────────────────

/** Applies one ledger posting to the items it concerns; other postings only move event time on. */
export function decidePosting(
  posting: LedgerPosting,
  state: StateView,
  context: DecideContext,
): Result<Decision> {
  const work = new Workspace(state);
  const mark = `${LEDGER_MARK_PREFIX}${context.source.partition}`;
  const offset = BigInt(context.source.offset);
  // The runner's memo catches redeliveries; this catches a replay of the ledger that outlived it.
  for (const itemId of itemsOf(posting)) {
    const applied = work.field(stateKeys.reconciliationItem(itemId), mark);
    if (applied !== undefined && applied !== '' && BigInt(applied) >= offset) {
      return refuse(
        invalidInput(
          'DUPLICATE_EVENT',
          'postingId',
          `a ledger posting is applied once; ${itemId} already holds ledger partition ${context.source.partition} up to offset ${applied}`,
          posting.postingId,
        ),
      );
    }
  }

  for (const year of regionYearsOf(posting)) advanceEventTime(work, posting, year);

  const applied = applyPosting(work, posting);
  if (!applied.ok) return applied;
  const markers = { [mark]: context.source.offset };
  for (const itemId of applied.value) work.write(stateKeys.reconciliationItem(itemId), markers);
  return ok(work.decision());
}

/** The posting's own effect; returns the ids of the items it changed. */
function applyPosting(work: Workspace, posting: LedgerPosting): Result<readonly string[]> {
  switch (posting.kind) {
    case 'SETTLEMENT_APPLIED':
    case 'SETTLEMENT_REVERSED':
      return applySettlement(work, posting);
    case 'HOSPITAL_MONTH_SETTLED':
      return applyHospitalMonthSettled(work, posting);
    case 'MANUAL_REIMBURSEMENT':
      return applyManualClaim(work, posting);
    case 'PREMIUM_COLLECTED':
    case 'PREMIUM_CORRECTED':
      return ok(applyPremium(work, posting));
    case 'OPERATING_COST':
    case 'SURPLUS_CARRIED_FORWARD':
      return ok([]);
    default: {
      const unknown: never = posting.kind;
      throw new RangeError(`unknown posting kind ${String(unknown)}`);
    }
  }
}

function required<T>(value: T | null, field: string, posting: LedgerPosting): Result<T> {
  return value === null
    ? refuse(
        invalidInput(
          'POSTING_INCOMPLETE',
          field,
          `ledger-posting.avsc: a ${posting.kind} posting carries ${field}`,
          posting.postingId,
        ),
      )
    : ok(value);
}

// ─── Event time: the premium window closes ─────────────────────────────────────────────────────────

/**
 * Event time passing a premium window: the first postingDate of the region after the window closed is
 * recorded in the region-year (`windowPassedOn`, the watermark), and every member-year item still OPEN
 * becomes a DISCREPANCY: no premium in the window. Only passing the close matters, so nothing is written
 * while the window is open or once it is recorded.
 */
function advanceEventTime(work: Workspace, posting: LedgerPosting, year: number): void {
  const date = posting.postingDate as LocalDate;
  const window = premiumWindowOf(posting.regionCode, year);
  if (window === undefined || date <= window.closesOn) return;
  const key = stateKeys.reconciliationRegionYear(posting.regionCode, year);
  const passed = work.field(key, WATERMARK);
  if (passed === undefined || passed === '') work.write(key, { [WATERMARK]: date });
  const hash = work.hash(key);
  const open = Object.keys(hash)
    .filter((field) => field.startsWith(OPEN_INDEX_PREFIX) && hash[field] !== '')
    .sort();
  for (const field of open) {
    const before = itemFrom(JSON.parse(hash[field] as string) as Record<string, string>, `${key} ${field}`);
    const after: Item = {
      ...touched(before, posting),
      status: 'DISCREPANCY',
      reason: noPremiumReason(before, window),
    };
    work.save(before, after);
  }
}

function noPremiumReason(item: Item, window: PremiumWindow): string {
  return (
    `MEMBER_YEAR_NO_PREMIUM: the premium window ${window.opensOn}–${window.closesOn} closed (${window.article}) ` +
    `without the ${item.period} premium in full; ${describeMemberClaims(item)}`
  );
}

/** The window, once event time has passed it (advanceEventTime ran first for the posting's year). */
function windowClosed(work: Workspace, region: string, year: number): PremiumWindow | undefined {
  const window = premiumWindowOf(region, year);
  const passed = work.field(stateKeys.reconciliationRegionYear(region, year), WATERMARK) ?? '';
  return window !== undefined && passed > window.closesOn ? window : undefined;
}

// ─── Settlements: hospital-month and member-year ───────────────────────────────────────────────────

function applySettlement(work: Workspace, posting: LedgerPosting): Result<readonly string[]> {
  const claimed = required(posting.claimedAmount, 'claimedAmount', posting);
  if (!claimed.ok) return claimed;
  const due = required(posting.dueAmount, 'dueAmount', posting);
  if (!due.ok) return due;
  const hospitalCode = required(posting.hospitalCode, 'hospitalCode', posting);
  if (!hospitalCode.ok) return hospitalCode;
  const serviceDate = required(posting.serviceDate, 'serviceDate', posting);
  if (!serviceDate.ok) return serviceDate;
  const changed: string[] = [];
  const month = hospitalMonthFromSettlement(work, posting, claimed.value, due.value);
  if (month !== undefined) changed.push(month);
  const memberYear =
    posting.kind === 'SETTLEMENT_APPLIED'
      ? memberYearFromSettlement(work, posting, claimed.value, due.value)
      : memberYearFromReversal(work, posting, claimed.value, due.value);
  if (memberYear !== undefined) changed.push(memberYear);
  return ok(changed);
}

/** Dehong art. 15: the fund owes the hospital Σ due of its settlements of the month, reversals netted. */
function hospitalMonthFromSettlement(
  work: Workspace,
  posting: LedgerPosting,
  claimed: Money,
  due: Money,
): string | undefined {
  // A settlement below the basic cap claims and owes nothing: it gives the insurer nothing to settle.
  if (claimed.isZero() && due.isZero()) return undefined;
  const itemId = hospitalMonthOf(posting);
  if (itemId === undefined) return undefined;
  const before = work.item(itemId);
  const base =
    before ??
    newItem(itemId, 'HOSPITAL_MONTH', posting, (posting.serviceDate as string).slice(0, 7), {
      hospitalCode: posting.hospitalCode,
      pseudonym: null,
      claimId: null,
    });
  const reversal = posting.kind === 'SETTLEMENT_REVERSED';
  const next: Item = {
    ...touched(base, posting),
    expected: base.expected.plus(due),
    claimed: base.claimed.plus(claimed),
    settlements: base.settlements + (reversal ? 0 : 1),
    reversals: base.reversals + (reversal ? 1 : 0),
  };
  const late =
    base.payments > 0
      ? `; ${reversal ? 'reversal' : 'settlement'} ${posting.sourceEventId} arrived after the insurer settled ${base.period}`
      : '';
  work.save(before, withHospitalMonthVerdict(next, late));
  return itemId;
}

function applyHospitalMonthSettled(work: Workspace, posting: LedgerPosting): Result<readonly string[]> {
  const paid = required(posting.claimedAmount, 'claimedAmount', posting);
  if (!paid.ok) return paid;
  const listedDue = required(posting.dueAmount, 'dueAmount', posting);
  if (!listedDue.ok) return listedDue;
  const hospitalCode = required(posting.hospitalCode, 'hospitalCode', posting);
  if (!hospitalCode.ok) return hospitalCode;
  const itemId = hospitalMonthOf(posting);
  if (itemId === undefined) {
    return refuse(
      invalidInput(
        'HOSPITAL_MONTH_MISSING',
        'serviceDate',
        'a HOSPITAL_MONTH_SETTLED posting carries the month it settles as serviceDate (its first day)',
        posting.postingId,
      ),
    );
  }
  const before = work.item(itemId);
  const base =
    before ??
    newItem(itemId, 'HOSPITAL_MONTH', posting, (posting.serviceDate as string).slice(0, 7), {
      hospitalCode: hospitalCode.value,
      pseudonym: null,
      claimId: null,
    });
  const next: Item = {
    ...touched(base, posting),
    actual: base.actual.plus(paid.value),
    listedDue: base.listedDue.plus(listedDue.value),
    payments: base.payments + 1,
  };
  work.save(before, withHospitalMonthVerdict(next, ''));
  return ok([itemId]);
}

/** OPEN until the insurer pays; then MATCHED when paid = due, else DISCREPANCY naming who got what. */
function withHospitalMonthVerdict(item: Item, note: string): Item {
  const cycle = settlementCycleArticle(item.region, item.period);
  const due = formatMoney(item.expected);
  const paid = formatMoney(item.actual);
  const claimed = formatMoney(item.claimed);
  const count = `${item.settlements} settlements, ${item.reversals} reversals`;
  const overClaim = item.claimed.minus(item.expected);
  if (item.payments === 0) {
    return {
      ...item,
      status: 'OPEN',
      reason:
        `HOSPITAL_MONTH_AWAITING_PAYMENT: due ${due} for ${item.period} (${count}), hospital claimed ${claimed}; ` +
        `the insurer has not settled the month yet (${cycle})${note}`,
    };
  }
  const listed = item.listedDue.eq(item.expected)
    ? ''
    : item.listedDue.lt(item.expected)
      ? `; the insurer's lists cover due ${formatMoney(item.listedDue)}: settlements due ${formatMoney(item.expected.minus(item.listedDue))} are not in them`
      : `; the insurer's lists cover due ${formatMoney(item.listedDue)}: ${formatMoney(item.listedDue.minus(item.expected))} of it is not yet seen here`;
  const difference = item.actual.minus(item.expected);
  if (difference.isZero()) {
    const unpaid = overClaim.gt(ZERO)
      ? `; the hospital's over-claim of ${formatMoney(overClaim)} was not paid`
      : '';
    return {
      ...item,
      status: 'MATCHED',
      reason: `HOSPITAL_MONTH_MATCHED: insurer paid ${paid} = due ${due} (${count}); hospital claimed ${claimed}${unpaid}${note}`,
    };
  }
  if (difference.gt(ZERO)) {
    const overClaimPaid =
      overClaim.gt(ZERO) && item.actual.gte(item.claimed)
        ? ": the insurer paid the hospital's over-claim"
        : '';
    return {
      ...item,
      status: 'DISCREPANCY',
      reason:
        `HOSPITAL_MONTH_OVER_PAID: insurer paid ${paid}, due ${due} (${count}): over-payment ${formatMoney(difference)}; ` +
        `hospital claimed ${claimed}${overClaimPaid}${listed}${note}`,
    };
  }
  return {
    ...item,
    status: 'DISCREPANCY',
    reason:
      `HOSPITAL_MONTH_SHORT_PAID: insurer paid ${paid}, due ${due} (${count}): short payment ${formatMoney(difference.abs())}; ` +
      `hospital claimed ${claimed}${listed}${note}`,
  };
}

function describeMemberClaims(item: Item): string {
  return `${item.settlements} settlements (${item.reversals} reversed) claimed ${formatMoney(item.actual)} from the supplement, due ${formatMoney(item.expected)}`;
}

/**
 * design.md §6 step 1: a settlement decided without cover. Premium not seen: OPEN until the premium
 * arrives or its window closes. Covered "0" (late, partial, early, not paid): a DISCREPANCY at once.
 */
function memberYearFromSettlement(
  work: Workspace,
  posting: LedgerPosting,
  claimed: Money,
  due: Money,
): string | undefined {
  if (!withoutCover(posting) || (claimed.isZero() && due.isZero())) return undefined;
  const itemId = memberYearOf(posting);
  if (itemId === undefined) return undefined;
  const before = work.item(itemId);
  const base =
    before ??
    newItem(itemId, 'MEMBER_YEAR', posting, String(posting.insuranceYear), {
      hospitalCode: null,
      pseudonym: posting.memberPseudonym,
      claimId: null,
    });
  const counted: Item = {
    ...touched(base, posting),
    expected: base.expected.plus(due),
    actual: base.actual.plus(claimed),
    claimed: base.claimed.plus(claimed),
    settlements: base.settlements + 1,
  };
  let next: Item;
  if (flagsOf(posting).includes(PREMIUM_NOT_SEEN)) {
    const closed = windowClosed(work, posting.regionCode, posting.insuranceYear);
    next =
      closed === undefined
        ? {
            ...counted,
            status: 'OPEN',
            reason:
              `MEMBER_YEAR_PREMIUM_NOT_SEEN: settlement before the ${counted.period} premium: nothing due until it arrives; ` +
              describeMemberClaims(counted),
          }
        : { ...counted, status: 'DISCREPANCY', reason: noPremiumReason(counted, closed) };
  } else {
    next = {
      ...counted,
      status: 'DISCREPANCY',
      reason:
        `MEMBER_YEAR_NOT_COVERED: the ${counted.period} premium was not paid in full in its window (late or partial), ` +
        `so nothing is due; ${describeMemberClaims(counted)}`,
    };
  }
  work.save(before, next, { [`${SETTLEMENT_PREFIX}${posting.sourceEventId}`]: '1' });
  return itemId;
}

/** A reversal takes back what its settlement put in an unresolved member-year item. */
function memberYearFromReversal(
  work: Workspace,
  posting: LedgerPosting,
  claimed: Money,
  due: Money,
): string | undefined {
  const itemId = memberYearOf(posting);
  if (itemId === undefined) return undefined;
  // settlement-ingest keeps the reversal under its own setl_id with the id of the settlement it reverses.
  const original = work.field(stateKeys.settlement(posting.sourceEventId), 'originalSettlementId');
  if (original === undefined || original === '') return undefined;
  const itemKey = stateKeys.reconciliationItem(itemId);
  const before = work.item(itemId);
  if (before === undefined || before.status === 'CLOSED') return undefined;
  if (work.field(itemKey, `${SETTLEMENT_PREFIX}${original}`) !== '1') return undefined;
  const counted: Item = {
    ...touched(before, posting),
    expected: before.expected.plus(due),
    actual: before.actual.plus(claimed),
    claimed: before.claimed.plus(claimed),
    reversals: before.reversals + 1,
  };
  const next: Item =
    counted.actual.isZero() && counted.expected.isZero()
      ? {
          ...counted,
          status: 'CLOSED',
          reason: `MEMBER_YEAR_REVERSED: every settlement claimed without cover for ${counted.period} was reversed; ${describeMemberClaims(counted)}`,
        }
      : {
          ...counted,
          reason: `MEMBER_YEAR_SETTLEMENT_REVERSED: settlement ${original} was reversed; still ${describeMemberClaims(counted)}`,
        };
  work.save(before, next, { [`${SETTLEMENT_PREFIX}${original}`]: '0' });
  return itemId;
}

// ─── Premiums: the member-year item is resolved ────────────────────────────────────────────────────

/**
 * A premium for a member-year with an item: covered closes it (the settlements were decided with
 * nothing due and must be re-decided); still not covered makes it a DISCREPANCY, reopening a closed one.
 */
function applyPremium(work: Workspace, posting: LedgerPosting): readonly string[] {
  const itemId = memberYearOf(posting);
  if (itemId === undefined) return [];
  const before = work.item(itemId);
  if (before === undefined) return [];
  const notCovered = flagsOf(posting).find((flag) => NOT_COVERED_REASONS.includes(flag));
  const what = posting.kind === 'PREMIUM_CORRECTED' ? 'premium correction' : 'premium';
  let next: Item;
  if (notCovered === undefined) {
    if (before.status === 'CLOSED') return [];
    next = {
      ...touched(before, posting),
      status: 'CLOSED',
      reason:
        `MEMBER_YEAR_PREMIUM_ARRIVED: ${what} of ${posting.postingDate} covers ${before.period}; ` +
        `the settlement must be re-decided: ${describeMemberClaims(before)} while the member was not covered`,
    };
  } else {
    next = {
      ...touched(before, posting),
      status: 'DISCREPANCY',
      reason:
        `MEMBER_YEAR_NOT_COVERED: ${what} of ${posting.postingDate} leaves ${before.period} not covered (${notCovered}), ` +
        `so nothing is due; ${describeMemberClaims(before)}`,
    };
  }
  work.save(before, next);
  return [itemId];
}

// ─── Manual claims ─────────────────────────────────────────────────────────────────────────────────

/** Dehong art. 16: paid as due by policy, within 20 working days of receipt and by 31 March next year. */
function applyManualClaim(work: Workspace, posting: LedgerPosting): Result<readonly string[]> {
  const paid = required(posting.claimedAmount, 'claimedAmount', posting);
  if (!paid.ok) return paid;
  const due = required(posting.dueAmount, 'dueAmount', posting);
  if (!due.ok) return due;
  const serviceDate = required(posting.serviceDate, 'serviceDate', posting);
  if (!serviceDate.ok) return serviceDate;
  const itemId = manualClaimOf(posting);
  const before = work.item(itemId);
  if (before !== undefined) {
    return refuse(
      invalidInput(
        'DUPLICATE_EVENT',
        'sourceEventId',
        'a manual claim is reimbursed, and reconciled, once',
        posting.sourceEventId,
      ),
    );
  }
  const params = paramsOrThrow(posting.regionCode, serviceDate.value);
  const rule = params.manualClaim;
  const article = cite(params, ['manualClaim']);
  const deadline = dateInYear(posting.insuranceYear + rule.deadlineYearOffset, rule.deadlineMonthDay);
  // payout-ingest's record of the claim (written once, with the posting) gives receipt and working days.
  const claim = work.hash(stateKeys.manualClaim(posting.sourceEventId));
  const receivedOn = parseLocalDate(claim.receivedOn ?? '');
  const workingDays =
    claim.workingDays === undefined || claim.workingDays === '' ? undefined : claim.workingDays;
  const slaDay = receivedOn === undefined ? undefined : workingDaysAfter(receivedOn, rule.workingDays);
  const dueBy = slaDay === undefined ? null : earlier(slaDay, deadline);

  const flags = flagsOf(posting);
  const problems: string[] = [];
  const difference = paid.value.minus(due.value);
  const policyFlags = flags.filter((flag) => flag !== SLA_BREACHED && flag !== PAST_DEADLINE);
  const why = policyFlags.length === 0 ? '' : ` (${policyFlags.join(', ')})`;
  if (difference.gt(ZERO)) {
    problems.push(
      `MANUAL_CLAIM_OVER_PAID: paid ${formatMoney(paid.value)}, due ${formatMoney(due.value)} by policy${why}: over-payment ${formatMoney(difference)}`,
    );
  } else if (difference.lt(ZERO)) {
    problems.push(
      `MANUAL_CLAIM_SHORT_PAID: paid ${formatMoney(paid.value)}, due ${formatMoney(due.value)} by policy${why}: short payment ${formatMoney(difference.abs())}`,
    );
  }
  if (flags.includes(SLA_BREACHED)) {
    const after = workingDays === undefined ? `more than ${rule.workingDays}` : workingDays;
    problems.push(
      `SLA_BREACHED: paid ${posting.postingDate}, ${after} working days after receipt${receivedOn === undefined ? '' : ` on ${receivedOn}`}, limit ${rule.workingDays} (${article})`,
    );
  }
  if (flags.includes(PAST_DEADLINE)) {
    problems.push(`PAST_DEADLINE: paid ${posting.postingDate}, after the deadline ${deadline} (${article})`);
  }
  const within = workingDays === undefined ? '' : `${workingDays} working days (limit ${rule.workingDays}), `;
  const item: Item = {
    ...newItem(itemId, 'MANUAL_CLAIM', posting, String(posting.insuranceYear), {
      hospitalCode: null,
      pseudonym: posting.memberPseudonym,
      claimId: posting.sourceEventId,
    }),
    status: problems.length === 0 ? 'MATCHED' : 'DISCREPANCY',
    expected: due.value,
    actual: paid.value,
    claimed: paid.value,
    dueBy,
    reason:
      problems.length === 0
        ? `MANUAL_CLAIM_MATCHED: paid ${formatMoney(paid.value)} = due ${formatMoney(due.value)}, ${within}by the deadline ${deadline} (${article})`
        : problems.join('; '),
  };
  work.save(undefined, item);
  return ok([itemId]);
}
