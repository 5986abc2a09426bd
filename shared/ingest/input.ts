import { type IngestRefusal, invalidInput, ok, type Result, refuse } from '../errors.js';
import { type MemberPseudonym, type PseudonymKey, pseudonymFor, validateNationalId } from '../identity.js';
import { isMoneyExact, type Money } from '../money.js';
import { type LocalDate, parseLocalDate } from '../policy/dates.js';
import type { PolicyParams } from '../policy/params.js';
import { coverYearParams, regionParamsOn } from '../policy/regions.js';
import { cite } from '../policy/trail.js';

/**
 * Checks every ingest service applies to a decoded input record before it becomes the service's input.
 * Each returns the value or an InvalidInput naming the record's field; none ever puts a national ID in it.
 */

/** The source system's id of an event: ledger posting ids and idempotency marks derive from it. */
export function requireEventId(text: string, field: string): Result<string> {
  return text.trim() === ''
    ? refuse(invalidInput('MISSING_EVENT_ID', field, 'the source system must give every event an id', text))
    : ok(text);
}

export function requireDate(text: string, field: string): Result<LocalDate> {
  const date = parseLocalDate(text);
  return date === undefined
    ? refuse(invalidInput('INVALID_DATE', field, 'expected a calendar date "YYYY-MM-DD"', text))
    : ok(date);
}

const MONTH_TEXT = /^\d{4}-(0[1-9]|1[0-2])$/;

/** A month as the insurer writes it, "YYYY-MM". */
export function requireMonth(text: string, field: string): Result<string> {
  return MONTH_TEXT.test(text)
    ? ok(text)
    : refuse(invalidInput('MONTH_FORMAT', field, 'expected a month "YYYY-MM"', text));
}

/** Which amounts a field accepts; every amount must also fit decimal(18,2). */
export type AmountRule = 'positive' | 'non-negative' | 'non-positive' | 'non-zero';

/** Each sign rule: whether an amount meets it, and the dead-letter code and text when it does not. */
const AMOUNT_RULES: Record<
  AmountRule,
  { meets: (amount: Money) => boolean; code: IngestRefusal; text: string }
> = {
  positive: { meets: (a) => a.gt(0), code: 'AMOUNT_NOT_POSITIVE', text: 'must be greater than 0' },
  'non-negative': { meets: (a) => !a.isNegative(), code: 'AMOUNT_NEGATIVE', text: 'must be 0 or more' },
  'non-positive': { meets: (a) => !a.gt(0), code: 'AMOUNT_POSITIVE', text: 'must be 0 or less' },
  'non-zero': {
    meets: (a) => !a.isZero(),
    code: 'AMOUNT_ZERO',
    text: 'must not be 0: nothing would be posted',
  },
};

export function checkAmount(amount: Money, field: string, rule: AmountRule): Result<Money> {
  // Money is decimal(18,2) end to end; a third decimal would be rounded silently downstream.
  if (!isMoneyExact(amount)) {
    return refuse(
      invalidInput(
        'AMOUNT_PRECISION',
        field,
        'an amount has at most 2 decimals and fits decimal(18,2)',
        amount.toString(),
      ),
    );
  }
  const { meets, code, text } = AMOUNT_RULES[rule];
  return meets(amount) ? ok(amount) : refuse(invalidInput(code, field, text, amount.toString()));
}

/**
 * The region's parameters in force on a date of the event. A region without a policy file is refused on
 * the record's `regionCode` field: a region exists only by configuration.
 */
export function regionParams(regionCode: string, date: LocalDate, dateField: string): Result<PolicyParams> {
  return onRegionCode(regionParamsOn(regionCode, date, dateField));
}

/** The parameters a cover year is judged by (coverYearParams), an unknown region refused on `regionCode`. */
export function coverYearRegionParams(regionCode: string, coverYear: number): Result<PolicyParams> {
  return onRegionCode(coverYearParams(regionCode, coverYear));
}

function onRegionCode(params: Result<PolicyParams>): Result<PolicyParams> {
  return !params.ok && params.error.code === 'UNKNOWN_REGION'
    ? refuse({ ...params.error, field: 'regionCode' })
    : params;
}

export interface MemberIdentityContext {
  readonly pseudonymKey: PseudonymKey;
  /** Today for the birth-date check: the message's date, never the clock. */
  readonly receivedOn: string;
}

/**
 * Validates a national ID and returns only its keyed pseudonym: the ID goes no further
 * than this call, and a refusal shows it masked.
 */
export function memberPseudonymOf(
  nationalId: string,
  field: string,
  context: MemberIdentityContext,
): Result<MemberPseudonym> {
  const id = validateNationalId(nationalId, field, { today: context.receivedOn });
  return id.ok ? ok(pseudonymFor(id.value, context.pseudonymKey)) : id;
}

// psn_cert_type "01" = 居民身份证: the only certificate the hub can check and pseudonymise (GB 11643-1999).
const RESIDENT_ID_CERTIFICATE = '01';

/** A member is named by a resident ID, whichever channel reports the care. */
export function requireResidentId(certificateType: string): Result<void> {
  return certificateType === RESIDENT_ID_CERTIFICATE
    ? ok(undefined)
    : refuse(
        invalidInput(
          'CERTIFICATE_TYPE',
          'certificateType',
          'psn_cert_type must be "01" (居民身份证), the only ID the hub can check (GB 11643-1999)',
          certificateType,
        ),
      );
}

/** The national platform's institution code shape (fixmedins_code): H, a 6-digit area code, a 5-digit serial. */
const OUT_OF_AREA_HOSPITAL_CODE = /^H\d{11}$/;

/**
 * A designated institution's code (fixmedins_code). Care outside the prefecture (异地就医) is at another
 * region's hospital, so only the platform's shape applies; at home the code must be one of the region's.
 */
export function checkHospital(params: PolicyParams, outOfArea: boolean, code: string): Result<string> {
  const valid = outOfArea ? OUT_OF_AREA_HOSPITAL_CODE.test(code) : params.hospitalCode.test(code);
  return valid
    ? ok(code)
    : refuse(
        invalidInput(
          'UNKNOWN_HOSPITAL',
          'hospitalCode',
          outOfArea
            ? 'fixmedins_code of a designated institution elsewhere: H and 11 digits'
            : `${cite(params, ['hospitalCodePattern'])}: fixmedins_code must match ${params.hospitalCodePattern}`,
          code,
        ),
      );
}

/**
 * The records' NOT_APPLICABLE means care inside the prefecture, so out-of-area care must say REFERRED or
 * NOT_REFERRED: the region's referral penalty depends on it. Direct settlements and manual claims are
 * read alike.
 */
export function checkReferral(params: PolicyParams, outOfArea: boolean, referral: string): Result<void> {
  return outOfArea && referral === 'NOT_APPLICABLE'
    ? refuse(
        invalidInput(
          'REFERRAL_INCONSISTENT',
          'referral',
          `schema referral: care outside the prefecture is REFERRED or NOT_REFERRED (${cite(params, ['referralPenalty'])})`,
          referral,
        ),
      )
    : ok(undefined);
}
