/**
 * Settlement ingest (hospital → journal), pure: checks a direct settlement or its reversal on its own
 * (identifiers, region, hospital, member, insurance type, referral, the platform's amounts and how they
 * nest, dates), replaces the national ID by the member's pseudonym and publishes the accepted fact on
 * the journal. What the supplement owes is decided by accounting, in the member's one order.
 */
import { invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import {
  type AmountRule,
  checkAmount,
  checkHospital,
  checkReferral,
  memberPseudonymOf,
  regionParams,
  requireDate,
  requireEventId,
  requireResidentId,
} from '../../shared/ingest/input.js';
import { journalOrigin, journalOutput } from '../../shared/ingest/journal.js';
import { formatMoney, type Money } from '../../shared/money.js';
import { chinaDateOf } from '../../shared/policy/dates.js';
import { insuranceYearOf } from '../../shared/policy/insuranceYear.js';
import type {
  ClaimAmounts,
  HospitalSettlement,
  HospitalSettlementReversal,
  JournalSettlement,
  JournalSettlementReversal,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import { type Decided, decided, type ParseContext } from '../../shared/runner/service.js';
import { type Topics, unexpectedRecord } from '../../shared/topics.js';

export type SettlementFact =
  | { readonly kind: 'settlement'; readonly fact: JournalSettlement }
  | { readonly kind: 'reversal'; readonly fact: JournalSettlementReversal };

// insutype "310" = 职工基本医疗保险: the supplement tops up employee basic insurance only (Kaifeng art. 2, Dehong art. 2).
const EMPLOYEE_BASIC_INSURANCE = '310';

const AMOUNT_FIELDS = [
  'totalMedicalCost',
  'fullOwnPayAmount',
  'inScopeAmount',
  'basicFundPaid',
  'overBasicCapAmount',
  'supplementClaimed',
] as const;

const OPTIONAL_AMOUNT_FIELDS = [
  'fundPaySum',
  'personalAccountPaid',
  'cashPaid',
  'memberShare',
  'civilServantSubsidyPaid',
  'enterpriseSupplementaryPaid',
  'medicalAssistancePaid',
  'otherPaid',
] as const;

// A settlement's setlinfo amounts are ≥ 0; a reversal carries the original's with the opposite sign (≤ 0).
const SETTLEMENT_AMOUNTS: AmountRule = 'non-negative';
const REVERSAL_AMOUNTS: AmountRule = 'non-positive';

/** Validates a decoded settlement or reversal and replaces the national ID by the member's pseudonym. */
export function parseSettlement(
  decoded: DecodedValue,
  context: ParseContext,
  topics: Topics,
): Result<SettlementFact> {
  switch (decoded.record) {
    case 'hospital-settlement':
      return parseApplied(decoded.value, context);
    case 'hospital-settlement-reversal':
      return parseReversal(decoded.value, context);
    default:
      return refuse(unexpectedRecord(topics.hospitalSettlement, decoded.record));
  }
}

function parseApplied(record: HospitalSettlement, context: ParseContext): Result<SettlementFact> {
  const common = parseCommon(record, 'settledAt', record.settledAt, context, SETTLEMENT_AMOUNTS);
  if (!common.ok) return common;
  for (const field of OPTIONAL_AMOUNT_FIELDS) {
    const amount = record[field];
    if (amount === null) continue;
    const checked = checkAmount(amount, field, SETTLEMENT_AMOUNTS);
    if (!checked.ok) return checked;
  }
  return ok({
    kind: 'settlement',
    fact: { ...common.value, settlementId: record.settlementId, settledAt: record.settledAt },
  });
}

function parseReversal(record: HospitalSettlementReversal, context: ParseContext): Result<SettlementFact> {
  const original = requireEventId(record.originalSettlementId, 'originalSettlementId');
  if (!original.ok) return original;
  if (record.originalSettlementId === record.settlementId) {
    return refuse(
      invalidInput(
        'REVERSAL_MISMATCH',
        'originalSettlementId',
        'schema hospital-settlement-reversal: a reversal has its own setl_id, distinct from the one it reverses',
        record.originalSettlementId,
      ),
    );
  }
  const common = parseCommon(record, 'reversedAt', record.reversedAt, context, REVERSAL_AMOUNTS);
  if (!common.ok) return common;
  return ok({
    kind: 'reversal',
    fact: {
      ...common.value,
      settlementId: record.settlementId,
      originalSettlementId: record.originalSettlementId,
      reversedAt: record.reversedAt,
    },
  });
}

type CommonFacts = Omit<JournalSettlement, 'settlementId' | 'settledAt'>;

function parseCommon(
  record: HospitalSettlement | HospitalSettlementReversal,
  instantField: 'settledAt' | 'reversedAt',
  instant: Date,
  context: ParseContext,
  amounts: AmountRule,
): Result<CommonFacts> {
  const id = requireEventId(record.settlementId, 'settlementId');
  if (!id.ok) return id;
  const serviceDate = requireDate(record.serviceDate, 'serviceDate');
  if (!serviceDate.ok) return serviceDate;
  // The parameters in force on the service date decide everything else, including the hospital code shape.
  const params = regionParams(record.regionCode, serviceDate.value, 'serviceDate');
  if (!params.ok) return params;
  const hospital = checkHospital(params.value, record.outOfArea, record.hospitalCode);
  if (!hospital.ok) return hospital;

  const certificate = requireResidentId(record.certificateType);
  if (!certificate.ok) return certificate;
  const pseudonym = memberPseudonymOf(record.nationalId, 'nationalId', context);
  if (!pseudonym.ok) return pseudonym;
  if (record.insuranceType !== EMPLOYEE_BASIC_INSURANCE) {
    return refuse(
      invalidInput(
        'INSURANCE_TYPE',
        'insuranceType',
        'insutype must be "310" (职工基本医疗保险): the supplement tops up employee basic insurance only',
        record.insuranceType,
      ),
    );
  }
  const referral = checkReferral(params.value, record.outOfArea, record.referral);
  if (!referral.ok) return referral;

  for (const field of AMOUNT_FIELDS) {
    const checked = checkAmount(record[field], field, amounts);
    if (!checked.ok) return checked;
  }
  const consistent = checkConsistency(record, amounts === REVERSAL_AMOUNTS);
  if (!consistent.ok) return consistent;

  if (Number.isNaN(instant.getTime())) {
    return refuse(invalidInput('INVALID_DATE', instantField, 'expected a valid instant'));
  }
  const postedOn = chinaDateOf(instant);
  if (serviceDate.value > postedOn) {
    return refuse(
      invalidInput(
        'SERVICE_DATE_OUTSIDE_COVER',
        'serviceDate',
        `costs are settled after they arise: the service date must not be after ${instantField} (${postedOn}, China time)`,
        serviceDate.value,
      ),
    );
  }
  return ok({
    visitId: record.visitId,
    regionCode: record.regionCode,
    hospitalCode: record.hospitalCode,
    memberPseudonym: pseudonym.value,
    insuranceYear: insuranceYearOf(params.value, serviceDate.value),
    serviceDate: serviceDate.value,
    medicalType: record.medicalType,
    outOfArea: record.outOfArea,
    referral: record.referral,
    inScopeAmount: record.inScopeAmount,
    basicFundPaid: record.basicFundPaid,
    overBasicCapAmount: record.overBasicCapAmount,
    supplementClaimed: record.supplementClaimed,
    origin: journalOrigin(context),
  });
}

/** The platform's figures must nest: in-scope within the total, basic fund and over-cap within in-scope. */
function checkConsistency(amounts: ClaimAmounts, reversal: boolean): Result<ClaimAmounts> {
  // A reversal's amounts are all ≤ 0, so compare sizes.
  const size = (amount: Money) => (reversal ? amount.negated() : amount);
  const pairs: readonly [keyof ClaimAmounts, keyof ClaimAmounts, string][] = [
    [
      'inScopeAmount',
      'totalMedicalCost',
      'inscp_scp_amt ≤ medfee_sumamt: in-scope cost is part of the total',
    ],
    ['basicFundPaid', 'inScopeAmount', 'hifp_pay ≤ inscp_scp_amt: the basic fund pays in-scope costs only'],
    [
      'overBasicCapAmount',
      'inScopeAmount',
      'over-basic-cap amount ≤ inscp_scp_amt: only in-scope cost lies above the basic fund cap',
    ],
  ];
  for (const [part, whole, rule] of pairs) {
    if (size(amounts[part]).gt(size(amounts[whole]))) {
      return refuse(
        invalidInput(
          'AMOUNT_INCONSISTENT',
          part,
          rule,
          `${formatMoney(amounts[part])} > ${formatMoney(amounts[whole])}`,
        ),
      );
    }
  }
  return ok(amounts);
}

/** Every fact of a member goes to the member's journal partition, in the order the hospital sent them. */
export function settlementToJournal(input: SettlementFact, topics: Topics): Result<Decided> {
  return ok(
    decided([
      input.kind === 'settlement'
        ? journalOutput(topics.journal, 'journal-settlement', input.fact.memberPseudonym, input.fact)
        : journalOutput(
            topics.journal,
            'journal-settlement-reversal',
            input.fact.memberPseudonym,
            input.fact,
          ),
    ]),
  );
}
