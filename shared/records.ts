/**
 * TypeScript shapes of the records in schemas/*.avsc, as shared/avro.ts reads and writes them:
 * decimal → Money (decimal.js), date → LocalDate ("YYYY-MM-DD"), timestamp-millis → Date,
 * optional (union with null) → `T | null`. The .avsc files are the contract; these follow them
 * by hand and test/unit/schemas.unit.spec.ts checks every field name against the schema.
 */
import type { Money } from './money.js';
import type { NotCoveredReason } from './policy/eligibility.js';
import type { SupplementFlag } from './policy/supplement.js';

/**
 * A calendar date as ISO "YYYY-MM-DD" (Avro `date`, days since 1970-01-01). A plain string, not a
 * Date, because a date has no time zone: 2024-12-31 is the last day of the insurance year everywhere.
 */
export type LocalDate = string;

/** Namespace of every hub record (evolution goes through the registry, BACKWARD, not through names). */
export const RECORD_NAMESPACE = 'cn.medfund.hub.v1';

// Enumerations: the symbols are the contract; each array is the schema's symbol list in order.

/** 缴费主体. Kaifeng art. 7, Dehong art. 6. */
export const PAYER_TYPES = [
  'UNIT_WITHHOLDING',
  'CIVIL_SERVANT_SUBSIDY_TRANSFER',
  'ENTERPRISE_SUPPLEMENTARY_TRANSFER',
  'UNIT_SHARE',
  'INDIVIDUAL_SHARE',
  'PERSONAL_ACCOUNT_DEDUCTION',
  'FISCAL_BUDGET',
  'FLEXIBLE_WORKER_SELF_PAID',
  'UNEMPLOYED_SELF_PAID',
  'RETIREE_SELF_PAID',
] as const;
export type PayerType = (typeof PAYER_TYPES)[number];

/** 医疗类别: 住院, 门诊特殊病 (Dehong art. 10). */
export const MEDICAL_TYPES = ['INPATIENT', 'SPECIAL_OUTPATIENT'] as const;
export type MedicalType = (typeof MEDICAL_TYPES)[number];

/** 转诊转院 (Dehong art. 12: NOT_REFERRED out of the prefecture loses 5 points). */
export const REFERRALS = ['NOT_APPLICABLE', 'REFERRED', 'NOT_REFERRED'] as const;
export type Referral = (typeof REFERRALS)[number];

/** Discriminator of the records on the insurer payout topic. */
export const PAYOUT_KINDS = [
  'HOSPITAL_MONTHLY_SETTLEMENT',
  'MANUAL_REIMBURSEMENT',
  'OPERATING_COST',
] as const;
export type PayoutKind = (typeof PAYOUT_KINDS)[number];

export const LEDGER_ACCOUNTS = [
  'FUND_BANK',
  'PREMIUM_INCOME',
  'DIRECT_CLAIMS_EXPENSE',
  'MANUAL_CLAIMS_EXPENSE',
  'HOSPITAL_PAYABLE',
  'MEMBER_PAYABLE',
  'OPERATING_COST_EXPENSE',
  'INSURER_CURRENT_ACCOUNT',
  'CLAIM_VARIANCE_SUSPENSE',
  'COVER_PENDING_SUSPENSE',
  'SURPLUS_CARRIED_FORWARD',
] as const;
export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

export const POSTING_KINDS = [
  'PREMIUM_COLLECTED',
  'PREMIUM_CORRECTED',
  'SETTLEMENT_APPLIED',
  'SETTLEMENT_REVERSED',
  'SETTLEMENT_HELD',
  'SETTLEMENT_RELEASED',
  'SETTLEMENT_REDECIDED',
  'HOSPITAL_MONTH_SETTLED',
  'MANUAL_REIMBURSEMENT',
  'MANUAL_REIMBURSEMENT_HELD',
  'MANUAL_REIMBURSEMENT_RELEASED',
  'MANUAL_REIMBURSEMENT_REDECIDED',
  'OPERATING_COST',
  'SURPLUS_CARRIED_FORWARD',
] as const;
export type PostingKind = (typeof POSTING_KINDS)[number];

export const ENTRY_DIRECTIONS = ['DEBIT', 'CREDIT'] as const;
export type EntryDirection = (typeof ENTRY_DIRECTIONS)[number];

export const RECONCILIATION_KINDS = ['HOSPITAL_MONTH', 'MANUAL_CLAIM', 'MEMBER_YEAR'] as const;
export type ReconciliationKind = (typeof RECONCILIATION_KINDS)[number];

export const RECONCILIATION_STATUSES = ['OPEN', 'MATCHED', 'DISCREPANCY', 'CLOSED'] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

export const PERIOD_KINDS = ['MONTH', 'QUARTER', 'YEAR'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export const OPERATING_COST_CATEGORIES = [
  'STAFF',
  'IT_SYSTEMS',
  'CLAIMS_INVESTIGATION',
  'OFFICE_AND_ADMIN',
  'OTHER',
] as const;
export type OperatingCostCategory = (typeof OPERATING_COST_CATEGORIES)[number];

/** What a hospital-month change carries: a claim's state now, or an insurer payment. */
export const HOSPITAL_MONTH_CHANGE_KINDS = ['CLAIM', 'PAYMENT'] as const;
export type HospitalMonthChangeKind = (typeof HOSPITAL_MONTH_CHANGE_KINDS)[number];

// Records: input topics (carry the national ID).

/** schemas/premium-collected.avsc: 保费征缴. */
export interface PremiumCollected {
  eventId: string;
  regionCode: string;
  /** certno: personal data, input topics only. */
  nationalId: string;
  payerType: PayerType;
  employerCode: string | null;
  coverYear: number;
  amount: Money;
  paidOn: LocalDate;
  basicEnrolmentDate: LocalDate | null;
  taxVoucherNo: string;
}

/** schemas/premium-correction.avsc: 征缴冲正; correctedAmount 0.00 reverses in full. */
export interface PremiumCorrection {
  eventId: string;
  originalEventId: string;
  regionCode: string;
  nationalId: string;
  coverYear: number;
  originalAmount: Money;
  correctedAmount: Money;
  correctedOn: LocalDate;
  taxVoucherNo: string;
  reason: string | null;
}

/** schemas/premium-collection-closed.avsc: 征缴结束通知; no personal data. */
export interface PremiumCollectionClosed {
  noticeId: string;
  regionCode: string;
  coverYear: number;
  issuedOn: LocalDate;
  publishedCount: number | null;
}

/** Platform amounts shared by settlements, reversals and manual claims (numeric 16,2 on the platform). */
export interface ClaimAmounts {
  /** medfee_sumamt */
  totalMedicalCost: Money;
  /** fulamt_ownpay_amt */
  fullOwnPayAmount: Money;
  /** inscp_scp_amt */
  inScopeAmount: Money;
  /** hifp_pay */
  basicFundPaid: Money;
  /** In-scope amount above the basic fund's annual cap, as the platform computed it. */
  overBasicCapAmount: Money;
}

/** schemas/hospital-settlement.avsc: 直接结算 (platform setlinfo). */
export interface HospitalSettlement extends ClaimAmounts {
  /** setl_id */
  settlementId: string;
  /** mdtrt_id */
  visitId: string;
  /** medins_setl_id */
  hospitalSettlementId: string | null;
  /** fixmedins_code */
  hospitalCode: string;
  regionCode: string;
  /** certno */
  nationalId: string;
  /** psn_cert_type, "01" = resident ID */
  certificateType: string;
  /** psn_no */
  personNo: string;
  /** insutype, "310" = 职工基本医疗保险 */
  insuranceType: string;
  medicalType: MedicalType;
  serviceDate: LocalDate;
  /** setl_time */
  settledAt: Date;
  outOfArea: boolean;
  referral: Referral;
  /** hifob_pay: what the platform says the supplement paid; the hub verifies it. */
  supplementClaimed: Money;
  fundPaySum: Money | null;
  personalAccountPaid: Money | null;
  cashPaid: Money | null;
  memberShare: Money | null;
  civilServantSubsidyPaid: Money | null;
  enterpriseSupplementaryPaid: Money | null;
  medicalAssistancePaid: Money | null;
  otherPaid: Money | null;
  clearingWay: string | null;
  clearingType: string | null;
}

/** schemas/hospital-settlement-reversal.avsc: 退费/冲销; amounts are the original's with the opposite sign. */
export interface HospitalSettlementReversal extends ClaimAmounts {
  settlementId: string;
  originalSettlementId: string;
  visitId: string;
  hospitalCode: string;
  regionCode: string;
  nationalId: string;
  certificateType: string;
  personNo: string;
  insuranceType: string;
  medicalType: MedicalType;
  serviceDate: LocalDate;
  hospitalSettlementId: string | null;
  reversedAt: Date;
  outOfArea: boolean;
  referral: Referral;
  supplementClaimed: Money;
  reason: string | null;
}

/** schemas/insurer-monthly-settlement.avsc: 承办机构按月结算医疗机构 (Dehong art. 15). */
export interface InsurerMonthlySettlement {
  payoutKind: 'HOSPITAL_MONTHLY_SETTLEMENT';
  payoutId: string;
  regionCode: string;
  hospitalCode: string;
  /** "YYYY-MM" */
  month: string;
  amount: Money;
  paidOn: LocalDate;
  settlementIds: string[];
}

/** schemas/manual-reimbursement.avsc: 手工报销 (Dehong art. 16). */
export interface ManualReimbursement extends ClaimAmounts {
  payoutKind: 'MANUAL_REIMBURSEMENT';
  claimId: string;
  regionCode: string;
  nationalId: string;
  certificateType: string;
  personNo: string | null;
  serviceYear: number;
  serviceDate: LocalDate;
  medicalType: MedicalType;
  hospitalCode: string | null;
  outOfArea: boolean;
  referral: Referral;
  receivedOn: LocalDate;
  paidOn: LocalDate;
  amountPaid: Money;
}

/** schemas/operating-cost.avsc: 经办费用 (Dehong art. 21). */
export interface OperatingCost {
  payoutKind: 'OPERATING_COST';
  costId: string;
  regionCode: string;
  /** "YYYY-MM" */
  period: string;
  category: OperatingCostCategory;
  amount: Money;
  recordedOn: LocalDate;
  description: string | null;
}

/** Any record of the insurer payout topic, told apart by payoutKind. */
export type InsurerPayout = InsurerMonthlySettlement | ManualReimbursement | OperatingCost;

// Records: the journal (accepted facts, pseudonymised; never a national ID).

/** Where a journal fact was read: the input message's coordinates and its own timestamp. */
export interface JournalOrigin {
  topic: string;
  partition: number;
  offset: number;
  receivedAt: Date;
}

/** schemas/journal-premium-collected.avsc */
export interface JournalPremiumCollected {
  eventId: string;
  regionCode: string;
  memberPseudonym: string;
  payerType: PayerType;
  coverYear: number;
  amount: Money;
  paidOn: LocalDate;
  enrolledOn: LocalDate | null;
  origin: JournalOrigin;
}

/** schemas/journal-premium-corrected.avsc */
export interface JournalPremiumCorrected {
  eventId: string;
  originalEventId: string;
  regionCode: string;
  memberPseudonym: string;
  coverYear: number;
  originalAmount: Money;
  correctedAmount: Money;
  correctedOn: LocalDate;
  origin: JournalOrigin;
}

/** schemas/journal-collection-closed.avsc: copied to every journal partition. */
export interface JournalCollectionClosed {
  noticeId: string;
  regionCode: string;
  coverYear: number;
  issuedOn: LocalDate;
  origin: JournalOrigin;
}

/** The figures a direct settlement, its reversal and a manual claim share in the journal. */
export interface JournalClaimFigures {
  regionCode: string;
  memberPseudonym: string;
  insuranceYear: number;
  serviceDate: LocalDate;
  medicalType: MedicalType;
  outOfArea: boolean;
  referral: Referral;
  inScopeAmount: Money;
  basicFundPaid: Money;
  overBasicCapAmount: Money;
  origin: JournalOrigin;
}

/** schemas/journal-settlement.avsc */
export interface JournalSettlement extends JournalClaimFigures {
  settlementId: string;
  visitId: string;
  hospitalCode: string;
  settledAt: Date;
  supplementClaimed: Money;
}

/** schemas/journal-settlement-reversal.avsc: amounts ≤ 0. */
export interface JournalSettlementReversal extends JournalClaimFigures {
  settlementId: string;
  originalSettlementId: string;
  visitId: string;
  hospitalCode: string;
  reversedAt: Date;
  supplementClaimed: Money;
}

/** schemas/journal-manual-claim.avsc */
export interface JournalManualClaim extends JournalClaimFigures {
  claimId: string;
  hospitalCode: string | null;
  receivedOn: LocalDate;
  paidOn: LocalDate;
  amountPaid: Money;
}

/** schemas/journal-hospital-payout.avsc */
export interface JournalHospitalPayout {
  payoutId: string;
  regionCode: string;
  hospitalCode: string;
  month: string;
  insuranceYear: number;
  amount: Money;
  paidOn: LocalDate;
  settlementIds: string[];
  origin: JournalOrigin;
}

/** schemas/journal-operating-cost.avsc */
export interface JournalOperatingCost {
  costId: string;
  regionCode: string;
  period: string;
  insuranceYear: number;
  category: OperatingCostCategory;
  amount: Money;
  recordedOn: LocalDate;
  description: string | null;
  origin: JournalOrigin;
}

// Records: output topics (never a national ID).

/** One line of a LedgerPosting; amount ≥ 0, the direction gives the side. */
export interface LedgerLine {
  account: LedgerAccount;
  direction: EntryDirection;
  amount: Money;
}

/** schemas/ledger-posting.avsc: double entry; Σ DEBIT = Σ CREDIT. */
/**
 * Every flag a ledger posting carries (ledger-posting.avsc `flags`), so the services that read them are
 * checked against the ones accounting writes: the supplement's, a claim held for cover or reversed, a
 * manual claim's time limits, and a premium's reason for no cover.
 */
export type LedgerFlag =
  | SupplementFlag
  | 'COVER_PENDING'
  | 'REVERSAL'
  | 'SLA_BREACHED'
  | 'PAST_DEADLINE'
  | NotCoveredReason;

export interface LedgerPosting {
  postingId: string;
  sourceEventId: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
  regionCode: string;
  insuranceYear: number;
  postingDate: LocalDate;
  kind: PostingKind;
  lines: LedgerLine[];
  memberPseudonym: string | null;
  hospitalCode: string | null;
  serviceDate: LocalDate | null;
  claimedAmount: Money | null;
  dueAmount: Money | null;
  /** claimedAmount − dueAmount */
  varianceAmount: Money | null;
  policyVersion: string | null;
  description: string | null;
  /** Why due differs from claimed, or what is notable (schema default []). */
  flags?: LedgerFlag[];
  /** Number among the postings of its key, region and insurance year (1, 2, …): readers skip a copy. */
  sequence: number;
  /** 0 for an event's own posting; 1, 2, … for later bookings of the same claim. */
  revision: number;
  relatedPostingId: string | null;
  causeEventId: string | null;
  causeDate: LocalDate | null;
  /** HOSPITAL_MONTH_SETTLED: the settlements the insurer's payment lists. */
  settlementIds: string[];
  /** Manual reimbursements: the day the claim was received. */
  receivedOn: LocalDate | null;
}

/** schemas/hospital-month-change.avsc: one posting's change to a hospital-month, re-keyed by hospital. */
export interface HospitalMonthChange {
  changeId: string;
  kind: HospitalMonthChangeKind;
  regionCode: string;
  hospitalCode: string;
  month: string;
  insuranceYear: number;
  eventDate: LocalDate;
  claimId: string | null;
  revision: number;
  reversal: boolean;
  held: boolean;
  claimedAmount: Money | null;
  dueAmount: Money | null;
  paidAmount: Money | null;
  settlementIds: string[];
}

/** schemas/reconciliation-result.avsc: latest state of one reconciliation item. */
export interface ReconciliationResult {
  itemId: string;
  kind: ReconciliationKind;
  status: ReconciliationStatus;
  regionCode: string;
  period: string;
  expected: Money;
  actual: Money;
  /** actual − expected */
  difference: Money;
  hospitalCode: string | null;
  memberPseudonym: string | null;
  claimId: string | null;
  dueBy: LocalDate | null;
  ageDays: number;
  openedAt: Date;
  updatedAt: Date;
  sourceEventId: string | null;
  reason: string | null;
}

/** schemas/public-disclosure.avsc: 基金收支公示 (Dehong art. 24); ratios are fractions with 4 decimals. */
export interface PublicDisclosure {
  regionCode: string;
  periodKind: PeriodKind;
  periodLabel: string;
  periodStart: LocalDate;
  periodEnd: LocalDate;
  sequence: number;
  correction: number;
  supersedesSequence: number | null;
  /** What changed since the superseded disclosure, one "field: old → new" per figure; [] for a first publication (schema default []). */
  changes: string[];
  publishedAt: Date;
  parametersIllustrative: boolean;
  /** null when suppressed (small group) */
  insuredPersons: number | null;
  premiumIncome: Money;
  claimsPaidDirect: Money;
  claimsPaidManual: Money;
  beneficiaries: number | null;
  visits: number | null;
  operatingCost: Money;
  operatingCostRatio: Money | null;
  /** null when the region's document sets no numeric ceiling (Kaifeng art. 19) */
  operatingCostCeiling: Money | null;
  profitRate: Money | null;
  /** null when the region's document sets no numeric ceiling (Kaifeng art. 19) */
  profitRateCeiling: Money | null;
  lossRatio: Money | null;
  surplusCarriedForward: Money;
  manualClaimsDecided: number | null;
  manualClaimsWithinSla: number | null;
  slaCompliance: Money | null;
  reconciliationOpenItems: number;
  reconciliationDiscrepancies: number;
  reconciliationOpenAmount: Money;
  suppressionThreshold: number;
  previousHash: string | null;
  hash: string;
  signingKeyId: string;
  signature: string;
}

/** schemas/dead-letter.avsc: a refused input with the reason. `value` is never a national ID. */
export interface DeadLetter {
  originalValue: Buffer;
  originalKey: Buffer | null;
  topic: string;
  partition: number;
  offset: number;
  service: string;
  errorCode: string;
  field: string;
  rule: string;
  value: string | null;
  failedAt: Date;
  attempt: number;
}

/** schemas/state-change.avsc: one field of a stateful service's entity, on its changelog. */
export interface StateChange {
  entity: string;
  field: string;
  text: string;
}

/** Schema file name (schemas/<name>.avsc, kebab-case of the record name) → record shape. */
export interface RecordBySchemaName {
  'premium-collected': PremiumCollected;
  'premium-correction': PremiumCorrection;
  'premium-collection-closed': PremiumCollectionClosed;
  'hospital-settlement': HospitalSettlement;
  'hospital-settlement-reversal': HospitalSettlementReversal;
  'insurer-monthly-settlement': InsurerMonthlySettlement;
  'manual-reimbursement': ManualReimbursement;
  'operating-cost': OperatingCost;
  'journal-premium-collected': JournalPremiumCollected;
  'journal-premium-corrected': JournalPremiumCorrected;
  'journal-collection-closed': JournalCollectionClosed;
  'journal-settlement': JournalSettlement;
  'journal-settlement-reversal': JournalSettlementReversal;
  'journal-manual-claim': JournalManualClaim;
  'journal-hospital-payout': JournalHospitalPayout;
  'journal-operating-cost': JournalOperatingCost;
  'ledger-posting': LedgerPosting;
  'hospital-month-change': HospitalMonthChange;
  'reconciliation-result': ReconciliationResult;
  'public-disclosure': PublicDisclosure;
  'dead-letter': DeadLetter;
  'state-change': StateChange;
}

export type SchemaName = keyof RecordBySchemaName;

/** Every schema file the hub owns, with its record's full name (registry subjects are built from these). */
export const SCHEMA_RECORD_NAMES: { readonly [N in SchemaName]: string } = {
  'premium-collected': `${RECORD_NAMESPACE}.PremiumCollected`,
  'premium-correction': `${RECORD_NAMESPACE}.PremiumCorrection`,
  'premium-collection-closed': `${RECORD_NAMESPACE}.PremiumCollectionClosed`,
  'hospital-settlement': `${RECORD_NAMESPACE}.HospitalSettlement`,
  'hospital-settlement-reversal': `${RECORD_NAMESPACE}.HospitalSettlementReversal`,
  'insurer-monthly-settlement': `${RECORD_NAMESPACE}.InsurerMonthlySettlement`,
  'manual-reimbursement': `${RECORD_NAMESPACE}.ManualReimbursement`,
  'operating-cost': `${RECORD_NAMESPACE}.OperatingCost`,
  'journal-premium-collected': `${RECORD_NAMESPACE}.JournalPremiumCollected`,
  'journal-premium-corrected': `${RECORD_NAMESPACE}.JournalPremiumCorrected`,
  'journal-collection-closed': `${RECORD_NAMESPACE}.JournalCollectionClosed`,
  'journal-settlement': `${RECORD_NAMESPACE}.JournalSettlement`,
  'journal-settlement-reversal': `${RECORD_NAMESPACE}.JournalSettlementReversal`,
  'journal-manual-claim': `${RECORD_NAMESPACE}.JournalManualClaim`,
  'journal-hospital-payout': `${RECORD_NAMESPACE}.JournalHospitalPayout`,
  'journal-operating-cost': `${RECORD_NAMESPACE}.JournalOperatingCost`,
  'ledger-posting': `${RECORD_NAMESPACE}.LedgerPosting`,
  'hospital-month-change': `${RECORD_NAMESPACE}.HospitalMonthChange`,
  'reconciliation-result': `${RECORD_NAMESPACE}.ReconciliationResult`,
  'public-disclosure': `${RECORD_NAMESPACE}.PublicDisclosure`,
  'dead-letter': `${RECORD_NAMESPACE}.DeadLetter`,
  'state-change': `${RECORD_NAMESPACE}.StateChange`,
};

export const SCHEMA_NAMES = Object.keys(SCHEMA_RECORD_NAMES) as SchemaName[];
