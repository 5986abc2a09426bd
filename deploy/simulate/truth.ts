/**
 * The ground truth of a simulated year: what was published and what the hub should make of it, so a
 * test (or an operator) can check the hub against it. It never holds a national ID: members appear by
 * their pseudonym under the hub's key. Amounts are money text ("1234.50").
 */
import type { PostingKind, ReconciliationKind, ReconciliationStatus } from '../../shared/records.js';

export const TRUTH_FORMAT = 'medfund-hub-simulate-truth/1';

/** Faults the simulator can inject; each is on by default. */
export const FAULT_KINDS = [
  'HOSPITAL_OVER_CLAIM',
  'INSURER_SHORT_PAYMENT',
  'LATE_MANUAL_CLAIM',
  'PARTIAL_PREMIUM',
  'LATE_PREMIUM',
  'SETTLEMENT_BEFORE_PREMIUM',
  'DUPLICATES',
  'BAD_RECORDS',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What the simulator published, by the record's schema name, or raw bytes that are not Avro at all. */
export type PublishedKind =
  | 'premium-collected'
  | 'premium-correction'
  | 'premium-collection-closed'
  | 'hospital-settlement'
  | 'hospital-settlement-reversal'
  | 'insurer-monthly-settlement'
  | 'manual-reimbursement'
  | 'operating-cost'
  | 'raw-bytes';

/** One published event: its position in publication order, topic, kind and source-system id. */
export interface EventRef {
  readonly index: number;
  readonly topic: string;
  readonly kind: PublishedKind;
  /** eventId / settlementId / payoutId / claimId / costId; null for raw bytes. */
  readonly id: string | null;
}

/** A dead letter the hub must write for one published event: by the ingest service, or by accounting. */
export interface ExpectedDeadLetter extends EventRef {
  readonly service: string;
  readonly errorCode: string;
  readonly field: string;
}

/** The state a reconciliation item should reach (reconciliation-result.avsc). */
export interface ExpectedItem {
  readonly itemId: string;
  readonly kind: ReconciliationKind;
  /** The final status once every event is processed. */
  readonly status: ReconciliationStatus;
  /** Statuses the item passes through in publication order, ending with `status`. */
  readonly transitions: readonly ReconciliationStatus[];
  /** What the fund owes by policy (Σ due). */
  readonly expected: string;
  /** What was paid (insurer) or claimed (member-year: Σ supplement claimed while not covered). */
  readonly actual: string;
  /** actual − expected */
  readonly difference: string;
  readonly why: string;
}

export interface InjectedFault {
  readonly kind: FaultKind;
  readonly description: string;
  /** The published events that carry the fault. */
  readonly events: readonly EventRef[];
  readonly reconciliation: readonly ExpectedItem[];
  readonly deadLetters: readonly ExpectedDeadLetter[];
}

export interface HospitalMonthTruth {
  readonly itemId: string;
  readonly hospitalCode: string;
  /** "YYYY-MM" of the service dates. */
  readonly month: string;
  /** Settlements and reversals with a supplement claimed or due (the reconciler's item counts these). */
  readonly settlements: number;
  readonly reversals: number;
  readonly due: string;
  readonly claimed: string;
  readonly paid: string;
  /** The insurer's monthly settlement; null when nothing was to be paid (payout-ingest refuses 0.00). */
  readonly payoutId: string | null;
  readonly status: ReconciliationStatus;
}

export interface ManualClaimTruth {
  readonly itemId: string;
  readonly claimId: string;
  readonly memberPseudonym: string;
  readonly serviceDate: string;
  readonly receivedOn: string;
  readonly paidOn: string;
  readonly workingDays: number;
  readonly withinSla: boolean;
  readonly deadline: string;
  readonly withinDeadline: boolean;
  readonly outOfArea: boolean;
  readonly referral: string;
  readonly due: string;
  readonly paid: string;
  readonly status: ReconciliationStatus;
}

export interface Counts {
  readonly total: number;
  readonly by: Readonly<Record<string, number>>;
}

export interface GroundTruth {
  readonly format: typeof TRUTH_FORMAT;
  readonly region: string;
  readonly regionName: string;
  readonly year: number;
  readonly members: number;
  readonly seed: number;
  readonly policy: {
    readonly premiumDue: string;
    readonly premiumWindow: { readonly opensOn: string; readonly closesOn: string };
    readonly basicFundCap: string;
    readonly supplementRatio: string;
    readonly referralPenalty: string;
    /** null: the region sets no annual supplement cap. */
    readonly supplementCap: string | null;
    readonly manualClaimWorkingDays: number;
    readonly manualClaimDeadline: string;
  };
  readonly faults: {
    readonly enabled: readonly FaultKind[];
    readonly injected: readonly InjectedFault[];
  };
  /**
   * Counts in = counts out: every published event ends as the posting that books it, or one dead letter,
   * or (an end-of-collection notice) the bookings it causes. `ledgerPostings` counts the booking postings
   * of revision 0 by kind as publication order gives them (a claim held in publication order may be booked
   * directly in another order; the totals are the same).
   */
  readonly counts: {
    readonly published: Counts & { readonly byTopic: Readonly<Record<string, number>> };
    readonly notices: number;
    readonly ledgerPostings: Counts & { readonly by: Readonly<Partial<Record<PostingKind, number>>> };
    readonly deadLetters: Counts & { readonly byService: Readonly<Record<string, number>> };
  };
  readonly deadLetters: readonly ExpectedDeadLetter[];
  /** Every reconciliation item the hub should open, with its final state. */
  readonly reconciliation: {
    readonly hospitalMonths: readonly HospitalMonthTruth[];
    readonly manualClaims: readonly ManualClaimTruth[];
    /** Member-years only the faults open (honest members' settlements always follow their premium). */
    readonly memberYears: readonly ExpectedItem[];
  };
  /** Ledger totals the disclosure should show for the year. */
  readonly totals: {
    readonly premiumIncome: string;
    readonly directSupplementDue: string;
    readonly directSupplementClaimed: string;
    readonly insurerPaidHospitals: string;
    readonly manualClaimsPaid: string;
    readonly operatingCost: string;
    /** operating cost ÷ premium income, 4 decimals. */
    readonly operatingCostRatio: string;
  };
  readonly distribution: {
    readonly hospitals: readonly {
      readonly code: string;
      readonly tier: string;
      readonly settlements: number;
    }[];
    readonly membersWithSettlements: number;
    readonly membersWithManualClaims: number;
    /** Members whose basic-fund payments reached the basic cap (at any point of the year). */
    readonly membersReachingBasicCap: number;
    /** The most settlements above the basic cap one member had. */
    readonly maxOverCapSettlementsOfOneMember: number;
    readonly twoPartPremiums: number;
    readonly settlements: number;
    readonly reversals: number;
    readonly manualClaims: number;
    readonly manualClaimsOutOfArea: { readonly referred: number; readonly notReferred: number };
  };
  /** Premium payments outside the collection window, and why (a test of the window needs them). */
  readonly premiumsOutsideWindow: readonly {
    readonly eventId: string;
    readonly paidOn: string;
    readonly why: 'LATE_PREMIUM' | 'NEW_ENROLEE';
  }[];
}
