import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRawEvent, type SimulatedYear } from '../../deploy/simulate/generate.js';
import { REPO_ROOT } from '../../shared/config.js';
import type {
  HospitalSettlement,
  HospitalSettlementReversal,
  InsurerMonthlySettlement,
  ManualReimbursement,
  OperatingCost,
  PremiumCollected,
  PremiumCorrection,
} from '../../shared/records.js';

/**
 * An independent reference calculation of a year's books, for the year test's oracle. It reads the
 * region parameter files as plain JSON and works in integer fen; it calls none of the hub's policy,
 * ledger or service code, so a mistake there cannot bless itself. The rules, as the policy documents
 * state them:
 * - cover: the premium paid in full inside the collection window (Kaifeng art. 8, Dehong art. 8), or,
 *   where the region has the exception, a new basic-insurance enrolee (joined after the window closed,
 *   within the cover year) who paid in full by the year's end (Kaifeng art. 9);
 * - a claim owes the supplement only for a covered member, a medical type the region pays, and once the
 *   member's basic-fund payments this year (this claim included) reach the basic fund's cap: the
 *   over-cap amount × the ratio (Dehong art. 10: 90 %), 5 points less for un-referred care outside the
 *   prefecture (Dehong art. 12), rounded half-up to the fen, and no more than what is left of the
 *   annual cap (Kaifeng art. 14: 6 × the average wage, less the basic cap);
 * - claims count in the year-to-date in time order (a manual claim at the end of the day it was paid);
 *   a reversal takes back exactly what its settlement owed.
 */

type Json = Record<string, unknown>;
interface Version {
  readonly effectiveFrom: string;
  readonly value: unknown;
}

const FILES: Record<string, string> = { '410200': '410200-kaifeng.json', '533100': '533100-dehong.json' };

class Rules {
  private readonly parameters: Record<string, Version[]>;
  constructor(region: string) {
    const file = join(REPO_ROOT, 'shared/policy/regions', FILES[region] as string);
    this.parameters = (JSON.parse(readFileSync(file, 'utf8')) as Json).parameters as Record<
      string,
      Version[]
    >;
  }

  /** The value in force on a day (the first version for a day before it). */
  on(name: string, day: string): unknown {
    const versions = [...(this.parameters[name] ?? [])].sort((a, b) =>
      a.effectiveFrom < b.effectiveFrom ? -1 : 1,
    );
    let value = versions[0]?.value;
    for (const v of versions) if (v.effectiveFrom <= day) value = v.value;
    return value;
  }
}

const fen = (text: unknown): number => Math.round(Number(String(text)) * 100);
const fenOf = (amount: { toFixed(n: number): string }): number => Math.round(Number(amount.toFixed(2)) * 100);
const basisPoints = (text: unknown): number => Math.round(Number(String(text)) * 10_000);
const dayOf = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);
const endOfDay = (day: string) => Date.parse(`${day}T23:59:59.999+08:00`);

function windowOf(rules: Rules, year: number): { opens: string; closes: string } {
  const w = rules.on('premiumWindow', `${year}-01-01`) as {
    opensMonthDay: string;
    opensYearOffset: number;
    closesMonthDay: string;
    closesYearOffset: number;
  };
  return {
    opens: `${year + w.opensYearOffset}-${w.opensMonthDay}`,
    closes: `${year + w.closesYearOffset}-${w.closesMonthDay}`,
  };
}

/** The input records of a year, as published (refused events already left out). */
export interface ReferenceInput {
  readonly region: string;
  readonly year: number;
  readonly premiums: readonly PremiumCollected[];
  readonly corrections: readonly PremiumCorrection[];
  readonly settlements: readonly HospitalSettlement[];
  readonly reversals: readonly HospitalSettlementReversal[];
  readonly manualClaims: readonly ManualReimbursement[];
  readonly payouts: readonly InsurerMonthlySettlement[];
  readonly costs: readonly OperatingCost[];
}

export interface ReferenceBooks {
  /** What each claim owes at the end, in fen, by settlement id or claim id. */
  readonly due: ReadonlyMap<string, number>;
  /** Members covered for the year (national ID → covered). */
  readonly covered: ReadonlyMap<string, boolean>;
  /** Totals of the disclosure's year, in fen. */
  readonly year: {
    premiumIncome: number;
    claimsPaidDirect: number;
    claimsPaidManual: number;
    operatingCost: number;
  };
  /** Hospital-month ("<hospital>:<YYYY-MM>") → Σ due and Σ paid, in fen. */
  readonly hospitalMonths: ReadonlyMap<string, { due: number; claimed: number; paid: number }>;
}

interface Claim {
  readonly id: string;
  readonly at: number;
  readonly rank: number;
  readonly basic: number;
  readonly overCap: number;
  readonly medicalType: string;
  readonly penalised: boolean;
  readonly serviceDate: string;
  readonly reverses?: string;
}

export function referenceBooks(input: ReferenceInput): ReferenceBooks {
  const rules = new Rules(input.region);
  const { year } = input;
  const window = windowOf(rules, year);
  const premiumDue = fen(rules.on('premiumDue', `${year}-01-01`));
  const newEnrolees = rules.on('newEnroleeException', `${year}-01-01`) === true;

  // Premiums per member, corrections applied to the payment they correct.
  const payments = new Map<string, Map<string, { amount: number; paidOn: string }>>();
  const enrolled = new Map<string, string>();
  for (const p of input.premiums) {
    const member = payments.get(p.nationalId) ?? new Map();
    member.set(p.eventId, { amount: fenOf(p.amount), paidOn: p.paidOn });
    payments.set(p.nationalId, member);
    if (p.basicEnrolmentDate !== null) enrolled.set(p.nationalId, p.basicEnrolmentDate);
  }
  for (const c of input.corrections) {
    const payment = payments.get(c.nationalId)?.get(c.originalEventId);
    if (payment) payment.amount = fenOf(c.correctedAmount);
  }
  const covered = new Map<string, boolean>();
  let premiumIncome = 0;
  for (const [member, paid] of payments) {
    const list = [...paid.values()];
    premiumIncome += list.reduce((sum, p) => sum + p.amount, 0);
    const inWindow = list
      .filter((p) => p.paidOn >= window.opens && p.paidOn <= window.closes)
      .reduce((s, p) => s + p.amount, 0);
    const joined = enrolled.get(member);
    const byYearEnd = list
      .filter((p) => p.paidOn >= window.opens && p.paidOn <= `${year}-12-31`)
      .reduce((s, p) => s + p.amount, 0);
    const newEnrolee =
      newEnrolees && joined !== undefined && joined > window.closes && joined <= `${year}-12-31`;
    covered.set(member, inWindow >= premiumDue || (newEnrolee && byYearEnd >= premiumDue));
  }

  // Claims per member in year-to-date order.
  const claims = new Map<string, Claim[]>();
  const add = (member: string, claim: Claim) => claims.set(member, [...(claims.get(member) ?? []), claim]);
  const penalised = (outOfArea: boolean, referral: string) => outOfArea && referral === 'NOT_REFERRED';
  for (const s of input.settlements) {
    add(s.nationalId, {
      id: s.settlementId,
      at: s.settledAt.getTime(),
      rank: 0,
      basic: fenOf(s.basicFundPaid),
      overCap: fenOf(s.overBasicCapAmount),
      medicalType: s.medicalType,
      penalised: penalised(s.outOfArea, s.referral),
      serviceDate: s.serviceDate,
    });
  }
  for (const r of input.reversals) {
    add(r.nationalId, {
      id: r.settlementId,
      at: r.reversedAt.getTime(),
      rank: 1,
      basic: fenOf(r.basicFundPaid),
      overCap: fenOf(r.overBasicCapAmount),
      medicalType: r.medicalType,
      penalised: false,
      serviceDate: r.serviceDate,
      reverses: r.originalSettlementId,
    });
  }
  for (const m of input.manualClaims) {
    add(m.nationalId, {
      id: m.claimId,
      at: endOfDay(m.paidOn),
      rank: 2,
      basic: fenOf(m.basicFundPaid),
      overCap: fenOf(m.overBasicCapAmount),
      medicalType: m.medicalType,
      penalised: penalised(m.outOfArea, m.referral),
      serviceDate: m.serviceDate,
    });
  }
  const due = new Map<string, number>();
  for (const [member, list] of claims) {
    list.sort((a, b) => a.at - b.at || a.rank - b.rank || (a.id < b.id ? -1 : 1));
    let basicSoFar = 0;
    let supplementSoFar = 0;
    for (const claim of list) {
      let owed = 0;
      if (claim.reverses !== undefined) {
        owed = -(due.get(claim.reverses) ?? 0);
      } else if (covered.get(member) === true) {
        const day = claim.serviceDate;
        const types = rules.on('medicalTypesCovered', day) as string[];
        const type = claim.medicalType === 'INPATIENT' ? 'inpatient' : 'special-outpatient';
        const cap = fen(rules.on('basicFundCap', day));
        if (types.includes(type) && basicSoFar + claim.basic >= cap) {
          const ratio =
            basisPoints(rules.on('supplementRatio', day)) -
            (claim.penalised ? basisPoints(rules.on('referralPenalty', day)) : 0);
          owed = Math.floor((claim.overCap * ratio + 5_000) / 10_000);
          const annual = rules.on('annualCap', day) as { kind: string; multiple?: string };
          if (annual.kind === 'combined-wage-multiple') {
            const limit = Math.round(Number(annual.multiple) * fen(rules.on('cityAverageWage', day))) - cap;
            owed = Math.min(owed, Math.max(0, limit - supplementSoFar));
          }
        }
      }
      due.set(claim.id, owed);
      basicSoFar += claim.basic;
      supplementSoFar += owed;
    }
  }

  // The disclosure's year: claims in the period of their own date, premiums in their cover year.
  const inYear = (day: string) => day.startsWith(String(year));
  const claimsPaidDirect =
    input.settlements
      .filter((s) => inYear(dayOf(s.settledAt.getTime())))
      .reduce((sum, s) => sum + (due.get(s.settlementId) ?? 0), 0) +
    input.reversals
      .filter((r) => inYear(dayOf(r.reversedAt.getTime())))
      .reduce((sum, r) => sum + (due.get(r.settlementId) ?? 0), 0);
  const claimsPaidManual = input.manualClaims
    .filter((m) => inYear(m.paidOn))
    .reduce((sum, m) => sum + fenOf(m.amountPaid), 0);
  const operatingCost = input.costs
    .filter((c) => inYear(c.recordedOn))
    .reduce((sum, c) => sum + fenOf(c.amount), 0);

  const hospitalMonths = new Map<string, { due: number; claimed: number; paid: number }>();
  const month = (hospital: string, serviceDate: string) => {
    const key = `${hospital}:${serviceDate.slice(0, 7)}`;
    const found = hospitalMonths.get(key) ?? { due: 0, claimed: 0, paid: 0 };
    hospitalMonths.set(key, found);
    return found;
  };
  for (const s of [...input.settlements, ...input.reversals]) {
    const owed = due.get(s.settlementId) ?? 0;
    const claimed = fenOf(s.supplementClaimed);
    if (owed === 0 && claimed === 0) continue;
    const m = month(s.hospitalCode, s.serviceDate);
    m.due += owed;
    m.claimed += claimed;
  }
  for (const p of input.payouts) month(p.hospitalCode, `${p.month}-01`).paid += fenOf(p.amount);
  return {
    due,
    covered,
    year: { premiumIncome, claimsPaidDirect, claimsPaidManual, operatingCost },
    hospitalMonths,
  };
}

/** Fen as money text, "1234.56". */
export const yuanText = (fenAmount: number): string => {
  const sign = fenAmount < 0 ? '-' : '';
  const abs = Math.abs(fenAmount);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
};

/** The published records the hub accepts: the truth names the refused ones by index. */
export function referenceInputOf(simulated: SimulatedYear, region: string): ReferenceInput {
  const refused = new Set(simulated.truth.deadLetters.map((d) => d.index));
  const records = simulated.events.flatMap((e, i) => (isRawEvent(e) || refused.has(i) ? [] : [e]));
  const of = <T>(record: string) => records.filter((e) => e.record === record).map((e) => e.value as T);
  return {
    region,
    year: simulated.truth.year,
    premiums: of('premium-collected'),
    corrections: of('premium-correction'),
    settlements: of('hospital-settlement'),
    reversals: of('hospital-settlement-reversal'),
    manualClaims: of('manual-reimbursement'),
    payouts: of('insurer-monthly-settlement'),
    costs: of('operating-cost'),
  };
}
