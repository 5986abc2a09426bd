/**
 * Settlement ingest (hospital → fund), pure: validates a direct settlement or its reversal, recomputes
 * the supplement due by policy (design.md §6) and says which ledger posting and state changes follow.
 * No I/O, no clock: the runner reads the named Redis hashes, calls `decideSettlement`, writes the result.
 */
import { type InvalidInput, invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { type MemberPseudonym, pseudonymFor, validateNationalId } from '../../shared/identity.js';
import { checkReferral } from '../../shared/ingest/input.js';
import { policyVersionOf } from '../../shared/ingest/posting.js';
import { notYetRecorded } from '../../shared/ingest/state.js';
import { balancedPosting, ledgerKey, signedLines } from '../../shared/ledger.js';
import { formatMoney, isMoneyExact, type Money, parseMoneyText, ZERO } from '../../shared/money.js';
import { type LocalDate, parseLocalDate } from '../../shared/policy/dates.js';
import { insuranceYearOf } from '../../shared/policy/insuranceYear.js';
import { formatRatio, type MedicalType, type PolicyParams } from '../../shared/policy/params.js';
import { paramsOn, regionParamsOn, regionPolicy } from '../../shared/policy/regions.js';
import {
  decideSupplement,
  reverseSupplement,
  type SupplementDecision,
  type YearToDate,
  type YearToDateChange,
} from '../../shared/policy/supplement.js';
import type { TrailEntry } from '../../shared/policy/trail.js';
import type {
  ClaimAmounts,
  HospitalSettlement,
  HospitalSettlementReversal,
  LedgerPosting,
  MedicalType as PlatformMedicalType,
  Referral,
} from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import type {
  DecideContext,
  Decision,
  ParseContext,
  StateView,
  StateWrite,
} from '../../shared/runner/service.js';
import { stateKeys } from '../../shared/state-keys.js';
import { TOPICS } from '../../shared/topics.js';

// ─── Input ─────────────────────────────────────────────────────────────────────────────────────────

/** What a settlement and its reversal have in common once validated: no national ID, no person number. */
export interface SettlementFacts {
  /** setl_id of this event (the settlement, or the reversal itself). */
  readonly settlementId: string;
  readonly visitId: string;
  readonly region: string;
  readonly hospitalCode: string;
  readonly pseudonym: MemberPseudonym;
  readonly serviceDate: LocalDate;
  /** The insurance year of the service date (Kaifeng art. 8, Dehong art. 11). */
  readonly insuranceYear: number;
  /** The business date of the event: setl_time (or the reversal's) as a day in China. */
  readonly postingDate: LocalDate;
  readonly medicalType: MedicalType;
  readonly outOfArea: boolean;
  readonly referral: Referral;
  readonly amounts: ClaimAmounts;
  /** hifob_pay: what the hospital claims from the supplement fund. */
  readonly supplementClaimed: Money;
}

export interface SettlementApplied extends SettlementFacts {
  readonly kind: 'settlement';
}

export interface SettlementReversed extends SettlementFacts {
  readonly kind: 'reversal';
  readonly originalSettlementId: string;
}

export type SettlementInput = SettlementApplied | SettlementReversed;

/** Dead-letter codes this service produces itself (the ID_* codes come from validateNationalId). */
/** The national platform's institution code shape (fixmedins_code): H, a 6-digit area code, a 5-digit serial. */
const OUT_OF_AREA_HOSPITAL_CODE = /^H\d{11}$/;

export const REFUSAL_CODES = [
  'UNEXPECTED_RECORD',
  'SETTLEMENT_ID_EMPTY',
  'UNKNOWN_REGION',
  'INVALID_DATE',
  'NO_POLICY_IN_FORCE',
  'UNKNOWN_HOSPITAL',
  'CERTIFICATE_TYPE',
  'ID_FORMAT',
  'ID_AREA_CODE',
  'ID_BIRTH_DATE',
  'ID_CHECKSUM',
  'INSURANCE_TYPE',
  'REFERRAL_INCONSISTENT',
  'AMOUNT_PRECISION',
  'AMOUNT_NEGATIVE',
  'AMOUNT_POSITIVE',
  'AMOUNT_INCONSISTENT',
  'SERVICE_DATE_OUTSIDE_COVER',
  'DUPLICATE_EVENT',
  'UNKNOWN_SETTLEMENT',
  'ALREADY_REVERSED',
  'REVERSAL_MISMATCH',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

// psn_cert_type "01" = 居民身份证: the only certificate the hub can check and pseudonymise (GB 11643-1999).
const RESIDENT_ID_CERTIFICATE = '01';
// insutype "310" = 职工基本医疗保险: the supplement tops up employee basic insurance only (Kaifeng art. 2, Dehong art. 2).
const EMPLOYEE_BASIC_INSURANCE = '310';
// setl_time is a UTC instant; the service date is a day in China (UTC+8, no daylight saving).
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

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

// ─── Parse ─────────────────────────────────────────────────────────────────────────────────────────

/** Validates a decoded settlement or reversal and replaces the national ID by the member's pseudonym. */
export function parseSettlement(decoded: DecodedValue, ctx: ParseContext): Result<SettlementInput> {
  switch (decoded.record) {
    case 'hospital-settlement':
      return parseApplied(decoded.value, ctx);
    case 'hospital-settlement-reversal':
      return parseReversal(decoded.value, ctx);
    default:
      return refuse(
        invalidInput(
          'UNEXPECTED_RECORD',
          'value',
          `${TOPICS.hospitalSettlement.name} carries ${TOPICS.hospitalSettlement.records.join(', ')}`,
          decoded.record,
        ),
      );
  }
}

function parseApplied(record: HospitalSettlement, ctx: ParseContext): Result<SettlementInput> {
  const facts = parseFacts(record, 'settledAt', record.settledAt, ctx, 'settlement');
  if (!facts.ok) return facts;
  for (const field of OPTIONAL_AMOUNT_FIELDS) {
    const amount = record[field];
    if (amount === null) continue;
    const checked = checkAmount(field, amount, 'settlement');
    if (!checked.ok) return checked;
  }
  return ok({ kind: 'settlement', ...facts.value });
}

function parseReversal(record: HospitalSettlementReversal, ctx: ParseContext): Result<SettlementInput> {
  const original = requireId('originalSettlementId', record.originalSettlementId);
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
  const facts = parseFacts(record, 'reversedAt', record.reversedAt, ctx, 'reversal');
  if (!facts.ok) return facts;
  return ok({ kind: 'reversal', originalSettlementId: record.originalSettlementId, ...facts.value });
}

type Sign = 'settlement' | 'reversal';

function parseFacts(
  record: HospitalSettlement | HospitalSettlementReversal,
  settledField: 'settledAt' | 'reversedAt',
  settledAt: Date,
  ctx: ParseContext,
  sign: Sign,
): Result<SettlementFacts> {
  const id = requireId('settlementId', record.settlementId);
  if (!id.ok) return id;

  const region = regionPolicy(record.regionCode);
  if (!region.ok) return refuse({ ...region.error, field: 'regionCode' });

  const serviceDate = parseLocalDate(record.serviceDate);
  if (serviceDate === undefined) {
    return refuse(
      invalidInput(
        'INVALID_DATE',
        'serviceDate',
        'expected a calendar date "YYYY-MM-DD"',
        record.serviceDate,
      ),
    );
  }
  // The parameters in force on the service date decide everything else, including the hospital code shape.
  const params = paramsOn(region.value, serviceDate, 'serviceDate');
  if (!params.ok) return params;

  // Care outside the prefecture (异地就医) is settled at another region's hospital: only the
  // platform's code shape applies there; at home the code must be one of the region's.
  const hospitalCodeValid = record.outOfArea
    ? OUT_OF_AREA_HOSPITAL_CODE.test(record.hospitalCode)
    : params.value.hospitalCode.test(record.hospitalCode);
  if (!hospitalCodeValid) {
    return refuse(
      invalidInput(
        'UNKNOWN_HOSPITAL',
        'hospitalCode',
        record.outOfArea
          ? `fixmedins_code of a designated institution elsewhere: H and 11 digits`
          : `${params.value.region.name.en} ${params.value.provenance.hospitalCodePattern.source}: fixmedins_code must match ${params.value.hospitalCodePattern}`,
        record.hospitalCode,
      ),
    );
  }

  if (record.certificateType !== RESIDENT_ID_CERTIFICATE) {
    return refuse(
      invalidInput(
        'CERTIFICATE_TYPE',
        'certificateType',
        'psn_cert_type must be "01" (居民身份证), the only ID the hub can check (GB 11643-1999)',
        record.certificateType,
      ),
    );
  }
  const nationalId = validateNationalId(record.nationalId, 'nationalId', { today: ctx.receivedOn });
  if (!nationalId.ok) return nationalId;

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

  const referral = checkReferral(record.outOfArea, record.referral);
  if (!referral.ok) return referral;

  for (const field of AMOUNT_FIELDS) {
    const checked = checkAmount(field, record[field], sign);
    if (!checked.ok) return checked;
  }
  const consistent = checkConsistency(record, sign);
  if (!consistent.ok) return consistent;

  const postingDate = chinaDateOf(settledAt);
  if (postingDate === undefined) {
    return refuse(invalidInput('INVALID_DATE', settledField, 'expected a valid instant'));
  }
  if (serviceDate > postingDate) {
    return refuse(
      invalidInput(
        'SERVICE_DATE_OUTSIDE_COVER',
        'serviceDate',
        `costs are settled after they arise: the service date must not be after ${settledField} (${postingDate}, China time)`,
        serviceDate,
      ),
    );
  }

  return ok({
    settlementId: record.settlementId,
    visitId: record.visitId,
    region: region.value.code,
    hospitalCode: record.hospitalCode,
    pseudonym: pseudonymFor(nationalId.value, ctx.pseudonymKey),
    serviceDate,
    insuranceYear: insuranceYearOf(params.value, serviceDate),
    postingDate,
    medicalType: policyMedicalType(record.medicalType),
    outOfArea: record.outOfArea,
    referral: record.referral,
    amounts: {
      totalMedicalCost: record.totalMedicalCost,
      fullOwnPayAmount: record.fullOwnPayAmount,
      inScopeAmount: record.inScopeAmount,
      basicFundPaid: record.basicFundPaid,
      overBasicCapAmount: record.overBasicCapAmount,
    },
    supplementClaimed: record.supplementClaimed,
  });
}

function requireId(field: string, id: string): Result<string> {
  return id.trim() === ''
    ? refuse(invalidInput('SETTLEMENT_ID_EMPTY', field, 'setl_id is required: it is the event id'))
    : ok(id);
}

function checkAmount(field: string, amount: Money, sign: Sign): Result<Money> {
  if (!isMoneyExact(amount)) {
    return refuse(
      invalidInput(
        'AMOUNT_PRECISION',
        field,
        'platform amounts are numeric(16,2): at most 2 decimals',
        amount.toString(),
      ),
    );
  }
  if (sign === 'settlement' && amount.isNegative()) {
    return refuse(
      invalidInput(
        'AMOUNT_NEGATIVE',
        field,
        'schema hospital-settlement: setlinfo amounts of a settlement are ≥ 0',
        formatMoney(amount),
      ),
    );
  }
  if (sign === 'reversal' && amount.gt(ZERO)) {
    return refuse(
      invalidInput(
        'AMOUNT_POSITIVE',
        field,
        "schema hospital-settlement-reversal: a reversal carries the original's amounts with the opposite sign (≤ 0)",
        formatMoney(amount),
      ),
    );
  }
  return ok(amount);
}

/** The platform's figures must nest: in-scope within the total, basic fund and over-cap within in-scope. */
function checkConsistency(amounts: ClaimAmounts, sign: Sign): Result<ClaimAmounts> {
  // A reversal's amounts are all ≤ 0, so compare sizes.
  const size = (amount: Money) => (sign === 'reversal' ? amount.negated() : amount);
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
      'over-basic-cap amount ≤ inscp_scp_amt: only in-scope cost lies above the cap (design.md §6)',
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

function chinaDateOf(instant: Date): LocalDate | undefined {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) return undefined;
  return parseLocalDate(new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10));
}

function policyMedicalType(type: PlatformMedicalType): MedicalType {
  switch (type) {
    case 'INPATIENT':
      return 'inpatient';
    case 'SPECIAL_OUTPATIENT':
      return 'special-outpatient';
    default: {
      const unknown: never = type;
      throw new RangeError(`unknown medical type ${String(unknown)}`);
    }
  }
}

// ─── Identity and state keys ───────────────────────────────────────────────────────────────────────

/** setl_id: unique nationally, so a second delivery of the same settlement or reversal changes nothing. */
export const settlementEventId = (input: SettlementInput): string => input.settlementId;

/** Every Redis hash `decideSettlement` reads (and the ones it writes). */
export function settlementStateKeys(input: SettlementInput): readonly string[] {
  const { pseudonym, region, insuranceYear } = input;
  const member = [
    stateKeys.memberYearToDate(pseudonym, region, insuranceYear),
    stateKeys.memberManualYearToDate(pseudonym, region, insuranceYear),
  ];
  switch (input.kind) {
    case 'settlement':
      return [
        stateKeys.memberPremiumYear(pseudonym, region, insuranceYear),
        ...member,
        stateKeys.settlement(input.settlementId),
      ];
    case 'reversal':
      return [
        ...member,
        stateKeys.settlement(input.originalSettlementId),
        stateKeys.settlement(input.settlementId),
      ];
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown settlement input ${JSON.stringify(unknown)}`);
    }
  }
}

// ─── Decide ────────────────────────────────────────────────────────────────────────────────────────

/** What premium-ingest has said about the member-year (its hash, field `covered`). */
export type Coverage = 'covered' | 'not-covered' | 'premium-not-seen';

/** The fields of stateKeys.settlement(id), as written here and read by reversals and payout-ingest. */
export interface StoredSettlement {
  readonly kind: SettlementInput['kind'];
  readonly region: string;
  readonly year: string;
  readonly pseudonym: string;
  readonly hospitalCode: string;
  readonly serviceDate: string;
  /** "YYYY-MM" of the service date: the hospital-month the insurer settles (Dehong art. 15). */
  readonly month: string;
  readonly settledOn: string;
  readonly claimed: string;
  readonly due: string;
  /** JSON {basicFundPaid, supplementPaid}: exactly what this event added to the member's year-to-date. */
  readonly applied: string;
  readonly reversed: '0' | '1';
  /** For a reversal: the settlement it reverses. For a reversed settlement: the reversal. */
  readonly originalSettlementId?: string;
  readonly reversedBy?: string;
}

/** Decides one settlement or reversal against the member's state (design.md §6). */
export function decideSettlement(
  input: SettlementInput,
  state: StateView,
  ctx: DecideContext,
): Result<Decision> {
  switch (input.kind) {
    case 'settlement':
      return decideApplied(input, state, ctx);
    case 'reversal':
      return decideReversed(input, state, ctx);
    default: {
      const unknown: never = input;
      throw new RangeError(`unknown settlement input ${JSON.stringify(unknown)}`);
    }
  }
}

function decideApplied(input: SettlementApplied, state: StateView, ctx: DecideContext): Result<Decision> {
  const self = stateKeys.settlement(input.settlementId);
  // The runner's memo catches redeliveries; this catches one that outlived the memo, so ytd never counts twice.
  const fresh = notYetRecorded(state, self, 'settlementId', 'a setl_id', input.settlementId);
  if (!fresh.ok) return fresh;
  const params = regionParamsOn(input.region, input.serviceDate, 'serviceDate');
  if (!params.ok) return params;

  const { pseudonym, region, insuranceYear: year } = input;
  const coverage = coverageOf(state.hash(stateKeys.memberPremiumYear(pseudonym, region, year)));
  const ownKey = stateKeys.memberYearToDate(pseudonym, region, year);
  const manualKey = stateKeys.memberManualYearToDate(pseudonym, region, year);
  const own = yearToDateOf(ownKey, state.hash(ownKey));
  const manual = yearToDateOf(manualKey, state.hash(manualKey));

  // Design.md §6: direct and manual claims share one member-year; each service writes only its own part.
  const decision = decideSupplement({
    params: params.value,
    eligible: coverage === 'covered',
    ytd: addYearToDate(own, manual),
    claim: {
      inScopeAmount: input.amounts.inScopeAmount,
      basicFundPaid: input.amounts.basicFundPaid,
      overCapAmount: input.amounts.overBasicCapAmount,
      outOfArea: input.outOfArea,
      referred: input.referral === 'REFERRED',
      medicalType: input.medicalType,
    },
  });

  const stored: StoredSettlement = {
    kind: 'settlement',
    region,
    year: String(year),
    pseudonym,
    hospitalCode: input.hospitalCode,
    serviceDate: input.serviceDate,
    month: input.serviceDate.slice(0, 7),
    settledOn: input.postingDate,
    claimed: formatMoney(input.supplementClaimed),
    due: formatMoney(decision.due),
    applied: appliedJson(decision.applied),
    reversed: '0',
  };
  const flags = [...decision.flags, ...(coverage === 'premium-not-seen' ? ['PREMIUM_NOT_SEEN'] : [])];
  const posting = claimPosting(input, ctx, params.value, {
    kind: 'SETTLEMENT_APPLIED',
    due: decision.due,
    flags,
    description: describeSupplement(input, params.value, decision, coverage),
  });
  return ok({
    outputs: [{ topic: TOPICS.ledger, key: ledgerKey(posting), record: 'ledger-posting', value: posting }],
    writes: [
      { key: ownKey, fields: yearToDateFields(addYearToDate(own, decision.applied)) },
      { key: self, fields: storedFields(stored) },
    ],
  });
}

function decideReversed(input: SettlementReversed, state: StateView, ctx: DecideContext): Result<Decision> {
  const self = stateKeys.settlement(input.settlementId);
  const fresh = notYetRecorded(state, self, 'settlementId', 'a setl_id', input.settlementId);
  if (!fresh.ok) return fresh;
  const originalKey = stateKeys.settlement(input.originalSettlementId);
  const original = state.hash(originalKey);
  if (isEmpty(original)) {
    return refuse(
      invalidInput(
        'UNKNOWN_SETTLEMENT',
        'originalSettlementId',
        'design.md §6 step 5: a reversal undoes a settlement the hub has applied; none has this setl_id',
        input.originalSettlementId,
      ),
    );
  }
  const mismatch = reversalMismatch(input, original, originalKey);
  if (mismatch !== undefined) return refuse(mismatch);
  if (original.reversed === '1') {
    return refuse(
      invalidInput(
        'ALREADY_REVERSED',
        'originalSettlementId',
        `design.md §6 step 5: a settlement is reversed once; this one was by ${original.reversedBy ?? 'an earlier reversal'}`,
        input.originalSettlementId,
      ),
    );
  }
  const params = regionParamsOn(input.region, input.serviceDate, 'serviceDate');
  if (!params.ok) return params;

  const { pseudonym, region, insuranceYear: year } = input;
  const ownKey = stateKeys.memberYearToDate(pseudonym, region, year);
  const manualKey = stateKeys.memberManualYearToDate(pseudonym, region, year);
  const own = yearToDateOf(ownKey, state.hash(ownKey));
  const manual = yearToDateOf(manualKey, state.hash(manualKey));
  const originalApplied = appliedOf(originalKey, original.applied);

  // Design.md §6 step 5: undo exactly what the original added, whatever the parameters say today.
  const reversal = reverseSupplement({
    params: params.value,
    ytd: addYearToDate(own, manual),
    original: originalApplied,
  });

  const stored: StoredSettlement = {
    kind: 'reversal',
    region,
    year: String(year),
    pseudonym,
    hospitalCode: input.hospitalCode,
    serviceDate: input.serviceDate,
    month: input.serviceDate.slice(0, 7),
    settledOn: input.postingDate,
    claimed: formatMoney(input.supplementClaimed),
    due: formatMoney(reversal.due),
    applied: appliedJson(reversal.applied),
    reversed: '0',
    originalSettlementId: input.originalSettlementId,
  };
  const posting = claimPosting(input, ctx, params.value, {
    kind: 'SETTLEMENT_REVERSED',
    due: reversal.due,
    flags: [],
    description: describeReversal(input, originalApplied, reversal.trail),
  });
  return ok({
    outputs: [{ topic: TOPICS.ledger, key: ledgerKey(posting), record: 'ledger-posting', value: posting }],
    writes: [
      { key: ownKey, fields: yearToDateFields(addYearToDate(own, reversal.applied)) },
      { key: originalKey, fields: { reversed: '1', reversedBy: input.settlementId } },
      { key: self, fields: storedFields(stored) },
    ],
  });
}

/** A reversal must undo the very settlement it names: same member, hospital, region, day and amounts. */
function reversalMismatch(
  input: SettlementReversed,
  original: Readonly<Record<string, string>>,
  originalKey: string,
): InvalidInput | undefined {
  const rule = (what: string) =>
    `schema hospital-settlement-reversal: a reversal carries the original settlement's ${what}`;
  if (original.kind === 'reversal') {
    return invalidInput(
      'REVERSAL_MISMATCH',
      'originalSettlementId',
      'design.md §6 step 5: a reversal undoes a settlement, not another reversal',
      input.originalSettlementId,
    );
  }
  // The member is compared by pseudonym and never shown: the value would identify nobody but says nothing useful.
  if (original.pseudonym !== input.pseudonym) {
    return invalidInput('REVERSAL_MISMATCH', 'nationalId', rule('member'));
  }
  if (original.hospitalCode !== input.hospitalCode) {
    return invalidInput('REVERSAL_MISMATCH', 'hospitalCode', rule('hospital'), input.hospitalCode);
  }
  if (original.region !== input.region) {
    return invalidInput('REVERSAL_MISMATCH', 'regionCode', rule('region'), input.region);
  }
  if (original.serviceDate !== input.serviceDate) {
    return invalidInput('REVERSAL_MISMATCH', 'serviceDate', rule('service date'), input.serviceDate);
  }
  const applied = appliedOf(originalKey, original.applied);
  if (!input.amounts.basicFundPaid.eq(applied.basicFundPaid.negated())) {
    return invalidInput(
      'REVERSAL_MISMATCH',
      'basicFundPaid',
      rule('hifp_pay with the opposite sign'),
      formatMoney(input.amounts.basicFundPaid),
    );
  }
  const claimed = storedMoney(originalKey, 'claimed', original.claimed);
  if (!input.supplementClaimed.eq(claimed.negated())) {
    return invalidInput(
      'REVERSAL_MISMATCH',
      'supplementClaimed',
      rule('hifob_pay with the opposite sign'),
      formatMoney(input.supplementClaimed),
    );
  }
  return undefined;
}

// ─── Ledger ────────────────────────────────────────────────────────────────────────────────────────

interface PostingFigures {
  readonly kind: 'SETTLEMENT_APPLIED' | 'SETTLEMENT_REVERSED';
  readonly due: Money;
  readonly flags: readonly string[];
  readonly description: string;
}

/**
 * The hospital's claim is booked as payable in full: `due` as direct-claims expense, the variance
 * (claimed − due) in suspense until reconciled, never silently corrected (design.md §3, §6). A reversal's
 * amounts are ≤ 0, so the same signed lines come out on the opposite sides.
 */
function claimPosting(
  input: SettlementInput,
  ctx: DecideContext,
  params: PolicyParams,
  figures: PostingFigures,
): LedgerPosting {
  const claimed = input.supplementClaimed;
  const variance = claimed.minus(figures.due);
  return balancedPosting({
    postingId: `${figures.kind}:${input.settlementId}`,
    sourceEventId: input.settlementId,
    sourceTopic: ctx.source.topic,
    sourcePartition: ctx.source.partition,
    sourceOffset: Number(ctx.source.offset),
    regionCode: input.region,
    insuranceYear: input.insuranceYear,
    postingDate: input.postingDate,
    kind: figures.kind,
    lines: [
      ...signedLines(figures.due, 'DIRECT_CLAIMS_EXPENSE', 'HOSPITAL_PAYABLE'),
      ...signedLines(variance, 'CLAIM_VARIANCE_SUSPENSE', 'HOSPITAL_PAYABLE'),
    ],
    memberPseudonym: input.pseudonym,
    hospitalCode: input.hospitalCode,
    serviceDate: input.serviceDate,
    claimedAmount: claimed,
    dueAmount: figures.due,
    policyVersion: policyVersionOf(params),
    description: figures.description,
    flags: [...new Set(figures.flags)],
  });
}

/** A compact rule trail: coverage, basic cap, ratio and referral penalty, rounding, annual cap. No personal data. */
function describeSupplement(
  input: SettlementApplied,
  params: PolicyParams,
  decision: SupplementDecision,
  coverage: Coverage,
): string {
  const parts: string[] = [];
  if (coverage === 'premium-not-seen') {
    parts.push(`premium not yet seen for ${input.insuranceYear}: nothing due until it arrives`);
  } else if (coverage === 'not-covered') {
    parts.push(`not covered for ${input.insuranceYear}: nothing due`);
  }
  for (const step of decision.trail) {
    if (step.rule === 'covered') continue;
    const text = briefStep(step, decision, params);
    if (text !== undefined) parts.push(`${text} [${step.article}]`);
  }
  parts.push(
    `due ${formatMoney(decision.due)}, claimed ${formatMoney(input.supplementClaimed)}, variance ${formatMoney(input.supplementClaimed.minus(decision.due))}`,
  );
  return parts.join('; ');
}

function briefStep(step: TrailEntry, decision: SupplementDecision, params: PolicyParams): string | undefined {
  switch (step.rule) {
    case 'medical-type':
    case 'basic-cap-reached':
    case 'fen-rounding':
    case 'annual-cap':
      return step.detail;
    case 'supplement-ratio':
      return decision.flags.includes('REFERRAL_PENALTY_APPLIED')
        ? `ratio ${formatRatio(decision.ratio)} (${formatRatio(params.supplementRatio)} less ${formatRatio(params.referralPenalty)} referral penalty)`
        : `ratio ${formatRatio(decision.ratio)}`;
    default:
      return undefined;
  }
}

function describeReversal(
  input: SettlementReversed,
  original: YearToDateChange,
  trail: readonly TrailEntry[],
): string {
  const article = trail[0]?.article ?? 'design.md §6 step 5';
  return `reverses SETTLEMENT_APPLIED:${input.originalSettlementId}: basic fund −${formatMoney(original.basicFundPaid)}, supplement −${formatMoney(original.supplementPaid)} [${article}]`;
}

// ─── State fields ──────────────────────────────────────────────────────────────────────────────────

const isEmpty = (hash: Readonly<Record<string, string>>) => Object.keys(hash).length === 0;

/** premium-ingest's verdict: "1" covered, "0" not; no hash (or no verdict yet) means no premium seen. */
export function coverageOf(premiumYear: Readonly<Record<string, string>>): Coverage {
  if (premiumYear.covered === '1') return 'covered';
  if (premiumYear.covered === '0') return 'not-covered';
  return 'premium-not-seen';
}

/** Stored money that does not parse is corrupt state, not bad input: throw, and the runner dead-letters it. */
function storedMoney(key: string, field: string, text: string | undefined): Money {
  if (text === undefined) return ZERO;
  const amount = parseMoneyText(text);
  if (amount === undefined) throw new Error(`state ${key} field ${field} is not an amount`);
  return amount;
}

function yearToDateOf(key: string, hash: Readonly<Record<string, string>>): YearToDate {
  return {
    basicFundPaid: storedMoney(key, 'basicFundPaid', hash.basicFundPaid),
    supplementPaid: storedMoney(key, 'supplementPaid', hash.supplementPaid),
  };
}

const addYearToDate = (a: YearToDate, b: YearToDateChange): YearToDate => ({
  basicFundPaid: a.basicFundPaid.plus(b.basicFundPaid),
  supplementPaid: a.supplementPaid.plus(b.supplementPaid),
});

const yearToDateFields = (ytd: YearToDate): StateWrite['fields'] => ({
  basicFundPaid: formatMoney(ytd.basicFundPaid),
  supplementPaid: formatMoney(ytd.supplementPaid),
});

const appliedJson = (applied: YearToDateChange): string =>
  JSON.stringify({
    basicFundPaid: formatMoney(applied.basicFundPaid),
    supplementPaid: formatMoney(applied.supplementPaid),
  });

function appliedOf(key: string, text: string | undefined): YearToDateChange {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    throw new Error(`state ${key} field applied is not JSON`);
  }
  const fields = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const read = (field: string): Money => {
    const value = fields[field];
    const amount = typeof value === 'string' ? parseMoneyText(value) : undefined;
    if (amount === undefined) throw new Error(`state ${key} field applied.${field} is not an amount`);
    return amount;
  };
  return { basicFundPaid: read('basicFundPaid'), supplementPaid: read('supplementPaid') };
}

function storedFields(stored: StoredSettlement): StateWrite['fields'] {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(stored)) {
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}
