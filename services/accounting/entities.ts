/**
 * The accounting service's entities and their one codec each (Redis hash fields). State is the hub's
 * own writing: a field that does not read back is corruption (CorruptStateError), never input.
 */
import { formatMoney } from '../../shared/money.js';
import type { LocalDate } from '../../shared/policy/dates.js';
import { MEDICAL_TYPES, type MedicalType } from '../../shared/policy/params.js';
import type { SupplementFlag } from '../../shared/policy/supplement.js';
import { type EntityKind, keyedChanges } from '../../shared/runner/service.js';
import { StateReader } from '../../shared/state-reader.js';
import {
  type Booking,
  type Claim,
  type ClaimKind,
  compareClaims,
  comparePayments,
  emptyMemberYear,
  type MemberYear,
  type Origin,
  type Payment,
} from './member-year.js';

// ─── Reading back ──────────────────────────────────────────────────────────────────────────────────

function originIn(r: StateReader, value: unknown, what: string): Origin {
  if (!Array.isArray(value) || value.length !== 3) r.fail(`${what} is not an origin`);
  return {
    topic: r.text(value[0], what),
    partition: r.int(value[1], what),
    offset: r.int(value[2], what),
  };
}

const originOut = (o: Origin): [string, number, number] => [o.topic, o.partition, o.offset];

// ─── Member-year ───────────────────────────────────────────────────────────────────────────────────

export const memberYearId = (region: string, year: number, pseudonym: string): string =>
  `${region}:${year}:${pseudonym}`;

const CLAIM_KINDS: readonly ClaimKind[] = ['settlement', 'reversal', 'manual'];

// Claims and payments are immutable, and a member-year keeps the ones a fact did not change: each is
// written as text once, not again on every chunk that touches its member-year.
const claimText = new WeakMap<Claim, string>();
const paymentText = new WeakMap<Payment, string>();

function claimOut(c: Claim): string {
  let text = claimText.get(c);
  if (text === undefined) {
    text = claimJson(c);
    claimText.set(c, text);
  }
  return text;
}

function paymentOut(p: Payment): string {
  let text = paymentText.get(p);
  if (text === undefined) {
    text = JSON.stringify([formatMoney(p.amount), p.paidOn, originOut(p.origin)]);
    paymentText.set(p, text);
  }
  return text;
}

function headerOut(state: MemberYear): string {
  return JSON.stringify({
    e: state.enrolledOn,
    s: state.sequence,
    c: state.corrections.map(([id, origin]) => [id, originOut(origin)]),
  });
}

function claimJson(c: Claim): string {
  const f = c.figures;
  const b = c.booking;
  return JSON.stringify({
    k: c.kind,
    at: c.at,
    sd: c.serviceDate,
    po: c.postedOn,
    h: c.hospitalCode,
    f: [
      formatMoney(f.inScopeAmount),
      formatMoney(f.basicFundPaid),
      formatMoney(f.overCapAmount),
      f.outOfArea,
      f.referred,
      f.medicalType,
    ],
    cl: formatMoney(c.claimed),
    rv: c.reverses,
    rb: c.reversedBy,
    m:
      c.manual === null
        ? null
        : [
            c.manual.receivedOn,
            c.manual.paidOn,
            c.manual.sla.workingDays,
            c.manual.sla.withinSla,
            c.manual.sla.deadline,
            c.manual.sla.withinDeadline,
          ],
    o: originOut(c.origin),
    b:
      b.state === 'held'
        ? ['held', b.revision, b.postingId]
        : ['decided', b.revision, b.postingId, formatMoney(b.due), b.flags],
  });
}

function claimIn(r: StateReader, id: string, text: string | undefined, field: string): Claim {
  const raw = r.json(text, field) as Record<string, unknown>;
  const kind = raw.k as ClaimKind;
  if (!CLAIM_KINDS.includes(kind)) r.fail(`${field}: kind ${String(raw.k)} is unknown`);
  const f = raw.f as unknown[];
  if (!Array.isArray(f) || f.length !== 6) r.fail(`${field}: figures`);
  const medicalType = f[5] as MedicalType;
  if (!MEDICAL_TYPES.includes(medicalType)) r.fail(`${field}: medical type`);
  const m = raw.m as unknown[] | null;
  const b = raw.b as unknown[];
  if (!Array.isArray(b)) r.fail(`${field}: booking`);
  const revision = r.int(b[1], `${field} revision`);
  const postingId = r.text(b[2], `${field} posting`);
  const booking: Booking =
    b[0] === 'held'
      ? { state: 'held', revision, postingId }
      : {
          state: 'decided',
          revision,
          postingId,
          due: r.money(b[3], `${field} due`),
          flags: (b[4] as SupplementFlag[]) ?? [],
        };
  return {
    id,
    kind,
    at: r.int(raw.at, `${field} at`),
    serviceDate: r.date(raw.sd, `${field} serviceDate`),
    postedOn: r.date(raw.po, `${field} postedOn`),
    hospitalCode: raw.h === null ? null : r.text(raw.h, `${field} hospital`),
    figures: {
      inScopeAmount: r.money(f[0], `${field} inScope`),
      basicFundPaid: r.money(f[1], `${field} basicFundPaid`),
      overCapAmount: r.money(f[2], `${field} overCap`),
      outOfArea: f[3] === true,
      referred: f[4] === true,
      medicalType,
    },
    claimed: r.money(raw.cl, `${field} claimed`),
    reverses: raw.rv === null ? null : r.text(raw.rv, `${field} reverses`),
    reversedBy: raw.rb === null ? null : r.text(raw.rb, `${field} reversedBy`),
    manual:
      m === null
        ? null
        : {
            receivedOn: r.date(m[0], `${field} receivedOn`),
            paidOn: r.date(m[1], `${field} paidOn`),
            sla: {
              workingDays: r.int(m[2], `${field} workingDays`),
              withinSla: m[3] === true,
              deadline: r.date(m[4], `${field} deadline`),
              withinDeadline: m[5] === true,
            },
          },
    origin: originIn(r, raw.o, `${field} origin`),
    booking,
  };
}

/** A member-year: header `h`, one field per payment (`p:<eventId>`) and per claim (`c:<id>`), so a chunk writes only what changed. */
export const MEMBER_YEAR: EntityKind<MemberYear> = {
  name: 'member-year',
  empty(id) {
    const [region, year, pseudonym] = id.split(':');
    return emptyMemberYear(region as string, Number(year), pseudonym as string);
  },
  encode(state) {
    const fields: Record<string, string> = { h: headerOut(state) };
    for (const p of state.payments) fields[`p:${p.eventId}`] = paymentOut(p);
    for (const c of state.claims) fields[`c:${c.id}`] = claimOut(c);
    return fields;
  },
  // A fact changes the header and one or a few claims or payments: the rest are the same objects.
  changes(before, after) {
    const changes = { set: [] as Array<readonly [string, string]>, del: [] as string[] };
    const header = headerOut(after);
    if (header !== headerOut(before)) changes.set.push(['h', header]);
    if (before.payments !== after.payments) {
      const byId = (ps: readonly Payment[]) => new Map(ps.map((p) => [p.eventId, p]));
      keyedChanges(byId(before.payments), byId(after.payments), (id) => `p:${id}`, paymentOut, changes);
    }
    if (before.claims !== after.claims) {
      const byId = (cs: readonly Claim[]) => new Map(cs.map((c) => [c.id, c]));
      keyedChanges(byId(before.claims), byId(after.claims), (id) => `c:${id}`, claimOut, changes);
    }
    return changes;
  },
  decode(fields, id) {
    const r = new StateReader(`member-year ${id}`);
    const base = MEMBER_YEAR.empty(id);
    const header = r.json(fields.h, 'h') as { e: unknown; s: unknown; c: unknown[] };
    const payments: Payment[] = [];
    const claims: Claim[] = [];
    for (const [field, text] of Object.entries(fields)) {
      if (field.startsWith('p:')) {
        const p = r.json(text, field) as unknown[];
        payments.push({
          eventId: field.slice(2),
          amount: r.money(p[0], `${field} amount`),
          paidOn: r.date(p[1], `${field} paidOn`),
          origin: originIn(r, p[2], `${field} origin`),
        });
      } else if (field.startsWith('c:')) {
        claims.push(claimIn(r, field.slice(2), text, field));
      }
    }
    payments.sort(comparePayments);
    claims.sort(compareClaims);
    return {
      ...base,
      enrolledOn: r.optionalDate(header.e ?? null, 'h enrolledOn'),
      sequence: r.int(header.s, 'h sequence'),
      corrections: (header.c ?? []).map((entry, i) => {
        const pair = entry as unknown[];
        return [r.text(pair[0], `h correction ${i}`), originIn(r, pair[1], `h correction ${i}`)] as const;
      }),
      payments,
      claims,
    };
  },
};

// ─── Region-year (per journal partition) ───────────────────────────────────────────────────────────

/** One region and cover year as one journal partition sees it: the notice, and the members waiting for it. */
export interface RegionYear {
  readonly region: string;
  readonly year: number;
  readonly closed: { readonly noticeId: string; readonly issuedOn: LocalDate } | null;
  /** Members of this partition with claims held until their cover is decided. */
  readonly held: ReadonlySet<string>;
}

export const regionYearId = (region: string, year: number): string => `${region}:${year}`;

export const REGION_YEAR: EntityKind<RegionYear> = {
  name: 'region-year',
  empty(id) {
    const [region, year] = id.split(':');
    return { region: region as string, year: Number(year), closed: null, held: new Set() };
  },
  encode(state) {
    const fields: Record<string, string> = {
      closed: state.closed === null ? '' : JSON.stringify([state.closed.noticeId, state.closed.issuedOn]),
    };
    for (const pseudonym of state.held) fields[`held:${pseudonym}`] = '1';
    return fields;
  },
  decode(fields, id) {
    const r = new StateReader(`region-year ${id}`);
    const base = REGION_YEAR.empty(id);
    const closedText = fields.closed ?? '';
    const closed = closedText === '' ? null : (r.json(closedText, 'closed') as unknown[]);
    const held = new Set<string>();
    for (const field of Object.keys(fields)) if (field.startsWith('held:')) held.add(field.slice(5));
    return {
      ...base,
      closed:
        closed === null
          ? null
          : { noticeId: r.text(closed[0], 'closed id'), issuedOn: r.date(closed[1], 'closed date') },
      held,
    };
  },
};

// ─── Key-year: a hospital's or a region's facts of one year ────────────────────────────────────────

/** The insurer's payouts of one hospital, or the operating costs of one region, in one insurance year. */
export interface KeyYear {
  /** Postings emitted under this ledger key, region and year (ledger-posting.avsc `sequence`). */
  readonly sequence: number;
  /** Event ids applied, with where each was read. */
  readonly seen: ReadonlyMap<string, Origin>;
}

export const keyYearId = (key: string, region: string, year: number): string => `${key}:${region}:${year}`;

export const KEY_YEAR: EntityKind<KeyYear> = {
  name: 'key-year',
  empty: () => ({ sequence: 0, seen: new Map() }),
  encode(state) {
    const fields: Record<string, string> = { s: String(state.sequence) };
    for (const [id, origin] of state.seen) fields[`e:${id}`] = JSON.stringify(originOut(origin));
    return fields;
  },
  decode(fields, id) {
    const r = new StateReader(`key-year ${id}`);
    const seen = new Map<string, Origin>();
    for (const [field, text] of Object.entries(fields)) {
      if (field.startsWith('e:')) seen.set(field.slice(2), originIn(r, r.json(text, field), field));
    }
    const sequence = Number(fields.s);
    if (!Number.isInteger(sequence)) r.fail('field s is not a count');
    return { sequence, seen };
  },
};
