import { invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import {
  checkAmount,
  coverYearRegionParams,
  memberPseudonymOf,
  requireDate,
  requireEventId,
} from '../../shared/ingest/input.js';
import { journalOrigin, journalOutput } from '../../shared/ingest/journal.js';
import { type LocalDate, yearOf } from '../../shared/policy/dates.js';
import { premiumWindowFor } from '../../shared/policy/eligibility.js';
import type { PayerKind, PolicyParams } from '../../shared/policy/params.js';
import { cite } from '../../shared/policy/trail.js';
import type {
  JournalCollectionClosed,
  JournalPremiumCollected,
  JournalPremiumCorrected,
  PayerType,
  PremiumCollected,
  PremiumCollectionClosed,
  PremiumCorrection,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import { type DecideContext, type Decided, decided, type ParseContext } from '../../shared/runner/service.js';
import { type Topics, unexpectedRecord } from '../../shared/topics.js';

/**
 * Premium ingest (tax authority → journal), pure: checks each collection, correction and
 * end-of-collection notice on its own (payer, member, region, cover year, amounts, dates), replaces the
 * national ID by the member's pseudonym and publishes the accepted fact on the journal. Whether a member
 * is covered is decided by accounting, from all of the member-year's facts in one order.
 */

export type PremiumFact =
  | { readonly kind: 'collection'; readonly fact: JournalPremiumCollected }
  | { readonly kind: 'correction'; readonly fact: JournalPremiumCorrected }
  | { readonly kind: 'closed'; readonly fact: JournalCollectionClosed };

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
export function parsePremium(
  decoded: DecodedValue,
  context: ParseContext,
  topics: Topics,
): Result<PremiumFact> {
  switch (decoded.record) {
    case 'premium-collected':
      return parseCollection(decoded.value, context);
    case 'premium-correction':
      return parseCorrection(decoded.value, context);
    case 'premium-collection-closed':
      return parseClosed(decoded.value, context);
    default:
      return refuse(unexpectedRecord(topics.taxPremium, decoded.record));
  }
}

function parseCollection(record: PremiumCollected, context: ParseContext): Result<PremiumFact> {
  const eventId = requireEventId(record.eventId, 'eventId');
  if (!eventId.ok) return eventId;
  const paidOn = requireDate(record.paidOn, 'paidOn');
  if (!paidOn.ok) return paidOn;
  const params = coverYearRegionParams(record.regionCode, record.coverYear);
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
  const coverYear = checkCoverYear(params.value, record.coverYear, paidOn.value);
  if (!coverYear.ok) return coverYear;
  let enrolledOn: LocalDate | null = null;
  if (record.basicEnrolmentDate !== null) {
    const date = requireDate(record.basicEnrolmentDate, 'basicEnrolmentDate');
    if (!date.ok) return date;
    enrolledOn = date.value;
  }
  return ok({
    kind: 'collection',
    fact: {
      eventId: eventId.value,
      regionCode: record.regionCode,
      memberPseudonym: pseudonym.value,
      payerType: record.payerType,
      coverYear: record.coverYear,
      amount: amount.value,
      paidOn: paidOn.value,
      enrolledOn,
      origin: journalOrigin(context),
    },
  });
}

function parseCorrection(record: PremiumCorrection, context: ParseContext): Result<PremiumFact> {
  const eventId = requireEventId(record.eventId, 'eventId');
  if (!eventId.ok) return eventId;
  const originalEventId = requireEventId(record.originalEventId, 'originalEventId');
  if (!originalEventId.ok) return originalEventId;
  const correctedOn = requireDate(record.correctedOn, 'correctedOn');
  if (!correctedOn.ok) return correctedOn;
  const params = coverYearRegionParams(record.regionCode, record.coverYear);
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
    fact: {
      eventId: eventId.value,
      originalEventId: originalEventId.value,
      regionCode: record.regionCode,
      memberPseudonym: pseudonym.value,
      coverYear: record.coverYear,
      originalAmount: originalAmount.value,
      correctedAmount: correctedAmount.value,
      correctedOn: correctedOn.value,
      origin: journalOrigin(context),
    },
  });
}

/**
 * The tax authority's word that a cover year's collections are all published. Issued before the window
 * closed it would decide members not covered who may still pay (Kaifeng art. 8, Dehong art. 8).
 */
function parseClosed(record: PremiumCollectionClosed, context: ParseContext): Result<PremiumFact> {
  const noticeId = requireEventId(record.noticeId, 'noticeId');
  if (!noticeId.ok) return noticeId;
  const issuedOn = requireDate(record.issuedOn, 'issuedOn');
  if (!issuedOn.ok) return issuedOn;
  const params = coverYearRegionParams(record.regionCode, record.coverYear);
  if (!params.ok) return params;
  const window = premiumWindowFor(params.value, record.coverYear);
  if (issuedOn.value <= window.closesOn) {
    return refuse(
      invalidInput(
        'NOTICE_BEFORE_WINDOW_CLOSED',
        'issuedOn',
        `${cite(params.value, ['premiumWindow'])}: the ${record.coverYear} collection window closes on ${window.closesOn}; the notice comes after it`,
        issuedOn.value,
      ),
    );
  }
  return ok({
    kind: 'closed',
    fact: {
      noticeId: noticeId.value,
      regionCode: record.regionCode,
      coverYear: record.coverYear,
      issuedOn: issuedOn.value,
      origin: journalOrigin(context),
    },
  });
}

/**
 * Kaifeng art. 8 collects in the year before the cover year, Dehong art. 8 in the cover year, and a late
 * payment may fall a year after the window: a cover year further than one year from the payment is a typo.
 */
function checkCoverYear(params: PolicyParams, coverYear: number, paidOn: LocalDate): Result<number> {
  if (Math.abs(coverYear - yearOf(paidOn)) > 1) {
    return refuse(
      invalidInput(
        'COVER_YEAR',
        'coverYear',
        `${cite(params, ['premiumWindow'])}: the cover year lies within one year of the payment (paidOn ${paidOn})`,
        String(coverYear),
      ),
    );
  }
  return ok(coverYear);
}

/** One journal record per fact; an end-of-collection notice goes to every partition, so every member's order sees it. */
export function premiumToJournal(
  input: PremiumFact,
  _state: unknown,
  context: DecideContext,
  topics: Topics,
): Result<Decided> {
  switch (input.kind) {
    case 'collection':
      return ok(
        decided([
          journalOutput(topics.journal, 'journal-premium-collected', input.fact.memberPseudonym, input.fact),
        ]),
      );
    case 'correction':
      return ok(
        decided([
          journalOutput(topics.journal, 'journal-premium-corrected', input.fact.memberPseudonym, input.fact),
        ]),
      );
    case 'closed': {
      const partitions = context.partitionsOf(topics.journal);
      return ok(
        decided(
          Array.from({ length: partitions }, (_, partition) =>
            journalOutput(
              topics.journal,
              'journal-collection-closed',
              input.fact.regionCode,
              input.fact,
              partition,
            ),
          ),
        ),
      );
    }
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown premium fact ${JSON.stringify(unknown)}`);
    }
  }
}
