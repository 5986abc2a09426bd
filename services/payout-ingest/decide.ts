import { HubError, invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import type { MemberPseudonym } from '../../shared/identity.js';
import {
  checkAmount,
  checkReferral,
  type MemberIdentityContext,
  memberPseudonymOf,
  regionParams,
  requireDate,
  requireEventId,
  requireMonth,
} from '../../shared/ingest/input.js';
import { ledgerOutput, policyVersionOf, postingSource } from '../../shared/ingest/posting.js';
import {
  flag,
  memberCovered,
  memberYearToDate,
  memberYearToDateKeys,
  moneyField,
  notYetRecorded,
} from '../../shared/ingest/state.js';
import { balancedPosting, credit, debit, signedLines } from '../../shared/ledger.js';
import { formatMoney, type Money, sumMoney } from '../../shared/money.js';
import { type LocalDate, localDate } from '../../shared/policy/dates.js';
import { insuranceYearOf } from '../../shared/policy/insuranceYear.js';
import type { MedicalType as PolicyMedicalType, PolicyParams } from '../../shared/policy/params.js';
import { decideSupplement } from '../../shared/policy/supplement.js';
import { manualClaimSla } from '../../shared/policy/workingDays.js';
import type {
  InsurerMonthlySettlement,
  LedgerLine,
  ManualReimbursement,
  MedicalType,
  OperatingCost,
  OperatingCostCategory,
  Referral,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import type { DecideContext, Decision, StateView } from '../../shared/runner/service.js';
import { stateKeys } from '../../shared/state-keys.js';

/**
 * Payout ingest (design.md §3): what the insurer paid out of the fund (hospital months, manual
 * reimbursements, its operating costs) becomes ledger postings, each set against what policy says is due.
 * Pure: no I/O, no clock.
 */

/** 承办机构按月结算 (Dehong art. 15), validated. */
export interface HospitalMonthInput {
  readonly kind: 'hospital-month';
  readonly payoutId: string;
  readonly region: string;
  readonly hospitalCode: string;
  /** "YYYY-MM" */
  readonly month: string;
  readonly amount: Money;
  readonly paidOn: LocalDate;
  readonly settlementIds: readonly string[];
}

/** 手工报销 (Kaifeng art. 13, Dehong art. 16), validated; the national ID is already a pseudonym. */
export interface ManualClaimInput {
  readonly kind: 'manual-claim';
  readonly claimId: string;
  readonly region: string;
  readonly pseudonym: MemberPseudonym;
  readonly serviceYear: number;
  readonly serviceDate: LocalDate;
  readonly medicalType: MedicalType;
  readonly hospitalCode: string | null;
  readonly outOfArea: boolean;
  readonly referral: Referral;
  readonly inScopeAmount: Money;
  readonly basicFundPaid: Money;
  readonly overBasicCapAmount: Money;
  readonly receivedOn: LocalDate;
  readonly paidOn: LocalDate;
  readonly amountPaid: Money;
}

/** 经办费用 (Dehong art. 21), validated; a negative amount is a credit note. */
export interface OperatingCostInput {
  readonly kind: 'operating-cost';
  readonly costId: string;
  readonly region: string;
  /** "YYYY-MM" */
  readonly period: string;
  readonly category: OperatingCostCategory;
  readonly amount: Money;
  readonly recordedOn: LocalDate;
}

export type PayoutInput = HospitalMonthInput | ManualClaimInput | OperatingCostInput;

export type PayoutParseContext = MemberIdentityContext;

/** Validates a decoded insurer-payout record and pseudonymises a manual claim's member. */
export function parsePayout(decoded: DecodedValue, context: PayoutParseContext): Result<PayoutInput> {
  switch (decoded.record) {
    case 'insurer-monthly-settlement':
      return parseHospitalMonth(decoded.value);
    case 'manual-reimbursement':
      return parseManualClaim(decoded.value, context);
    case 'operating-cost':
      return parseOperatingCost(decoded.value);
    default:
      return refuse(
        invalidInput(
          'UNEXPECTED_RECORD',
          'value',
          'the insurer payout topic carries insurer-monthly-settlement, manual-reimbursement and operating-cost',
          decoded.record,
        ),
      );
  }
}

/** Codes a region may use for its designated institutions (fixmedins_code), from the region's parameters. */
function checkHospital(params: PolicyParams, hospitalCode: string, field: string): Result<string> {
  return params.hospitalCode.test(hospitalCode)
    ? ok(hospitalCode)
    : refuse(
        invalidInput(
          'UNKNOWN_HOSPITAL',
          field,
          `${params.region.name.en} designated institutions match ${params.hospitalCodePattern}`,
          hospitalCode,
        ),
      );
}

const firstDayOf = (month: string): LocalDate => localDate(`${month}-01`);

function parseHospitalMonth(record: InsurerMonthlySettlement): Result<PayoutInput> {
  const payoutId = requireEventId(record.payoutId, 'payoutId');
  if (!payoutId.ok) return payoutId;
  const paidOn = requireDate(record.paidOn, 'paidOn');
  if (!paidOn.ok) return paidOn;
  const params = regionParams(record.regionCode, paidOn.value, 'paidOn');
  if (!params.ok) return params;
  const hospitalCode = checkHospital(params.value, record.hospitalCode, 'hospitalCode');
  if (!hospitalCode.ok) return hospitalCode;
  const month = requireMonth(record.month, 'month');
  if (!month.ok) return month;
  // Dehong art. 15: the insurer settles a month it has seen, so it cannot pay before the month begins.
  if (paidOn.value < firstDayOf(month.value)) {
    return refuse(
      invalidInput(
        'PAID_BEFORE_MONTH',
        'paidOn',
        `a monthly settlement is paid on or after the first day of its month ${month.value}`,
        paidOn.value,
      ),
    );
  }
  // A month whose reversals outweigh its settlements is a recovery from the hospital (negative); zero posts nothing.
  const amount = checkAmount(record.amount, 'amount', 'non-zero');
  if (!amount.ok) return amount;
  if (record.settlementIds.length === 0) {
    return refuse(
      invalidInput('NO_SETTLEMENTS', 'settlementIds', 'a monthly settlement lists the settlements it pays'),
    );
  }
  const seen = new Set<string>();
  for (const [index, id] of record.settlementIds.entries()) {
    const field = `settlementIds[${index}]`;
    const settlementId = requireEventId(id, field);
    if (!settlementId.ok) return settlementId;
    // A settlement listed twice would be counted twice in what is due.
    if (seen.has(id)) {
      return refuse(invalidInput('DUPLICATE_SETTLEMENT_ID', field, 'each settlement is listed once', id));
    }
    seen.add(id);
  }
  return ok({
    kind: 'hospital-month',
    payoutId: payoutId.value,
    region: record.regionCode,
    hospitalCode: hospitalCode.value,
    month: month.value,
    amount: amount.value,
    paidOn: paidOn.value,
    settlementIds: [...record.settlementIds],
  });
}

// psn_cert_type "01" = resident ID: the only certificate the hub can check and pseudonymise today.
const RESIDENT_ID_CERTIFICATE = '01';

function parseManualClaim(record: ManualReimbursement, context: PayoutParseContext): Result<PayoutInput> {
  const claimId = requireEventId(record.claimId, 'claimId');
  if (!claimId.ok) return claimId;
  const serviceDate = requireDate(record.serviceDate, 'serviceDate');
  if (!serviceDate.ok) return serviceDate;
  // design.md §6: the rules in force on the day of the service decide what is due.
  const params = regionParams(record.regionCode, serviceDate.value, 'serviceDate');
  if (!params.ok) return params;
  if (record.certificateType !== RESIDENT_ID_CERTIFICATE) {
    return refuse(
      invalidInput(
        'CERTIFICATE_TYPE',
        'certificateType',
        'psn_cert_type "01" (resident ID) is the only type accepted',
        record.certificateType,
      ),
    );
  }
  const pseudonym = memberPseudonymOf(record.nationalId, 'nationalId', context);
  if (!pseudonym.ok) return pseudonym;
  // Kaifeng art. 8, Dehong art. 11: the claim belongs to the insurance year of its service date.
  const year = insuranceYearOf(params.value, serviceDate.value);
  if (year !== record.serviceYear) {
    return refuse(
      invalidInput(
        'SERVICE_DATE_OUTSIDE_YEAR',
        'serviceDate',
        `must lie in the stated insurance year ${record.serviceYear} (${params.value.region.name.en}: calendar year)`,
        serviceDate.value,
      ),
    );
  }
  // Care outside the region is at another region's institution, whose code this region's pattern cannot know.
  if (record.hospitalCode !== null && !record.outOfArea) {
    const hospital = checkHospital(params.value, record.hospitalCode, 'hospitalCode');
    if (!hospital.ok) return hospital;
  }
  const referral = checkReferral(record.outOfArea, record.referral);
  if (!referral.ok) return referral;
  for (const field of ['totalMedicalCost', 'fullOwnPayAmount', 'inScopeAmount', 'basicFundPaid'] as const) {
    const amount = checkAmount(record[field], field, 'non-negative');
    if (!amount.ok) return amount;
  }
  const overCap = checkAmount(record.overBasicCapAmount, 'overBasicCapAmount', 'non-negative');
  if (!overCap.ok) return overCap;
  // A manual reimbursement reports money paid to the member; a claim refused in full is no payout.
  const amountPaid = checkAmount(record.amountPaid, 'amountPaid', 'positive');
  if (!amountPaid.ok) return amountPaid;
  const receivedOn = requireDate(record.receivedOn, 'receivedOn');
  if (!receivedOn.ok) return receivedOn;
  const paidOn = requireDate(record.paidOn, 'paidOn');
  if (!paidOn.ok) return paidOn;
  if (receivedOn.value < serviceDate.value) {
    return refuse(
      invalidInput(
        'RECEIVED_BEFORE_SERVICE',
        'receivedOn',
        `Kaifeng art. 13: a claim is made after treatment, on or after serviceDate ${serviceDate.value}`,
        receivedOn.value,
      ),
    );
  }
  // Dehong art. 16: the 20 working days run from receipt to payment, so payment cannot come first.
  if (paidOn.value < receivedOn.value) {
    return refuse(
      invalidInput(
        'PAID_BEFORE_RECEIVED',
        'paidOn',
        `Dehong art. 16: paid on or after receivedOn ${receivedOn.value}`,
        paidOn.value,
      ),
    );
  }
  return ok({
    kind: 'manual-claim',
    claimId: claimId.value,
    region: record.regionCode,
    pseudonym: pseudonym.value,
    serviceYear: record.serviceYear,
    serviceDate: serviceDate.value,
    medicalType: record.medicalType,
    hospitalCode: record.hospitalCode,
    outOfArea: record.outOfArea,
    referral: record.referral,
    inScopeAmount: record.inScopeAmount,
    basicFundPaid: record.basicFundPaid,
    overBasicCapAmount: overCap.value,
    receivedOn: receivedOn.value,
    paidOn: paidOn.value,
    amountPaid: amountPaid.value,
  });
}

function parseOperatingCost(record: OperatingCost): Result<PayoutInput> {
  const costId = requireEventId(record.costId, 'costId');
  if (!costId.ok) return costId;
  const recordedOn = requireDate(record.recordedOn, 'recordedOn');
  if (!recordedOn.ok) return recordedOn;
  const params = regionParams(record.regionCode, recordedOn.value, 'recordedOn');
  if (!params.ok) return params;
  const period = requireMonth(record.period, 'period');
  if (!period.ok) return period;
  // operating-cost.avsc: negative is a credit note; zero would post nothing.
  const amount = checkAmount(record.amount, 'amount', 'non-zero');
  if (!amount.ok) return amount;
  return ok({
    kind: 'operating-cost',
    costId: costId.value,
    region: record.regionCode,
    period: period.value,
    category: record.category,
    amount: amount.value,
    recordedOn: recordedOn.value,
  });
}

export function payoutEventId(input: PayoutInput): string {
  switch (input.kind) {
    case 'hospital-month':
      return input.payoutId;
    case 'manual-claim':
      return input.claimId;
    case 'operating-cost':
      return input.costId;
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown payout input ${JSON.stringify(unknown)}`);
    }
  }
}

export function payoutStateKeys(input: PayoutInput): readonly string[] {
  switch (input.kind) {
    case 'hospital-month':
      return input.settlementIds.map((id) => stateKeys.settlement(id));
    case 'manual-claim':
      return [
        stateKeys.memberPremiumYear(input.pseudonym, input.region, input.serviceYear),
        ...memberYearToDateKeys(input.pseudonym, input.region, input.serviceYear),
        stateKeys.manualClaim(input.claimId),
      ];
    case 'operating-cost':
      return [];
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown payout input ${JSON.stringify(unknown)}`);
    }
  }
}

/** Decides one insurer payout: its ledger posting and, for a manual claim, the member's state. */
export function decidePayout(input: PayoutInput, state: StateView, context: DecideContext): Result<Decision> {
  switch (input.kind) {
    case 'hospital-month':
      return decideHospitalMonth(input, state, context);
    case 'manual-claim':
      return decideManualClaim(input, state, context);
    case 'operating-cost':
      return decideOperatingCost(input, context);
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown payout input ${JSON.stringify(unknown)}`);
    }
  }
}

/** parsePayout already refused an unknown region or date, so a refusal here is a bug. */
function paramsOrThrow(region: string, date: LocalDate): PolicyParams {
  const params = regionParams(region, date, 'date');
  if (!params.ok) throw new HubError(`payout-ingest: parsed input without policy: ${params.error.code}`);
  return params.value;
}

const variance = (claimed: Money, due: Money): string => {
  const difference = claimed.minus(due);
  if (difference.isZero()) return 'paid as due';
  return difference.isPositive()
    ? `over-paid by ${formatMoney(difference)}`
    : `short-paid by ${formatMoney(difference.abs())}`;
};

function decideHospitalMonth(
  input: HospitalMonthInput,
  state: StateView,
  context: DecideContext,
): Result<Decision> {
  const dues: Money[] = [];
  let reversals = 0;
  for (const [index, id] of input.settlementIds.entries()) {
    const key = stateKeys.settlement(id);
    const settlement = state.hash(key);
    // Dehong art. 15: the insurer pays for settlements the hub has seen; an unknown one cannot be checked.
    if (Object.keys(settlement).length === 0) {
      return refuse(
        invalidInput(
          'UNKNOWN_SETTLEMENT',
          `settlementIds[${index}]`,
          'Dehong art. 15: every settlement paid must be a direct settlement the hub has applied',
          id,
        ),
      );
    }
    if (settlement.hospitalCode !== input.hospitalCode) {
      return refuse(
        invalidInput(
          'SETTLEMENT_HOSPITAL_MISMATCH',
          `settlementIds[${index}]`,
          `Dehong art. 15: the settlement was made at ${settlement.hospitalCode ?? 'another institution'}, not ${input.hospitalCode}`,
          id,
        ),
      );
    }
    // design.md §6 step 5: settlement-ingest keeps a reversal under its own id with the opposite due, so
    // summing every listed due nets a reversal against its original, in whichever month each is paid.
    dues.push(moneyField(settlement, 'due', key));
    if (settlement.kind === 'reversal') reversals += 1;
  }
  const due = sumMoney(dues);
  const params = paramsOrThrow(input.region, input.paidOn);
  const posting = balancedPosting({
    postingId: `HOSPITAL_MONTH_SETTLED:${input.payoutId}`,
    sourceEventId: input.payoutId,
    ...postingSource(context),
    regionCode: input.region,
    insuranceYear: insuranceYearOf(params, firstDayOf(input.month)),
    postingDate: input.paidOn,
    kind: 'HOSPITAL_MONTH_SETTLED',
    lines: signedLines(input.amount, 'HOSPITAL_PAYABLE', 'FUND_BANK'),
    memberPseudonym: null,
    hospitalCode: input.hospitalCode,
    // The month settled, as its first day: the reconciler matches it with the settlements' months.
    serviceDate: firstDayOf(input.month),
    claimedAmount: input.amount,
    dueAmount: due,
    policyVersion: policyVersionOf(params),
    description:
      `insurer paid ${input.hospitalCode} ${formatMoney(input.amount)} for ${input.month}: ` +
      `${input.settlementIds.length} settlements listed (${reversals} of them reversals), due ${formatMoney(due)}: ` +
      `${variance(input.amount, due)}`,
    flags: [],
  });
  return ok({ outputs: [ledgerOutput(posting)], writes: [] });
}

// The Avro medical types and the policy engine's names for them (Dehong art. 10).
const POLICY_MEDICAL_TYPE: { readonly [M in MedicalType]: PolicyMedicalType } = {
  INPATIENT: 'inpatient',
  SPECIAL_OUTPATIENT: 'special-outpatient',
};

function decideManualClaim(
  input: ManualClaimInput,
  state: StateView,
  context: DecideContext,
): Result<Decision> {
  const claimKey = stateKeys.manualClaim(input.claimId);
  const fresh = notYetRecorded(state, claimKey, 'claimId', 'a manual claim', input.claimId);
  if (!fresh.ok) return fresh;
  const params = paramsOrThrow(input.region, input.serviceDate);
  const eligible = memberCovered(state, input.pseudonym, input.region, input.serviceYear);
  const ytd = memberYearToDate(state, input.pseudonym, input.region, input.serviceYear);
  // design.md §6: manual claims follow the same steps as direct settlements, against both year-to-dates.
  const supplement = decideSupplement({
    params,
    eligible,
    ytd: ytd.total,
    claim: {
      inScopeAmount: input.inScopeAmount,
      basicFundPaid: input.basicFundPaid,
      overCapAmount: input.overBasicCapAmount,
      outOfArea: input.outOfArea,
      referred: input.referral === 'REFERRED',
      medicalType: POLICY_MEDICAL_TYPE[input.medicalType],
    },
  });
  // A year without holiday data throws ConfigError here: configuration to fix, not input to refuse.
  const sla = manualClaimSla({
    params,
    receivedOn: input.receivedOn,
    paidOn: input.paidOn,
    serviceYear: input.serviceYear,
  });
  if (!sla.ok) return sla;
  const { workingDays, withinSla, deadline, withinDeadline } = sla.value;
  const due = supplement.due;
  const paid = input.amountPaid;
  const rule = params.manualClaim;

  // Paid − due goes to suspense on whichever side balances: never corrected silently (design.md §6).
  const difference = paid.minus(due);
  const lines: LedgerLine[] = [
    debit('MANUAL_CLAIMS_EXPENSE', due),
    credit('FUND_BANK', paid),
    difference.isNegative()
      ? credit('CLAIM_VARIANCE_SUSPENSE', difference.abs())
      : debit('CLAIM_VARIANCE_SUSPENSE', difference),
  ];
  // ledger-posting.avsc flags: the engine's reasons plus the Dehong art. 16 misses, for the reconciler.
  const flags: string[] = [
    ...supplement.flags,
    ...(withinSla ? [] : ['SLA_BREACHED']),
    ...(withinDeadline ? [] : ['PAST_DEADLINE']),
  ];
  const posting = balancedPosting({
    postingId: `MANUAL_REIMBURSEMENT:${input.claimId}`,
    sourceEventId: input.claimId,
    ...postingSource(context),
    regionCode: input.region,
    insuranceYear: input.serviceYear,
    postingDate: input.paidOn,
    kind: 'MANUAL_REIMBURSEMENT',
    lines,
    memberPseudonym: input.pseudonym,
    hospitalCode: input.hospitalCode,
    serviceDate: input.serviceDate,
    claimedAmount: paid,
    dueAmount: due,
    policyVersion: policyVersionOf(params),
    description:
      `manual claim received ${input.receivedOn}, paid ${input.paidOn}: ${workingDays} working days ` +
      `(limit ${rule.workingDays}: ${withinSla ? 'within SLA' : 'SLA missed'}); deadline ${deadline} ` +
      `${withinDeadline ? 'met' : 'missed'} (${sla.value.trail.at(-1)?.article ?? ''}); ` +
      `${eligible ? 'covered' : 'not covered'}, due ${formatMoney(due)} at ratio ${supplement.ratio.toFixed(2)}, ` +
      `paid ${formatMoney(paid)}: ${variance(paid, due)}${flags.length === 0 ? '' : `; flags ${flags.join(', ')}`}`,
    flags,
  });

  const manualKey = stateKeys.memberManualYearToDate(input.pseudonym, input.region, input.serviceYear);
  return ok<Decision>({
    outputs: [ledgerOutput(posting)],
    writes: [
      {
        key: manualKey,
        fields: {
          basicFundPaid: formatMoney(ytd.manual.basicFundPaid.plus(supplement.applied.basicFundPaid)),
          supplementPaid: formatMoney(ytd.manual.supplementPaid.plus(supplement.applied.supplementPaid)),
        },
      },
      {
        key: claimKey,
        fields: {
          region: input.region,
          year: String(input.serviceYear),
          pseudonym: input.pseudonym,
          due: formatMoney(due),
          paid: formatMoney(paid),
          receivedOn: input.receivedOn,
          paidOn: input.paidOn,
          workingDays: String(workingDays),
          withinSla: flag(withinSla),
          deadline,
          withinDeadline: flag(withinDeadline),
        },
      },
    ],
  });
}

function decideOperatingCost(input: OperatingCostInput, context: DecideContext): Result<Decision> {
  const params = paramsOrThrow(input.region, input.recordedOn);
  const posting = balancedPosting({
    postingId: `OPERATING_COST:${input.costId}`,
    sourceEventId: input.costId,
    ...postingSource(context),
    regionCode: input.region,
    insuranceYear: insuranceYearOf(params, firstDayOf(input.period)),
    postingDate: input.recordedOn,
    kind: 'OPERATING_COST',
    // Dehong art. 21: the insurer's cost is charged to the fund; a credit note (negative) gives it back.
    lines: signedLines(input.amount, 'OPERATING_COST_EXPENSE', 'FUND_BANK'),
    memberPseudonym: null,
    hospitalCode: null,
    serviceDate: null,
    claimedAmount: null,
    dueAmount: null,
    policyVersion: policyVersionOf(params),
    description: `${input.amount.isNegative() ? 'credit note for ' : ''}operating cost ${input.category} for ${input.period}: ${formatMoney(input.amount)}`,
    flags: [],
  });
  return ok({ outputs: [ledgerOutput(posting)], writes: [] });
}
