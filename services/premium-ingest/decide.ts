import { HubError, invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import type { MemberPseudonym } from '../../shared/identity.js';
import {
  checkAmount,
  type MemberIdentityContext,
  memberPseudonymOf,
  regionParams,
  requireDate,
  requireEventId,
} from '../../shared/ingest/input.js';
import { ledgerOutput, policyVersionOf, postingSource } from '../../shared/ingest/posting.js';
import { flag, moneyField, notYetRecorded } from '../../shared/ingest/state.js';
import { balancedPosting, credit, debit, signedLines } from '../../shared/ledger.js';
import { formatMoney, type Money, parseMoneyText, sumMoney } from '../../shared/money.js';
import { type LocalDate, parseLocalDate, yearOf } from '../../shared/policy/dates.js';
import { decideEligibility, type EligibilityDecision } from '../../shared/policy/eligibility.js';
import type { PayerKind, PolicyParams } from '../../shared/policy/params.js';
import { cite } from '../../shared/policy/trail.js';
import type { PayerType, PremiumCollected, PremiumCorrection } from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import type { DecideContext, Decision, StateView, StateWrite } from '../../shared/runner/service.js';
import { stateKeys } from '../../shared/state-keys.js';

/**
 * Premium ingest (design.md §3): a tax collection (征缴) or correction (冲正) becomes premium income on the
 * ledger and the member-year's eligibility in state. Pure: no I/O, no clock.
 */

/** One collection, validated; the national ID is already replaced by its pseudonym. */
export interface PremiumCollectionInput {
  readonly kind: 'collection';
  readonly eventId: string;
  readonly region: string;
  readonly pseudonym: MemberPseudonym;
  readonly payerType: PayerType;
  readonly coverYear: number;
  readonly amount: Money;
  readonly paidOn: LocalDate;
  readonly enrolledOn: LocalDate | null;
}

/** One correction of an earlier collection, validated and pseudonymised. */
export interface PremiumCorrectionInput {
  readonly kind: 'correction';
  readonly eventId: string;
  readonly originalEventId: string;
  readonly region: string;
  readonly pseudonym: MemberPseudonym;
  readonly coverYear: number;
  /** What the tax authority says was collected originally; the hub corrects from its own current figure. */
  readonly originalAmount: Money;
  readonly correctedAmount: Money;
  readonly correctedOn: LocalDate;
}

export type PremiumInput = PremiumCollectionInput | PremiumCorrectionInput;

export type PremiumParseContext = MemberIdentityContext;

/** One payment as kept in the member-year hash's `payments` field (JSON; amounts as money text). */
export interface StoredPayment {
  readonly eventId: string;
  readonly amount: Money;
  readonly paidOn: LocalDate;
}

// Kaifeng art. 7, Dehong art. 6: each Avro payer symbol and the region payer kinds that admit it.
// A unit's share is admitted by a region where unit and individual pay jointly; Dehong's individual share
// travels as PERSONAL_ACCOUNT_DEDUCTION (schema doc), so INDIVIDUAL_SHARE needs the separate "individual".
const PAYER_KINDS_OF: { readonly [P in PayerType]: readonly PayerKind[] } = {
  UNIT_WITHHOLDING: ['unit-withholding'],
  CIVIL_SERVANT_SUBSIDY_TRANSFER: ['civil-servant-subsidy-transfer'],
  ENTERPRISE_SUPPLEMENTARY_TRANSFER: ['enterprise-supplementary-transfer'],
  UNIT_SHARE: ['unit', 'unit-and-individual'],
  INDIVIDUAL_SHARE: ['individual'],
  PERSONAL_ACCOUNT_DEDUCTION: ['personal-account-deduction'],
  FISCAL_BUDGET: ['public-budget'],
  FLEXIBLE_WORKER_SELF_PAID: ['flexible-worker'],
  UNEMPLOYED_SELF_PAID: ['unemployed'],
  RETIREE_SELF_PAID: ['retiree-without-unit'],
};

/** Validates a decoded tax-premium record and pseudonymises it. */
export function parsePremium(decoded: DecodedValue, context: PremiumParseContext): Result<PremiumInput> {
  switch (decoded.record) {
    case 'premium-collected':
      return parseCollection(decoded.value, context);
    case 'premium-correction':
      return parseCorrection(decoded.value, context);
    default:
      return refuse(
        invalidInput(
          'UNEXPECTED_RECORD',
          'value',
          'the tax premium topic carries premium-collected and premium-correction',
          decoded.record,
        ),
      );
  }
}

function parseCollection(record: PremiumCollected, context: PremiumParseContext): Result<PremiumInput> {
  const eventId = requireEventId(record.eventId, 'eventId');
  if (!eventId.ok) return eventId;
  const paidOn = requireDate(record.paidOn, 'paidOn');
  if (!paidOn.ok) return paidOn;
  // The cover year's rules govern its premiums, even those collected the year before (Kaifeng art. 8
  // collects in July–December for next year).
  const params = coverYearParamsOf(record.regionCode, record.coverYear);
  if (!params.ok) return params;
  const pseudonym = memberPseudonymOf(record.nationalId, 'nationalId', context);
  if (!pseudonym.ok) return pseudonym;
  const accepted = params.value.payerKinds;
  // A symbol added to the schema later reads as not accepted until it is mapped above.
  const kinds: readonly PayerKind[] = PAYER_KINDS_OF[record.payerType] ?? [];
  if (!kinds.some((kind) => accepted.includes(kind))) {
    return refuse(
      invalidInput(
        'PAYER_TYPE_NOT_ACCEPTED',
        'payerType',
        `${cite(params.value, ['payerKinds'])}: the region accepts ${accepted.join(', ')}`,
        record.payerType,
      ),
    );
  }
  // A premium collected is money received: zero or less is not a collection (a correction is its own record).
  const amount = checkAmount(record.amount, 'amount', 'positive');
  if (!amount.ok) return amount;
  const coverYear = checkCoverYear(record.coverYear, paidOn.value);
  if (!coverYear.ok) return coverYear;
  let enrolledOn: LocalDate | null = null;
  if (record.basicEnrolmentDate !== null) {
    const date = requireDate(record.basicEnrolmentDate, 'basicEnrolmentDate');
    if (!date.ok) return date;
    enrolledOn = date.value;
  }
  return ok({
    kind: 'collection',
    eventId: eventId.value,
    region: record.regionCode,
    pseudonym: pseudonym.value,
    payerType: record.payerType,
    coverYear: record.coverYear,
    amount: amount.value,
    paidOn: paidOn.value,
    enrolledOn,
  });
}

function parseCorrection(record: PremiumCorrection, context: PremiumParseContext): Result<PremiumInput> {
  const eventId = requireEventId(record.eventId, 'eventId');
  if (!eventId.ok) return eventId;
  const originalEventId = requireEventId(record.originalEventId, 'originalEventId');
  if (!originalEventId.ok) return originalEventId;
  const correctedOn = requireDate(record.correctedOn, 'correctedOn');
  if (!correctedOn.ok) return correctedOn;
  const params = coverYearParamsOf(record.regionCode, record.coverYear);
  if (!params.ok) return params;
  const pseudonym = memberPseudonymOf(record.nationalId, 'nationalId', context);
  if (!pseudonym.ok) return pseudonym;
  const originalAmount = checkAmount(record.originalAmount, 'originalAmount', 'non-negative');
  if (!originalAmount.ok) return originalAmount;
  // premium-correction.avsc: 0.00 reverses the collection in full; below that would be a refund.
  const correctedAmount = checkAmount(record.correctedAmount, 'correctedAmount', 'non-negative');
  if (!correctedAmount.ok) return correctedAmount;
  return ok({
    kind: 'correction',
    eventId: eventId.value,
    originalEventId: originalEventId.value,
    region: record.regionCode,
    pseudonym: pseudonym.value,
    coverYear: record.coverYear,
    originalAmount: originalAmount.value,
    correctedAmount: correctedAmount.value,
    correctedOn: correctedOn.value,
  });
}

/**
 * Kaifeng art. 8 collects in the year before the cover year, Dehong art. 8 in the cover year, and a late
 * payment may fall a year after the window: a cover year further than one year from the payment is a typo.
 */
function checkCoverYear(coverYear: number, paidOn: LocalDate): Result<number> {
  const paidYear = yearOf(paidOn);
  if (!Number.isInteger(coverYear) || Math.abs(coverYear - paidYear) > 1) {
    return refuse(
      invalidInput(
        'COVER_YEAR',
        'coverYear',
        `Kaifeng art. 8, Dehong art. 8: the cover year lies within one year of the payment (paidOn ${paidOn})`,
        String(coverYear),
      ),
    );
  }
  return ok(coverYear);
}

/** 1 January of the cover year: insurance years are calendar years (Kaifeng art. 8, Dehong art. 11). */
function coverYearStart(coverYear: number): Result<LocalDate> {
  const date = coverYear >= 1900 && coverYear <= 9999 ? parseLocalDate(`${coverYear}-01-01`) : undefined;
  return date !== undefined
    ? ok(date)
    : refuse(invalidInput('COVER_YEAR', 'coverYear', 'a calendar year such as 2025', String(coverYear)));
}

export function premiumEventId(input: PremiumInput): string {
  return input.eventId;
}

export function premiumStateKeys(input: PremiumInput): readonly string[] {
  const memberYear = stateKeys.memberPremiumYear(input.pseudonym, input.region, input.coverYear);
  switch (input.kind) {
    case 'collection':
      return [memberYear, stateKeys.premiumEvent(input.eventId)];
    case 'correction':
      return [memberYear, stateKeys.premiumEvent(input.originalEventId)];
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown premium input ${JSON.stringify(unknown)}`);
    }
  }
}

/** Decides one premium event: ledger posting, member-year eligibility and the premium-event record. */
export function decidePremium(
  input: PremiumInput,
  state: StateView,
  context: DecideContext,
): Result<Decision> {
  switch (input.kind) {
    case 'collection':
      return decideCollection(input, state, context);
    case 'correction':
      return decideCorrection(input, state, context);
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown premium input ${JSON.stringify(unknown)}`);
    }
  }
}

function decideCollection(
  input: PremiumCollectionInput,
  state: StateView,
  context: DecideContext,
): Result<Decision> {
  const eventKey = stateKeys.premiumEvent(input.eventId);
  const fresh = notYetRecorded(state, eventKey, 'eventId', 'a premium collection', input.eventId);
  if (!fresh.ok) return fresh;
  const params = coverYearParamsOf(input.region, input.coverYear);
  if (!params.ok) return params;

  const memberYear = readMemberYear(state, input.pseudonym, input.region, input.coverYear);
  const payments = [
    ...memberYear.payments,
    { eventId: input.eventId, amount: input.amount, paidOn: input.paidOn },
  ];
  // The newest enrolment date the tax authority reports wins; a payment without one keeps the known date.
  const enrolledOn = input.enrolledOn ?? memberYear.enrolledOn;
  const eligibility = decideEligibility({
    params: params.value,
    year: input.coverYear,
    enrolledOn,
    payments,
  });

  const posting = balancedPosting({
    postingId: `PREMIUM_COLLECTED:${input.eventId}`,
    sourceEventId: input.eventId,
    ...postingSource(context),
    regionCode: input.region,
    insuranceYear: input.coverYear,
    postingDate: input.paidOn,
    kind: 'PREMIUM_COLLECTED',
    lines: [debit('FUND_BANK', input.amount), credit('PREMIUM_INCOME', input.amount)],
    memberPseudonym: input.pseudonym,
    hospitalCode: null,
    serviceDate: null,
    claimedAmount: null,
    dueAmount: null,
    policyVersion: policyVersionOf(params.value),
    description: `premium ${formatMoney(input.amount)} paid ${input.paidOn} for cover year ${input.coverYear}; ${describeEligibility(params.value, eligibility)}`,
    flags: eligibilityFlags(eligibility),
  });
  return ok({
    outputs: [ledgerOutput(posting)],
    writes: [
      memberYearWrite(input.pseudonym, input.region, input.coverYear, payments, enrolledOn, eligibility),
      {
        key: eventKey,
        fields: {
          pseudonym: input.pseudonym,
          region: input.region,
          coverYear: String(input.coverYear),
          amount: formatMoney(input.amount),
          paidOn: input.paidOn,
        },
      },
    ],
  });
}

function decideCorrection(
  input: PremiumCorrectionInput,
  state: StateView,
  context: DecideContext,
): Result<Decision> {
  const eventKey = stateKeys.premiumEvent(input.originalEventId);
  const original = state.hash(eventKey);
  if (Object.keys(original).length === 0) {
    return refuse(
      invalidInput(
        'UNKNOWN_PREMIUM_EVENT',
        'originalEventId',
        'a correction (冲正) corrects a collection the hub has applied',
        input.originalEventId,
      ),
    );
  }
  // The correction must concern the very member-year of the collection, or it would edit another's state.
  if (original.pseudonym !== input.pseudonym) {
    return refuse(
      invalidInput('CORRECTION_MISMATCH', 'nationalId', 'must be the member of the corrected collection'),
    );
  }
  if (original.region !== input.region) {
    return refuse(
      invalidInput(
        'CORRECTION_MISMATCH',
        'regionCode',
        `must be the region of the corrected collection (${original.region ?? ''})`,
        input.region,
      ),
    );
  }
  if (original.coverYear !== String(input.coverYear)) {
    return refuse(
      invalidInput(
        'CORRECTION_MISMATCH',
        'coverYear',
        `must be the cover year of the corrected collection (${original.coverYear ?? ''})`,
        String(input.coverYear),
      ),
    );
  }
  const paidOn = storedDate(original.paidOn, 'paidOn', eventKey);
  if (input.correctedOn < paidOn) {
    return refuse(
      invalidInput(
        'CORRECTION_BEFORE_PAYMENT',
        'correctedOn',
        `must be on or after the corrected collection's payment date ${paidOn}`,
        input.correctedOn,
      ),
    );
  }
  // No double counting: the difference is taken from what the hub holds now, which already includes any earlier correction.
  const current = moneyField(original, 'amount', eventKey);
  const difference = input.correctedAmount.minus(current);
  if (difference.isZero()) {
    return refuse(
      invalidInput(
        'CORRECTION_NO_CHANGE',
        'correctedAmount',
        `the collection already stands at ${formatMoney(current)}: nothing to correct`,
        formatMoney(input.correctedAmount),
      ),
    );
  }
  const params = coverYearParamsOf(input.region, input.coverYear);
  if (!params.ok) return params;

  const memberYear = readMemberYear(state, input.pseudonym, input.region, input.coverYear);
  if (!memberYear.payments.some((p) => p.eventId === input.originalEventId)) {
    throw new HubError(`state ${eventKey}: its member-year has no payment ${input.originalEventId}`);
  }
  const payments = memberYear.payments.map((p) =>
    p.eventId === input.originalEventId ? { ...p, amount: input.correctedAmount } : p,
  );
  const eligibility = decideEligibility({
    params: params.value,
    year: input.coverYear,
    enrolledOn: memberYear.enrolledOn,
    payments,
  });

  const posting = balancedPosting({
    postingId: `PREMIUM_CORRECTED:${input.eventId}`,
    sourceEventId: input.eventId,
    ...postingSource(context),
    regionCode: input.region,
    insuranceYear: input.coverYear,
    postingDate: input.correctedOn,
    kind: 'PREMIUM_CORRECTED',
    lines: signedLines(difference, 'FUND_BANK', 'PREMIUM_INCOME'),
    memberPseudonym: input.pseudonym,
    hospitalCode: null,
    serviceDate: null,
    claimedAmount: null,
    dueAmount: null,
    policyVersion: policyVersionOf(params.value),
    description:
      `tax correction (冲正) of ${input.originalEventId}: ${formatMoney(current)} → ${formatMoney(input.correctedAmount)} ` +
      `(${signed(difference)}; tax authority's original ${formatMoney(input.originalAmount)}); ` +
      `a correction of what was collected, not a refund: premiums are not refunded (${cite(params.value, ['premiumRefundable'])}); ` +
      describeEligibility(params.value, eligibility),
    flags: eligibilityFlags(eligibility),
  });
  return ok({
    outputs: [ledgerOutput(posting)],
    writes: [
      memberYearWrite(
        input.pseudonym,
        input.region,
        input.coverYear,
        payments,
        memberYear.enrolledOn,
        eligibility,
      ),
      { key: eventKey, fields: { amount: formatMoney(input.correctedAmount) } },
    ],
  });
}

/** The parameters in force on 1 January of the cover year: every premium of a member-year is judged alike. */
function coverYearParamsOf(region: string, coverYear: number): Result<PolicyParams> {
  const firstDay = coverYearStart(coverYear);
  return firstDay.ok ? regionParams(region, firstDay.value, 'coverYear') : firstDay;
}

const signed = (amount: Money): string =>
  amount.isNegative() ? formatMoney(amount) : `+${formatMoney(amount)}`;

/** ledger-posting.avsc flags: why a member-year is not covered (LATE, PARTIAL, EARLY, NOT_PAID), for the reconciler. */
const eligibilityFlags = (eligibility: EligibilityDecision): string[] =>
  eligibility.covered ? [] : [eligibility.reason];

/** The eligibility outcome in words, with the article behind it; never personal data. */
function describeEligibility(params: PolicyParams, eligibility: EligibilityDecision): string {
  const last = eligibility.trail.at(-1);
  const why = last === undefined ? '' : `: ${last.detail} (${last.article})`;
  const outcome = eligibility.covered ? 'covered' : 'not covered';
  const income = eligibility.covered
    ? ''
    : `; income recorded all the same, premiums are not refunded (${cite(params, ['premiumRefundable'])})`;
  return (
    `member-year ${eligibility.year} ${eligibility.reason} (${outcome})${why}; ` +
    `paid ${formatMoney(eligibility.paidTotal)}, in window ${eligibility.window.opensOn}–${eligibility.window.closesOn} ` +
    `${formatMoney(eligibility.paidInWindow)} of ${formatMoney(eligibility.premiumDue)} due${income}`
  );
}

interface MemberYear {
  readonly payments: readonly StoredPayment[];
  readonly enrolledOn: LocalDate | null;
}

function storedDate(text: string | undefined, field: string, key: string): LocalDate {
  const date = text === undefined ? undefined : parseLocalDate(text);
  if (date === undefined) throw new HubError(`state ${key}: field ${field} is not a date: ${text ?? ''}`);
  return date;
}

/** The member-year hash as premium-ingest wrote it; a malformed hash is corruption and throws. */
export function readMemberYear(
  state: StateView,
  pseudonym: string,
  region: string,
  coverYear: number,
): MemberYear {
  const key = stateKeys.memberPremiumYear(pseudonym, region, coverYear);
  const hash = state.hash(key);
  const enrolledOn = hash.enrolledOn ? storedDate(hash.enrolledOn, 'enrolledOn', key) : null;
  if (hash.payments === undefined || hash.payments === '') return { payments: [], enrolledOn };
  let raw: unknown;
  try {
    raw = JSON.parse(hash.payments);
  } catch {
    throw new HubError(`state ${key}: field payments is not JSON`);
  }
  if (!Array.isArray(raw)) throw new HubError(`state ${key}: field payments is not a list`);
  const payments = raw.map((item: unknown, index): StoredPayment => {
    const p = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const amount = typeof p.amount === 'string' ? parseMoneyText(p.amount) : undefined;
    if (typeof p.eventId !== 'string' || amount === undefined) {
      throw new HubError(`state ${key}: payments[${index}] is malformed`);
    }
    return {
      eventId: p.eventId,
      amount,
      paidOn: storedDate(
        typeof p.paidOn === 'string' ? p.paidOn : undefined,
        `payments[${index}].paidOn`,
        key,
      ),
    };
  });
  return { payments, enrolledOn };
}

function memberYearWrite(
  pseudonym: string,
  region: string,
  coverYear: number,
  payments: readonly StoredPayment[],
  enrolledOn: LocalDate | null,
  eligibility: EligibilityDecision,
): StateWrite {
  return {
    key: stateKeys.memberPremiumYear(pseudonym, region, coverYear),
    fields: {
      payments: JSON.stringify(
        payments.map((p) => ({ eventId: p.eventId, amount: formatMoney(p.amount), paidOn: p.paidOn })),
      ),
      enrolledOn: enrolledOn ?? '',
      paidTotal: formatMoney(sumMoney(payments.map((p) => p.amount))),
      covered: flag(eligibility.covered),
      reason: eligibility.reason,
    },
  };
}
