/**
 * The hospital stage's entity: one hospital-month, with the latest booking of each of its claims and
 * each insurer payment. Running totals are kept beside the claims so a change costs one claim, not a
 * pass over the month; the codec writes one field per claim and payment, so a chunk writes only those
 * it changed.
 */
import { CorruptStateError } from '../../shared/errors.js';
import { Decimal, formatMoney, type Money, ZERO } from '../../shared/money.js';
import { type LocalDate, parseLocalDate } from '../../shared/policy/dates.js';
import type { EntityKind } from '../../shared/runner/service.js';

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
  readonly claims: ReadonlyMap<string, MonthClaim>;
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
const optionalDate = (where: string, value: unknown): LocalDate | null =>
  value === null
    ? null
    : ((typeof value === 'string' ? parseLocalDate(value) : undefined) ?? fail(where, 'not a date'));

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
      claims: new Map(),
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
    const t = item.totals;
    const fields: Record<string, string> = {
      h: JSON.stringify([
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
      ]),
    };
    for (const [id, c] of item.claims) {
      fields[`c:${id}`] = JSON.stringify([
        c.revision,
        c.held,
        c.reversal,
        formatMoney(c.claimed),
        formatMoney(c.due),
      ]);
    }
    for (const [id, p] of item.payments)
      fields[`p:${id}`] = JSON.stringify([formatMoney(p.amount), p.listed]);
    for (const id of item.listed) fields[`l:${id}`] = '1';
    return fields;
  },
  decode(fields, id) {
    const where = `hospital-month ${id}`;
    const h = json(where, fields.h, 'h') as unknown[];
    const t = h[1] as unknown[];
    if (!Array.isArray(t) || t.length !== 8) fail(where, 'totals');
    const claims = new Map<string, MonthClaim>();
    const payments = new Map<string, MonthPayment>();
    const listed = new Set<string>();
    for (const [field, text] of Object.entries(fields)) {
      if (field.startsWith('c:')) {
        const c = json(where, text, field) as unknown[];
        claims.set(field.slice(2), {
          revision: Number(c[0]),
          held: c[1] === true,
          reversal: c[2] === true,
          claimed: money(where, c[3]),
          due: money(where, c[4]),
        });
      } else if (field.startsWith('p:')) {
        const p = json(where, text, field) as unknown[];
        payments.set(field.slice(2), { amount: money(where, p[0]), listed: (p[1] as string[]) ?? [] });
      } else if (field.startsWith('l:')) {
        listed.add(field.slice(2));
      }
    }
    return {
      ...HOSPITAL_MONTH_ITEM.empty(id),
      year: Number(h[0]),
      claims,
      payments,
      listed,
      totals: {
        due: money(where, t[0]),
        claimed: money(where, t[1]),
        held: money(where, t[2]),
        heldClaims: Number(t[3]),
        settlements: Number(t[4]),
        reversals: Number(t[5]),
        paid: money(where, t[6]),
        listedNotSeen: Number(t[7]),
      },
      openedOn: optionalDate(where, h[2]),
      updatedOn: optionalDate(where, h[3]),
      last: Array.isArray(h[4]) ? [String(h[4][0]), String(h[4][1])] : null,
      published: h[5] === true,
    };
  },
};
