/**
 * Who is in a synthetic region: designated hospitals (a few large, many small), employers, and members
 * with their national IDs, kind (employee, retiree, ...), how their premium is paid, and how much care
 * they will need this year. Pure and seeded.
 */
import {
  type MemberPseudonym,
  type NationalId,
  type PseudonymKey,
  pseudonymFor,
} from '../../shared/identity.js';
import { addDays, type LocalDate } from '../../shared/policy/dates.js';
import type { MemberKind, PayerKind, PolicyParams } from '../../shared/policy/params.js';
import type { PayerType } from '../../shared/records.js';
import type { HospitalTier } from './care.js';
import { districtsOf, institutionCode, nationalIdOf, unifiedSocialCreditCode } from './identities.js';
import type { Rng } from './random.js';

export interface Hospital {
  readonly code: string;
  readonly tier: HospitalTier;
  /** Zipf-like share of the region's visits. */
  readonly weight: number;
}

export interface Employer {
  readonly code: string;
  /** A public body (机关事业单位): its staff get the civil-servant subsidy or a budget-paid unit share. */
  readonly publicBody: boolean;
  readonly weight: number;
}

/** One part of a member's yearly premium: who pays it and which share of the premium it is. */
export interface PremiumPart {
  readonly payerType: PayerType;
  readonly share: number;
}

/** How much care a member needs this year. */
export type CareProfile =
  /** no inpatient or special-outpatient settlement */
  | 'none'
  /** one or two short stays */
  | 'light'
  /** monthly special-outpatient visits (门诊慢特病), sometimes a stay */
  | 'chronic'
  /** serious illness treated in the region: crosses the basic cap and keeps going */
  | 'heavy'
  /** serious illness treated outside the region, reimbursed by manual claims */
  | 'away';

export interface Member {
  readonly index: number;
  readonly nationalId: NationalId;
  readonly pseudonym: MemberPseudonym;
  /** psn_no */
  readonly personNo: string;
  readonly birthDate: LocalDate;
  readonly kind: MemberKind;
  readonly retiree: boolean;
  readonly employer: Employer | null;
  /** When the member joined the employee basic insurance; null when the tax authority does not know. */
  enrolledOn: LocalDate | null;
  parts: readonly PremiumPart[];
  profile: CareProfile;
  readonly civilServant: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** A uniform day in [from, to], both inclusive. */
export function dayBetween(rng: Rng, from: LocalDate, to: LocalDate): LocalDate {
  return addDays(from, rng.int(0, Math.max(0, daysBetween(from, to))));
}

/** Zipf-like weights 1/k^s: a few large institutions take most visits. */
function zipf(count: number, exponent: number): number[] {
  return Array.from({ length: count }, (_, k) => 1 / (k + 1) ** exponent);
}

/** Hospitals of the region: ranks 1–2 large (三级), 3–6 medium (二级), the rest small (一级/卫生院). */
export function makeHospitals(rng: Rng, region: string, members: number, params: PolicyParams): Hospital[] {
  const districts = districtsOf(region);
  const count = Math.min(80, Math.max(8, Math.round(6 + members / 120)));
  const weights = zipf(count, 1.1);
  const used = new Set<string>();
  const hospitals: Hospital[] = [];
  for (let rank = 0; rank < count; rank += 1) {
    // Large hospitals are in the urban districts, listed first.
    const area = rank < 2 ? (districts[rank % 2] as string) : rng.pick(districts);
    let code = '';
    do code = institutionCode(area, rng.int(1, 3999));
    while (used.has(code));
    used.add(code);
    if (!params.hospitalCode.test(code)) {
      throw new RangeError(
        `region ${region}: generated institution code ${code} does not match its hospitalCodePattern ${params.hospitalCodePattern}`,
      );
    }
    const tier: HospitalTier = rank < 2 ? 'large' : rank < 6 ? 'medium' : 'small';
    hospitals.push({ code, tier, weight: weights[rank] as number });
  }
  return hospitals;
}

export function makeEmployers(rng: Rng, region: string, members: number): Employer[] {
  const districts = districtsOf(region);
  const count = Math.max(3, Math.round(members / 25));
  const weights = zipf(count, 0.9);
  return weights.map((weight) => {
    const publicBody = rng.chance(0.15);
    // GB 32100-2015 registration: 11 = 机关, 91 = enterprise.
    return {
      code: unifiedSocialCreditCode(rng, rng.pick(districts), publicBody ? '11' : '91'),
      publicBody,
      weight,
    };
  });
}

interface PremiumPlan {
  readonly parts: readonly PremiumPart[];
  /** Region payer kinds, one list per part: the part is possible when the region accepts any of them. */
  readonly needs: readonly (readonly PayerKind[])[];
  readonly kinds: Partial<Record<MemberKind, number>>;
  readonly publicBody?: boolean;
  readonly withEmployer: boolean;
}

// Kaifeng art. 7, Dehong art. 6: who pays, and for whom. Weights are illustrative.
const PLANS: readonly PremiumPlan[] = [
  {
    parts: [{ payerType: 'UNIT_WITHHOLDING', share: 1 }],
    needs: [['unit-withholding']],
    kinds: { employee: 6, retiree: 3 },
    withEmployer: true,
  },
  {
    parts: [{ payerType: 'CIVIL_SERVANT_SUBSIDY_TRANSFER', share: 1 }],
    needs: [['civil-servant-subsidy-transfer']],
    kinds: { employee: 6 },
    publicBody: true,
    withEmployer: true,
  },
  {
    parts: [{ payerType: 'ENTERPRISE_SUPPLEMENTARY_TRANSFER', share: 1 }],
    needs: [['enterprise-supplementary-transfer']],
    kinds: { employee: 0.6 },
    publicBody: false,
    withEmployer: true,
  },
  {
    parts: [
      { payerType: 'UNIT_SHARE', share: 0.7 },
      { payerType: 'INDIVIDUAL_SHARE', share: 0.3 },
    ],
    needs: [['unit', 'unit-and-individual'], ['individual']],
    kinds: { employee: 2.5 },
    publicBody: false,
    withEmployer: true,
  },
  {
    parts: [
      { payerType: 'UNIT_SHARE', share: 0.5 },
      { payerType: 'PERSONAL_ACCOUNT_DEDUCTION', share: 0.5 },
    ],
    needs: [['unit', 'unit-and-individual'], ['personal-account-deduction']],
    kinds: { employee: 6, retiree: 1 },
    publicBody: false,
    withEmployer: true,
  },
  {
    parts: [
      { payerType: 'FISCAL_BUDGET', share: 0.5 },
      { payerType: 'PERSONAL_ACCOUNT_DEDUCTION', share: 0.5 },
    ],
    needs: [['public-budget'], ['personal-account-deduction']],
    kinds: { employee: 6 },
    publicBody: true,
    withEmployer: true,
  },
  {
    parts: [{ payerType: 'FLEXIBLE_WORKER_SELF_PAID', share: 1 }],
    needs: [['flexible-worker']],
    kinds: { 'flexible-worker': 1 },
    withEmployer: false,
  },
  {
    parts: [{ payerType: 'UNEMPLOYED_SELF_PAID', share: 1 }],
    needs: [['unemployed']],
    kinds: { unemployed: 1 },
    withEmployer: false,
  },
  {
    parts: [{ payerType: 'RETIREE_SELF_PAID', share: 1 }],
    needs: [['retiree-without-unit']],
    kinds: { retiree: 3 },
    withEmployer: false,
  },
];

const accepted = (plan: PremiumPlan, params: PolicyParams): boolean =>
  plan.needs.every((kinds) => kinds.some((kind) => params.payerKinds.includes(kind)));

/** A single-payment plan the region accepts, for members whose premium story needs one payment. */
export function singlePaymentPlan(params: PolicyParams, kind: MemberKind): readonly PremiumPart[] {
  const single = PLANS.filter((plan) => plan.parts.length === 1 && accepted(plan, params));
  const forKind = single.find((plan) => (plan.kinds[kind] ?? 0) > 0 && !plan.publicBody) ?? single[0];
  if (forKind === undefined)
    throw new RangeError(`region ${params.region.code} accepts no single-payment plan`);
  return forKind.parts;
}

function planFor(rng: Rng, params: PolicyParams, kind: MemberKind, employer: Employer | null): PremiumPlan {
  const possible = PLANS.filter(
    (plan) =>
      accepted(plan, params) &&
      (plan.kinds[kind] ?? 0) > 0 &&
      (plan.withEmployer ? employer !== null : true) &&
      (plan.publicBody === undefined || employer === null || plan.publicBody === employer.publicBody),
  );
  const candidates = possible.length > 0 ? possible : PLANS.filter((plan) => accepted(plan, params));
  if (candidates.length === 0) throw new RangeError(`region ${params.region.code} accepts no premium payer`);
  return rng.weighted(
    candidates,
    candidates.map((plan) => plan.kinds[kind] ?? 1),
  );
}

/** Members with valid, distinct national IDs of the region's districts, born 1950–2000. */
export function makeMembers(
  rng: Rng,
  count: number,
  region: string,
  params: PolicyParams,
  employers: readonly Employer[],
  pseudonymKey: PseudonymKey,
  seedTag: string,
  enrolmentBefore: LocalDate,
): Member[] {
  const districts = districtsOf(region);
  const covered = params.memberKindsCovered;
  const employerWeights = employers.map((e) => e.weight);
  const seen = new Set<string>();
  const members: Member[] = [];
  for (let index = 0; index < count; index += 1) {
    const birthYear = rng.int(1950, 2000);
    let nationalId = '';
    let birthDate = '' as LocalDate;
    do {
      birthDate = dayBetween(rng, `${birthYear}-01-01` as LocalDate, `${birthYear}-12-31` as LocalDate);
      nationalId = nationalIdOf(rng.pick(districts), birthDate, rng.int(1, 999));
    } while (seen.has(nationalId));
    seen.add(nationalId);

    // Men retire at 60 and women at 50–55: born before 1965 retired, 1965–1970 partly.
    const retiree = birthYear < 1965 || (birthYear <= 1970 && rng.chance(0.4));
    let kind: MemberKind = 'employee';
    if (retiree) kind = 'retiree';
    else if (rng.chance(0.13)) kind = 'flexible-worker';
    else if (rng.chance(0.05)) kind = 'unemployed';
    if (!covered.includes(kind))
      kind = covered.includes('employee') ? 'employee' : (covered[0] as MemberKind);

    const hasEmployer = kind === 'employee' || (kind === 'retiree' && rng.chance(0.5));
    const employer = hasEmployer ? (rng.weighted(employers, employerWeights) as Employer) : null;
    const plan = planFor(rng, params, kind, employer);
    const adult = addDays(birthDate, 18 * 365 + 5);
    const enrolFrom = adult > '1999-01-01' ? adult : ('1999-01-01' as LocalDate);
    const enrolledOn =
      rng.chance(0.2) || enrolFrom >= enrolmentBefore
        ? null
        : dayBetween(rng, enrolFrom, addDays(enrolmentBefore, -1));
    members.push({
      index,
      nationalId: nationalId as NationalId,
      pseudonym: pseudonymFor(nationalId as NationalId, pseudonymKey),
      personNo: `${region.slice(0, 2)}${seedTag}${String(index).padStart(14, '0')}`,
      birthDate,
      kind,
      retiree: kind === 'retiree',
      employer: plan.withEmployer ? employer : null,
      enrolledOn,
      parts: plan.parts,
      profile: 'none',
      civilServant: plan.parts.some((p) => p.payerType === 'CIVIL_SERVANT_SUBSIDY_TRANSFER'),
    });
  }
  return members;
}

// Members crossing the basic cap in a year: treated in the region, and away (README.md, "The synthetic year").
const HEAVY_SHARE = 0.004;
const AWAY_SHARE = 0.001;

/**
 * How much care each member needs. Heavy and away members are counted out (a handful per thousand,
 * older members more likely, never fewer than `minimum`); the rest draw light or chronic care by age.
 */
export function assignProfiles(
  rng: Rng,
  members: readonly Member[],
  minimum: { readonly heavy: number; readonly away: number },
): void {
  const ageWeight = (m: Member) => (m.retiree ? 3 : 1);
  const heavyCount = Math.min(
    members.length,
    Math.max(minimum.heavy, Math.round(members.length * HEAVY_SHARE)),
  );
  const awayCount = Math.min(
    members.length - heavyCount,
    Math.max(minimum.away, Math.round(members.length * AWAY_SHARE)),
  );
  const pool = [...members];
  const draw = (n: number, profile: CareProfile) => {
    for (let i = 0; i < n && pool.length > 0; i += 1) {
      const at = rng.weightedIndex(pool.map(ageWeight));
      const [member] = pool.splice(at, 1);
      if (member) member.profile = profile;
    }
  };
  draw(heavyCount, 'heavy');
  draw(awayCount, 'away');
  for (const member of pool) {
    const r = rng.next();
    const chronic = member.retiree ? 0.14 : 0.03;
    const light = member.retiree ? 0.22 : 0.13;
    member.profile = r < chronic ? 'chronic' : r < chronic + light ? 'light' : 'none';
  }
}
