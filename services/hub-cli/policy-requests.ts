import { invalidInput, refuse } from '../../shared/errors.js';
import type { Money } from '../../shared/money.js';
import type { PremiumPayment } from '../../shared/policy/eligibility.js';
import { JsonNumber } from '../../shared/policy/exactJson.js';
import {
  type EligibilityRequest,
  type Reader,
  readBoolean,
  readDate,
  readList,
  readMoney,
  readNonNegativeMoney,
  readNullable,
  readRecord,
  readRegionCode,
  readYear,
  type SupplementRequest,
  showJson,
} from '../../shared/policy/input.js';
import { MEDICAL_TYPES, type MedicalType, POLICY_MEDICAL_TYPE } from '../../shared/policy/params.js';
import type { SettlementClaim, YearToDate } from '../../shared/policy/supplement.js';

/**
 * `hub policy` requests as a person at a bureau writes them: amounts as JSON strings only, and the medical type
 * either as the policy's word ("inpatient") or as the records' own enum name ("INPATIENT").
 */

/** An amount must be a JSON string: a JSON number is a binary float in most tools, a string keeps the fen exact. */
function amountAsText(read: Reader<Money>): Reader<Money> {
  return (value, field) =>
    value instanceof JsonNumber
      ? refuse(
          invalidInput(
            'AMOUNT_NOT_TEXT',
            field,
            `expected the amount as a JSON string such as "${value.text}": a JSON number is a float in most tools, a string keeps the fen exact`,
            showJson(value),
          ),
        )
      : read(value, field);
}

const readAmount = amountAsText(readMoney);
const readNonNegativeAmount = amountAsText(readNonNegativeMoney);

/** INPATIENT → inpatient, SPECIAL_OUTPATIENT → special-outpatient: the records' enum beside the policy's words. */
const BY_RECORD_NAME: ReadonlyMap<string, MedicalType> = new Map(Object.entries(POLICY_MEDICAL_TYPE));

export const readMedicalType: Reader<MedicalType> = (value, field) => {
  if (value === undefined) return refuse(invalidInput('MISSING_FIELD', field, 'is required'));
  const type =
    typeof value === 'string'
      ? (MEDICAL_TYPES as readonly string[]).includes(value)
        ? (value as MedicalType)
        : BY_RECORD_NAME.get(value)
      : undefined;
  return type !== undefined
    ? { ok: true, value: type }
    : refuse(
        invalidInput(
          'NOT_ALLOWED',
          field,
          `expected one of ${MEDICAL_TYPES.join(', ')} (or the records' ${[...BY_RECORD_NAME.keys()].join(', ')})`,
          showJson(value),
        ),
      );
};

export const readSupplementInput: Reader<SupplementRequest> = readRecord<SupplementRequest>({
  region: readRegionCode,
  serviceDate: readDate,
  eligible: readBoolean,
  ytd: readRecord<YearToDate>({
    basicFundPaid: readNonNegativeAmount,
    supplementPaid: readNonNegativeAmount,
  }),
  claim: readRecord<SettlementClaim>({
    inScopeAmount: readNonNegativeAmount,
    basicFundPaid: readNonNegativeAmount,
    overCapAmount: readNonNegativeAmount,
    outOfArea: readBoolean,
    referred: readBoolean,
    medicalType: readMedicalType,
  }),
});

export const readEligibilityInput: Reader<EligibilityRequest> = readRecord<EligibilityRequest>({
  region: readRegionCode,
  year: readYear,
  enrolledOn: readNullable(readDate),
  // Payments may be negative: a tax correction (冲正) is a payment with the opposite sign.
  payments: readList(readRecord<PremiumPayment>({ amount: readAmount, paidOn: readDate })),
});
