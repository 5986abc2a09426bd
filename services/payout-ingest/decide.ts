import { invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import {
  checkAmount,
  checkHospital,
  checkReferral,
  memberPseudonymOf,
  regionParams,
  requireDate,
  requireEventId,
  requireMonth,
  requireResidentId,
} from '../../shared/ingest/input.js';
import { journalOrigin, journalOutput } from '../../shared/ingest/journal.js';
import { firstDayOfMonth } from '../../shared/policy/dates.js';
import { insuranceYearOf } from '../../shared/policy/insuranceYear.js';
import { cite } from '../../shared/policy/trail.js';
import { checkPaidAfterReceived } from '../../shared/policy/workingDays.js';
import type {
  InsurerMonthlySettlement,
  JournalHospitalPayout,
  JournalManualClaim,
  JournalOperatingCost,
  ManualReimbursement,
  OperatingCost,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import { type Decided, decided, type ParseContext } from '../../shared/runner/service.js';
import { type Topics, unexpectedRecord } from '../../shared/topics.js';

/**
 * Payout ingest (insurer → journal), pure: checks each monthly hospital settlement, manual
 * reimbursement and operating cost on its own, pseudonymises a manual claim's member, and publishes the
 * accepted fact on the journal. What is due is decided by accounting; whether the insurer paid what was
 * due is the reconciler's question.
 */

export type PayoutFact =
  | { readonly kind: 'hospital-month'; readonly fact: JournalHospitalPayout }
  | { readonly kind: 'manual-claim'; readonly fact: JournalManualClaim }
  | { readonly kind: 'operating-cost'; readonly fact: JournalOperatingCost };

/** Validates a decoded insurer-payout record and pseudonymises a manual claim's member. */
export function parsePayout(
  decoded: DecodedValue,
  context: ParseContext,
  topics: Topics,
): Result<PayoutFact> {
  switch (decoded.record) {
    case 'insurer-monthly-settlement':
      return parseHospitalMonth(decoded.value, context);
    case 'manual-reimbursement':
      return parseManualClaim(decoded.value, context);
    case 'operating-cost':
      return parseOperatingCost(decoded.value, context);
    default:
      return refuse(unexpectedRecord(topics.insurerPayout, decoded.record));
  }
}

function parseHospitalMonth(record: InsurerMonthlySettlement, context: ParseContext): Result<PayoutFact> {
  const payoutId = requireEventId(record.payoutId, 'payoutId');
  if (!payoutId.ok) return payoutId;
  const paidOn = requireDate(record.paidOn, 'paidOn');
  if (!paidOn.ok) return paidOn;
  const params = regionParams(record.regionCode, paidOn.value, 'paidOn');
  if (!params.ok) return params;
  // The insurer settles monthly with the region's own designated institutions.
  const hospitalCode = checkHospital(params.value, false, record.hospitalCode);
  if (!hospitalCode.ok) return hospitalCode;
  const month = requireMonth(record.month, 'month');
  if (!month.ok) return month;
  // Dehong art. 15: the insurer settles a month it has seen, so it cannot pay before the month begins.
  if (paidOn.value < firstDayOfMonth(month.value)) {
    return refuse(
      invalidInput(
        'PAID_BEFORE_MONTH',
        'paidOn',
        `${cite(params.value, ['insurerSettlementCycle'])}: a monthly settlement is paid on or after the first day of its month ${month.value}`,
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
    fact: {
      payoutId: payoutId.value,
      regionCode: record.regionCode,
      hospitalCode: hospitalCode.value,
      month: month.value,
      insuranceYear: insuranceYearOf(params.value, firstDayOfMonth(month.value)),
      amount: amount.value,
      paidOn: paidOn.value,
      settlementIds: [...record.settlementIds],
      origin: journalOrigin(context),
    },
  });
}

function parseManualClaim(record: ManualReimbursement, context: ParseContext): Result<PayoutFact> {
  const claimId = requireEventId(record.claimId, 'claimId');
  if (!claimId.ok) return claimId;
  const serviceDate = requireDate(record.serviceDate, 'serviceDate');
  if (!serviceDate.ok) return serviceDate;
  // The rules in force on the day of the service decide what is due.
  const params = regionParams(record.regionCode, serviceDate.value, 'serviceDate');
  if (!params.ok) return params;
  const certificate = requireResidentId(record.certificateType);
  if (!certificate.ok) return certificate;
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
    const hospital = checkHospital(params.value, false, record.hospitalCode);
    if (!hospital.ok) return hospital;
  }
  const referral = checkReferral(params.value, record.outOfArea, record.referral);
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
        `a claim is made after treatment (${cite(params.value, ['manualClaim'])}): on or after serviceDate ${serviceDate.value}`,
        receivedOn.value,
      ),
    );
  }
  const ordered = checkPaidAfterReceived(params.value, receivedOn.value, paidOn.value);
  if (!ordered.ok) return ordered;
  return ok({
    kind: 'manual-claim',
    fact: {
      claimId: claimId.value,
      regionCode: record.regionCode,
      memberPseudonym: pseudonym.value,
      insuranceYear: record.serviceYear,
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
      origin: journalOrigin(context),
    },
  });
}

function parseOperatingCost(record: OperatingCost, context: ParseContext): Result<PayoutFact> {
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
    fact: {
      costId: costId.value,
      regionCode: record.regionCode,
      period: period.value,
      insuranceYear: insuranceYearOf(params.value, firstDayOfMonth(period.value)),
      category: record.category,
      amount: amount.value,
      recordedOn: recordedOn.value,
      description: record.description,
      origin: journalOrigin(context),
    },
  });
}

/** A manual claim is keyed by its member, a monthly settlement by its hospital, an operating cost by its region. */
export function payoutToJournal(input: PayoutFact, topics: Topics): Result<Decided> {
  switch (input.kind) {
    case 'hospital-month':
      return ok(
        decided([
          journalOutput(topics.journal, 'journal-hospital-payout', input.fact.hospitalCode, input.fact),
        ]),
      );
    case 'manual-claim':
      return ok(
        decided([
          journalOutput(topics.journal, 'journal-manual-claim', input.fact.memberPseudonym, input.fact),
        ]),
      );
    case 'operating-cost':
      return ok(
        decided([journalOutput(topics.journal, 'journal-operating-cost', input.fact.regionCode, input.fact)]),
      );
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown payout fact ${JSON.stringify(unknown)}`);
    }
  }
}
