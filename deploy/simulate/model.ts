/**
 * The simulator's working records: what each member, settlement, claim and payment is before it becomes
 * a published record, and the small helpers they share. Amounts are integer fen until published.
 */
import type { PseudonymKey } from '../../shared/identity.js';
import { Decimal, formatMoney, type Money } from '../../shared/money.js';
import { chinaMidnight, type LocalDate } from '../../shared/policy/dates.js';
import type { PolicyParams } from '../../shared/policy/params.js';
import { regionParamsOn } from '../../shared/policy/regions.js';
import type { ManualClaimSlaDecision } from '../../shared/policy/workingDays.js';
import type { MedicalType, OperatingCostCategory, PayerType, PostingKind } from '../../shared/records.js';
import type { Topics } from '../../shared/topics.js';
import type { CareCost } from './care.js';
import type { SimEvent } from './events.js';
import type { ClaimPlan, EpisodePlan, PlanContext } from './plan.js';
import type { Hospital, Member } from './population.js';
import type { FaultKind, PublishedKind } from './truth.js';

export type Role = 'normal' | 'new-enrolee' | 'late' | 'partial' | 'before-premium';
/** The member-year's cover once every premium event is in: what the hub decides the year's claims by. */
export type Coverage = 'covered' | 'not-covered';

export interface CorrectionRec {
  eventId: string;
  readonly correctedFen: number;
  readonly correctedOn: LocalDate;
  readonly pubAt: number;
  readonly reason: string;
}

export interface PaymentRec {
  readonly story: MemberStory;
  eventId: string;
  readonly payerType: PayerType;
  readonly amountFen: number;
  readonly paidOn: LocalDate;
  pubAt: number;
  readonly employerCode: string | null;
  readonly why: 'LATE_PREMIUM' | 'NEW_ENROLEE' | null;
  correction: CorrectionRec | null;
}

export interface MemberStory {
  readonly member: Member;
  role: Role;
  payments: PaymentRec[];
  episodes: EpisodePlan[];
  claims: ClaimPlan[];
  /** Member-level faults (premium stories); every record of the member carries them. */
  readonly tags: FaultKind[];
  readonly claimTags: Map<ClaimPlan, FaultKind>;
}

export interface SettlementRec {
  readonly kind: 'settlement' | 'reversal';
  id: string;
  visitId: string;
  readonly story: MemberStory;
  readonly hospital: Hospital;
  readonly serviceDate: LocalDate;
  readonly at: number;
  readonly medicalType: MedicalType;
  readonly cost: CareCost;
  readonly basicFen: number;
  readonly overCapFen: number;
  claimedFen: number;
  readonly dueFen: number;
  readonly platformDueFen: number;
  readonly coverage: Coverage;
  /** Published before anything decided its member-year's cover: the hub holds it first. */
  readonly heldFirst: boolean;
  /** The settlement a reversal reverses, or the reversed settlement a re-settlement replaces. */
  readonly original: SettlementRec | null;
  reversed: boolean;
  readonly reason: string | null;
  readonly tags: FaultKind[];
}

export interface ClaimRec {
  id: string;
  readonly story: MemberStory;
  readonly plan: ClaimPlan;
  readonly basicFen: number;
  readonly overCapFen: number;
  readonly dueFen: number;
  readonly at: number;
  readonly sla: ManualClaimSlaDecision;
  readonly heldFirst: boolean;
  readonly tags: FaultKind[];
}

export interface PayoutRec {
  readonly id: string;
  readonly hospital: Hospital;
  readonly month: string;
  readonly amountFen: number;
  readonly paidOn: LocalDate;
  readonly at: number;
  readonly listed: readonly SettlementRec[];
  readonly tags: FaultKind[];
}

export interface CostRec {
  readonly id: string;
  readonly period: string;
  readonly category: OperatingCostCategory;
  readonly amountFen: number;
  readonly recordedOn: LocalDate;
  readonly at: number;
  readonly description: string;
}

/**
 * What the hub makes of a published event: the posting that books it when it arrives (in publication
 * order), nothing of its own (an end-of-collection notice), or a dead letter from the service that refuses it.
 */
export type Outcome =
  | { readonly posting: PostingKind }
  | { readonly notice: true }
  | { readonly deadLetter: { service: string; code: string; field: string } };

export interface Draft {
  readonly at: number;
  readonly seq: number;
  readonly event: SimEvent;
  readonly kind: PublishedKind;
  readonly id: string | null;
  readonly outcome: Outcome;
  readonly tags: readonly FaultKind[];
}

export interface Context extends PlanContext {
  readonly seed: number;
  readonly seedTag: string;
  readonly params: PolicyParams;
  readonly window: { readonly opensOn: LocalDate; readonly closesOn: LocalDate };
  readonly premiumDueFen: number;
  readonly faults: ReadonlySet<FaultKind>;
  readonly pseudonymKey: PseudonymKey;
  readonly topics: Topics;
}

/** Money from integer fen (never -0: decimal.js calls -0 negative). */
export const fen = (n: number): Money => new Decimal(n === 0 ? 0 : n).div(100);
export const toFen = (amount: Money): number => Math.round(amount.times(100).toNumber());
export const money = (n: number): string => formatMoney(fen(n));
/** An instant from a calendar day in China and minutes after its midnight. */
export const chinaAt = (date: LocalDate, minute: number): number =>
  chinaMidnight(date).getTime() + minute * 60_000;
export const monthOf = (date: LocalDate): string => date.slice(0, 7);
export const byAt = <T extends { at: number }>(a: T, b: T) => a.at - b.at;
export const maxDate = (a: LocalDate, b: LocalDate): LocalDate => (a > b ? a : b);
export const minDate = (a: LocalDate, b: LocalDate): LocalDate => (a < b ? a : b);

export { POLICY_MEDICAL_TYPE } from '../../shared/policy/params.js';

export function paramsOrThrow(region: string, date: LocalDate): PolicyParams {
  const params = regionParamsOn(region, date);
  if (!params.ok)
    throw new RangeError(`region ${region} on ${date}: ${params.error.code} ${params.error.rule}`);
  return params.value;
}
