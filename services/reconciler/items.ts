/**
 * The member stage's entities and their one codec each. State is the reconciler's own writing: a field
 * that does not read back is corruption (CorruptStateError), never input.
 */
import { CorruptStateError } from '../../shared/errors.js';
import { Decimal, formatMoney, type Money } from '../../shared/money.js';
import { type LocalDate, parseLocalDate } from '../../shared/policy/dates.js';
import type { EntityKind } from '../../shared/runner/service.js';

/** A claim's latest booking as the member-year item counts it. */
export interface TrackedClaim {
  readonly revision: number;
  readonly state: 'held' | 'covered' | 'not-covered';
  readonly claimed: Money;
  readonly due: Money;
}

export interface MemberYearItem {
  readonly region: string;
  readonly year: number;
  readonly pseudonym: string;
  /** Claims that were held or decided without cover, by claim id. */
  readonly claims: ReadonlyMap<string, TrackedClaim>;
  readonly openedOn: LocalDate | null;
  readonly updatedOn: LocalDate | null;
  /** The latest change by business date, then posting id: [date, postingId]. */
  readonly last: readonly [string, string] | null;
  /** Published once something in it was claimed: from then on every change is published. */
  readonly published: boolean;
}

export interface ManualClaimItem {
  readonly region: string;
  readonly year: number;
  readonly claimId: string;
  readonly pseudonym: string;
  readonly revision: number;
  readonly paid: Money;
  /** null while the member-year's cover is pending. */
  readonly due: Money | null;
  readonly withinSla: boolean;
  readonly withinDeadline: boolean;
  readonly receivedOn: LocalDate | null;
  readonly paidOn: LocalDate;
  readonly openedOn: LocalDate;
  readonly updatedOn: LocalDate;
  readonly last: readonly [string, string] | null;
}

function fail(where: string, what: string): never {
  throw new CorruptStateError(`state ${where}: ${what}`);
}

/** A field that holds a JSON object or list (a null is corruption too). */
function json(where: string, text: string | undefined, field: string): unknown {
  if (text === undefined) fail(where, `field ${field} is missing`);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return fail(where, `field ${field} is not JSON`);
  }
  if (typeof value !== 'object' || value === null) fail(where, `field ${field} is not a JSON object or list`);
  return value;
}

const money = (where: string, value: unknown): Money =>
  typeof value === 'string' && /^-?\d{1,16}\.\d{2}$/.test(value)
    ? new Decimal(value)
    : fail(where, 'not money');
const date = (where: string, value: unknown): LocalDate =>
  (typeof value === 'string' ? parseLocalDate(value) : undefined) ?? fail(where, 'not a date');
const optionalDate = (where: string, value: unknown): LocalDate | null =>
  value === null ? null : date(where, value);
const pair = (value: unknown): readonly [string, string] | null =>
  Array.isArray(value) && value.length === 2 ? [String(value[0]), String(value[1])] : null;

const STATES: readonly TrackedClaim['state'][] = ['held', 'covered', 'not-covered'];

/** Header `h` and one field per claim (`c:<id>`), so a chunk writes only the claims it changed. */
export const MEMBER_YEAR_ITEM: EntityKind<MemberYearItem> = {
  name: 'member-year-item',
  empty(id) {
    const [region, year, pseudonym] = id.split(':');
    return {
      region: region as string,
      year: Number(year),
      pseudonym: pseudonym as string,
      claims: new Map(),
      openedOn: null,
      updatedOn: null,
      last: null,
      published: false,
    };
  },
  encode(item) {
    const fields: Record<string, string> = {
      h: JSON.stringify([item.openedOn, item.updatedOn, item.last, item.published]),
    };
    for (const [id, c] of item.claims) {
      fields[`c:${id}`] = JSON.stringify([c.revision, c.state, formatMoney(c.claimed), formatMoney(c.due)]);
    }
    return fields;
  },
  decode(fields, id) {
    const where = `member-year-item ${id}`;
    const h = json(where, fields.h, 'h') as unknown[];
    const claims = new Map<string, TrackedClaim>();
    for (const [field, text] of Object.entries(fields)) {
      if (!field.startsWith('c:')) continue;
      const c = json(where, text, field) as unknown[];
      const state = c[1] as TrackedClaim['state'];
      if (!STATES.includes(state) || typeof c[0] !== 'number') fail(where, `${field} is malformed`);
      claims.set(field.slice(2), {
        revision: c[0],
        state,
        claimed: money(where, c[2]),
        due: money(where, c[3]),
      });
    }
    return {
      ...MEMBER_YEAR_ITEM.empty(id),
      claims,
      openedOn: optionalDate(where, h[0]),
      updatedOn: optionalDate(where, h[1]),
      last: pair(h[2]),
      published: h[3] === true,
    };
  },
};

/** One manual claim's item; null before its first posting. */
export const MANUAL_CLAIM_ITEM: EntityKind<ManualClaimItem | null> = {
  name: 'manual-claim-item',
  empty: () => null,
  encode(item): Record<string, string> {
    if (item === null) return {};
    return {
      v: JSON.stringify([
        item.region,
        item.year,
        item.claimId,
        item.pseudonym,
        item.revision,
        formatMoney(item.paid),
        item.due === null ? null : formatMoney(item.due),
        item.withinSla,
        item.withinDeadline,
        item.receivedOn,
        item.paidOn,
        item.openedOn,
        item.updatedOn,
        item.last,
      ]),
    };
  },
  decode(fields, id) {
    const where = `manual-claim-item ${id}`;
    const v = json(where, fields.v, 'v') as unknown[];
    if (!Array.isArray(v) || v.length !== 14) fail(where, 'field v is malformed');
    return {
      region: String(v[0]),
      year: Number(v[1]),
      claimId: String(v[2]),
      pseudonym: String(v[3]),
      revision: Number(v[4]),
      paid: money(where, v[5]),
      due: v[6] === null ? null : money(where, v[6]),
      withinSla: v[7] === true,
      withinDeadline: v[8] === true,
      receivedOn: optionalDate(where, v[9]),
      paidOn: date(where, v[10]),
      openedOn: date(where, v[11]),
      updatedOn: date(where, v[12]),
      last: pair(v[13]),
    };
  },
};
