/**
 * The member stage's entities and their one codec each. State is the reconciler's own writing: a field
 * that does not read back is corruption (CorruptStateError), never input.
 */
import { formatMoney, type Money } from '../../shared/money.js';
import type { LocalDate } from '../../shared/policy/dates.js';
import { storedLast } from '../../shared/reconciliation.js';
import type { EntityKind } from '../../shared/runner/service.js';
import { StateReader } from '../../shared/state-reader.js';

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
    const r: StateReader = new StateReader(`member-year-item ${id}`);
    const h = r.json(fields.h, 'h') as unknown[];
    const claims = new Map<string, TrackedClaim>();
    for (const [field, text] of Object.entries(fields)) {
      if (!field.startsWith('c:')) continue;
      const c = r.json(text, field) as unknown[];
      const state = c[1] as TrackedClaim['state'];
      if (!STATES.includes(state) || typeof c[0] !== 'number') r.fail(`${field} is malformed`);
      claims.set(field.slice(2), {
        revision: c[0],
        state,
        claimed: r.money(c[2], `${field} claimed`),
        due: r.money(c[3], `${field} due`),
      });
    }
    return {
      ...MEMBER_YEAR_ITEM.empty(id),
      claims,
      openedOn: r.optionalDate(h[0], 'h openedOn'),
      updatedOn: r.optionalDate(h[1], 'h updatedOn'),
      last: storedLast(h[2]),
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
    const r: StateReader = new StateReader(`manual-claim-item ${id}`);
    const v = r.json(fields.v, 'v') as unknown[];
    if (!Array.isArray(v) || v.length !== 14) r.fail('field v is malformed');
    return {
      region: String(v[0]),
      year: Number(v[1]),
      claimId: String(v[2]),
      pseudonym: String(v[3]),
      revision: Number(v[4]),
      paid: r.money(v[5], 'paid'),
      due: v[6] === null ? null : r.money(v[6], 'due'),
      withinSla: v[7] === true,
      withinDeadline: v[8] === true,
      receivedOn: r.optionalDate(v[9], 'receivedOn'),
      paidOn: r.date(v[10], 'paidOn'),
      openedOn: r.date(v[11], 'openedOn'),
      updatedOn: r.date(v[12], 'updatedOn'),
      last: storedLast(v[13]),
    };
  },
};
