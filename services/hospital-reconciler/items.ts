/**
 * The hospital stage's entity: one hospital-month, with the latest booking of each of its claims and
 * each insurer payment. Running totals are kept beside the claims so a change costs one claim, not a
 * pass over the month; the codec writes one field per claim and payment, so a chunk writes only those
 * it changed.
 *
 * A large hospital settles thousands of claims a month. The claims are a persistent map (immutable.js:
 * an update shares all but a few nodes with the map before it), so a change costs O(log n) and the
 * item stays an immutable value, instead of a copy of the month's claims per change; and each claim's
 * stored text is written once per claim object, not again for every chunk that touches the month.
 */
import { Map as PersistentMap } from 'immutable';
import { formatMoney, type Money, ZERO } from '../../shared/money.js';
import type { LocalDate } from '../../shared/policy/dates.js';
import { storedLast } from '../../shared/reconciliation.js';
import { type EntityKind, KeyLineage, keyedChanges } from '../../shared/runner/service.js';
import { StateReader } from '../../shared/state-reader.js';

export interface MonthClaim {
  readonly revision: number;
  readonly held: boolean;
  readonly reversal: boolean;
  readonly claimed: Money;
  /** 0 while held. */
  readonly due: Money;
}

export interface MonthPayment {
  readonly amount: Money;
  readonly listed: readonly string[];
}

export interface Totals {
  /** Σ due of decided claims. */
  readonly due: Money;
  /** Σ claimed of every claim. */
  readonly claimed: Money;
  /** Σ claimed of held claims. */
  readonly held: Money;
  readonly heldClaims: number;
  readonly settlements: number;
  readonly reversals: number;
  readonly paid: Money;
  /** Settlement ids the insurer listed that are not among the month's claims. */
  readonly listedNotSeen: number;
}

export interface HospitalMonthItem {
  readonly region: string;
  readonly hospitalCode: string;
  readonly month: string;
  readonly year: number;
  readonly claims: PersistentMap<string, MonthClaim>;
  readonly payments: ReadonlyMap<string, MonthPayment>;
  /** Every id the insurer listed for the month. */
  readonly listed: ReadonlySet<string>;
  readonly totals: Totals;
  readonly openedOn: LocalDate | null;
  readonly updatedOn: LocalDate | null;
  readonly last: readonly [string, string] | null;
  readonly published: boolean;
}

export const EMPTY_TOTALS: Totals = {
  due: ZERO,
  claimed: ZERO,
  held: ZERO,
  heldClaims: 0,
  settlements: 0,
  reversals: 0,
  paid: ZERO,
  listedNotSeen: 0,
};

function headerText(item: HospitalMonthItem): string {
  const t = item.totals;
  return JSON.stringify([
    item.year,
    [
      formatMoney(t.due),
      formatMoney(t.claimed),
      formatMoney(t.held),
      t.heldClaims,
      t.settlements,
      t.reversals,
      formatMoney(t.paid),
      t.listedNotSeen,
    ],
    item.openedOn,
    item.updatedOn,
    item.last,
    item.published,
  ]);
}

const paymentText = (p: MonthPayment): string => JSON.stringify([formatMoney(p.amount), p.listed]);

// A claim entry never changes (a later booking is a new entry): its text is computed once.
const claimTexts = new WeakMap<MonthClaim, string>();

function claimText(c: MonthClaim): string {
  let text = claimTexts.get(c);
  if (text === undefined) {
    text = JSON.stringify([c.revision, c.held, c.reversal, formatMoney(c.claimed), formatMoney(c.due)]);
    claimTexts.set(c, text);
  }
  return text;
}

/** Which claim each version of a month's claims changed: a chunk's write looks at those claims alone. */
export const claimLineage = new KeyLineage<PersistentMap<string, MonthClaim>>();

export const hospitalMonthId = (region: string, hospitalCode: string, month: string) =>
  `${region}:${hospitalCode}:${month}`;

export const HOSPITAL_MONTH_ITEM: EntityKind<HospitalMonthItem> = {
  name: 'hospital-month',
  empty(id) {
    const [region, hospitalCode, month] = id.split(':');
    return {
      region: region as string,
      hospitalCode: hospitalCode as string,
      month: month as string,
      year: Number((month as string).slice(0, 4)),
      claims: PersistentMap(),
      payments: new Map(),
      listed: new Set(),
      totals: EMPTY_TOTALS,
      openedOn: null,
      updatedOn: null,
      last: null,
      published: false,
    };
  },
  encode(item) {
    const fields: Record<string, string> = { h: headerText(item) };
    for (const [id, c] of item.claims) fields[`c:${id}`] = claimText(c);
    for (const [id, p] of item.payments) fields[`p:${id}`] = paymentText(p);
    for (const id of item.listed) fields[`l:${id}`] = '1';
    return fields;
  },
  // A chunk changes a few of a month's thousands of claims: only those are compared and written.
  changes(before, after) {
    const changes = { set: [] as Array<readonly [string, string]>, del: [] as string[] };
    const header = headerText(after);
    if (header !== headerText(before)) changes.set.push(['h', header]);
    const changed = claimLineage.keysBetween(before.claims, after.claims);
    keyedChanges(before.claims, after.claims, (id) => `c:${id}`, claimText, changes, changed);
    keyedChanges(before.payments, after.payments, (id) => `p:${id}`, paymentText, changes);
    if (after.listed !== before.listed) {
      for (const id of after.listed) if (!before.listed.has(id)) changes.set.push([`l:${id}`, '1']);
      for (const id of before.listed) if (!after.listed.has(id)) changes.del.push(`l:${id}`);
    }
    return changes;
  },
  decode(fields, id) {
    const r: StateReader = new StateReader(`hospital-month ${id}`);
    const h = r.json(fields.h, 'h') as unknown[];
    const t = h[1] as unknown[];
    if (!Array.isArray(t) || t.length !== 8) r.fail('totals');
    const claims = PersistentMap<string, MonthClaim>().asMutable();
    const payments = new Map<string, MonthPayment>();
    const listed = new Set<string>();
    for (const [field, text] of Object.entries(fields)) {
      if (field.startsWith('c:')) {
        const c = r.json(text, field) as unknown[];
        claims.set(field.slice(2), {
          revision: Number(c[0]),
          held: c[1] === true,
          reversal: c[2] === true,
          claimed: r.money(c[3], `${field} claimed`),
          due: r.money(c[4], `${field} due`),
        });
      } else if (field.startsWith('p:')) {
        const p = r.json(text, field) as unknown[];
        payments.set(field.slice(2), {
          amount: r.money(p[0], `${field} amount`),
          listed: (p[1] as string[]) ?? [],
        });
      } else if (field.startsWith('l:')) {
        listed.add(field.slice(2));
      }
    }
    return {
      ...HOSPITAL_MONTH_ITEM.empty(id),
      year: Number(h[0]),
      claims: claims.asImmutable(),
      payments,
      listed,
      totals: {
        due: r.money(t[0], 'totals due'),
        claimed: r.money(t[1], 'totals claimed'),
        held: r.money(t[2], 'totals held'),
        heldClaims: Number(t[3]),
        settlements: Number(t[4]),
        reversals: Number(t[5]),
        paid: r.money(t[6], 'totals paid'),
        listedNotSeen: Number(t[7]),
      },
      openedOn: r.optionalDate(h[2], 'h openedOn'),
      updatedOn: r.optionalDate(h[3], 'h updatedOn'),
      last: storedLast(h[4]),
      published: h[5] === true,
    };
  },
};
