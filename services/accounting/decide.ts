/**
 * Accounting (journal → ledger), pure: the one writer of the fund's ledger. Each journal fact is decided
 * against the state of the one entity it belongs to (a member-year, a hospital's year, a region's
 * year), so every decision that combines premiums, settlements and manual claims is taken in the
 * member's one order on the journal, and is the same whatever order the input topics were consumed in.
 */
import { invalidInput, ok, type Result, refuse } from '../../shared/errors.js';
import { isMemberPseudonym } from '../../shared/identity.js';
import { ledgerKey } from '../../shared/ledger.js';
import { chinaDateOf, type LocalDate } from '../../shared/policy/dates.js';
import { POLICY_MEDICAL_TYPE, type PolicyParams } from '../../shared/policy/params.js';
import { coverYearParams, regionParamsOn } from '../../shared/policy/regions.js';
import { manualClaimSla } from '../../shared/policy/workingDays.js';
import type { JournalClaimFigures, JournalOrigin, LedgerPosting } from '../../shared/records.js';
import type { DecodedValue } from '../../shared/registry.js';
import {
  type DecideContext,
  type Decided,
  decided,
  decidedLazily,
  type EntityPeek,
  type EntityRef,
  type EntityStore,
  entity,
  type Output,
} from '../../shared/runner/service.js';
import { type Topics, unexpectedRecord } from '../../shared/topics.js';
import {
  KEY_YEAR,
  type KeyYear,
  keyYearId,
  MEMBER_YEAR,
  memberYearId,
  REGION_YEAR,
  type RegionYear,
  regionYearId,
} from './entities.js';
import {
  type ArrivingClaim,
  type ClaimFigures,
  decideMemberYear,
  evolveMemberYear,
  hasHeldClaims,
  type MemberFact,
  type MemberYear,
  type MemberYearEnv,
  type MemberYearEvent,
  manualClaimInstant,
  type Origin,
} from './member-year.js';
import { hospitalPayoutPosting, memberYearPostings, operatingCostPosting } from './postings.js';

/** A journal record, as the runner decodes it. */
export type JournalFact = Extract<DecodedValue, { record: `journal-${string}` }>;

/** Accepts the journal's records; the ingest services checked their content, this checks they are the journal's. */
export function parseJournal(decoded: DecodedValue, topics: Topics): Result<JournalFact> {
  if (!(topics.journal.records as readonly string[]).includes(decoded.record)) {
    return refuse(unexpectedRecord(topics.journal, decoded.record));
  }
  const fact = decoded as JournalFact;
  // A malformed pseudonym could be a national ID that slipped through: refused, and never echoed.
  if ('memberPseudonym' in fact.value && !isMemberPseudonym(fact.value.memberPseudonym)) {
    return refuse(invalidInput('PSEUDONYM_FORMAT', 'memberPseudonym', '"m_" + 32 lowercase hex characters'));
  }
  return ok(fact);
}

// ─── Which entities ────────────────────────────────────────────────────────────────────────────────

interface MemberKey {
  readonly region: string;
  readonly year: number;
  readonly pseudonym: string;
}

function memberKeyOf(fact: JournalFact): MemberKey | undefined {
  switch (fact.record) {
    case 'journal-premium-collected':
    case 'journal-premium-corrected':
      return {
        region: fact.value.regionCode,
        year: fact.value.coverYear,
        pseudonym: fact.value.memberPseudonym,
      };
    case 'journal-settlement':
    case 'journal-settlement-reversal':
    case 'journal-manual-claim':
      return {
        region: fact.value.regionCode,
        year: fact.value.insuranceYear,
        pseudonym: fact.value.memberPseudonym,
      };
    default:
      return undefined;
  }
}

/** The entities a fact is decided against; a notice also names the members its region-year lists as held. */
export function accountingEntitiesOf(fact: JournalFact, loaded: EntityPeek): readonly EntityRef[] {
  const member = memberKeyOf(fact);
  if (member) {
    return [
      entity(MEMBER_YEAR, memberYearId(member.region, member.year, member.pseudonym)),
      entity(REGION_YEAR, regionYearId(member.region, member.year)),
    ];
  }
  switch (fact.record) {
    case 'journal-collection-closed': {
      const id = regionYearId(fact.value.regionCode, fact.value.coverYear);
      const regionYear = loaded.peek(REGION_YEAR, id);
      const held = [...(regionYear?.held ?? [])].map((pseudonym) =>
        entity(MEMBER_YEAR, memberYearId(fact.value.regionCode, fact.value.coverYear, pseudonym)),
      );
      return [entity(REGION_YEAR, id), ...held];
    }
    case 'journal-hospital-payout':
      return [
        entity(KEY_YEAR, keyYearId(fact.value.hospitalCode, fact.value.regionCode, fact.value.insuranceYear)),
      ];
    case 'journal-operating-cost':
      return [
        entity(KEY_YEAR, keyYearId(fact.value.regionCode, fact.value.regionCode, fact.value.insuranceYear)),
      ];
    default:
      return [];
  }
}

// ─── Decide ────────────────────────────────────────────────────────────────────────────────────────

export function decideJournal(
  fact: JournalFact,
  store: EntityStore,
  _context: DecideContext,
  topics: Topics,
): Result<Decided> {
  const member = memberKeyOf(fact);
  if (member) {
    const converted = memberFactOf(fact, member);
    if (!converted.ok) return converted;
    return decideForMember(store, member, converted.value, topics);
  }
  switch (fact.record) {
    case 'journal-collection-closed':
      return decideCollectionClosed(store, fact.value, topics);
    case 'journal-hospital-payout': {
      const p = fact.value;
      return decideKeyYear(
        store,
        keyYearId(p.hospitalCode, p.regionCode, p.insuranceYear),
        p.payoutId,
        'payoutId',
        p.origin,
        p.regionCode,
        p.paidOn,
        (params, sequence) =>
          hospitalPayoutPosting({
            payoutId: p.payoutId,
            region: p.regionCode,
            hospitalCode: p.hospitalCode,
            month: p.month,
            insuranceYear: p.insuranceYear,
            amount: p.amount,
            paidOn: p.paidOn,
            settlementIds: p.settlementIds,
            origin: originOf(p.origin),
            params,
            sequence,
          }),
        topics,
      );
    }
    case 'journal-operating-cost': {
      const c = fact.value;
      return decideKeyYear(
        store,
        keyYearId(c.regionCode, c.regionCode, c.insuranceYear),
        c.costId,
        'costId',
        c.origin,
        c.regionCode,
        c.recordedOn,
        (params, sequence) =>
          operatingCostPosting({
            costId: c.costId,
            region: c.regionCode,
            period: c.period,
            insuranceYear: c.insuranceYear,
            category: c.category,
            amount: c.amount,
            recordedOn: c.recordedOn,
            origin: originOf(c.origin),
            params,
            sequence,
          }),
        topics,
      );
    }
    default:
      return refuse(invalidInput('UNEXPECTED_RECORD', 'value', 'not a fact accounting decides', fact.record));
  }
}

const originOf = (origin: JournalOrigin): Origin => ({
  topic: origin.topic,
  partition: origin.partition,
  offset: origin.offset,
});

const ledgerOutput = (topics: Topics, posting: LedgerPosting): Output => ({
  topic: topics.ledger,
  key: ledgerKey(posting),
  record: 'ledger-posting',
  value: posting,
});

/** The parameters the member-year is decided with; the notice's value says whether collection has ended. */
function memberYearEnv(region: string, year: number, collectionClosed: boolean): Result<MemberYearEnv> {
  const key = `${region}:${year}`;
  let coverParams = coverParamsCache.get(key);
  if (coverParams === undefined) {
    coverParams = coverYearParams(region, year);
    coverParamsCache.set(key, coverParams);
  }
  if (!coverParams.ok) return coverParams;
  return ok({ coverParams: coverParams.value, paramsOn: (date) => paramsOn(region, date), collectionClosed });
}

const coverParamsCache = new Map<string, Result<PolicyParams>>();

// The ingest services refused dates without parameters, so a gap here is configuration: it throws.
const paramsCache = new Map<string, PolicyParams>();
function paramsOn(region: string, date: LocalDate): PolicyParams {
  const key = `${region}@${date}`;
  let params = paramsCache.get(key);
  if (params === undefined) {
    const found = regionParamsOn(region, date);
    if (!found.ok)
      throw new Error(`accounting: no parameters for region ${region} on ${date}: ${found.error.rule}`);
    params = found.value;
    if (paramsCache.size > 10_000) paramsCache.clear();
    paramsCache.set(key, params);
  }
  return params;
}

function memberFactOf(fact: JournalFact, member: MemberKey): Result<MemberFact> {
  switch (fact.record) {
    case 'journal-premium-collected': {
      const v = fact.value;
      return ok({
        type: 'premium-collected',
        eventId: v.eventId,
        amount: v.amount,
        paidOn: v.paidOn as LocalDate,
        enrolledOn: v.enrolledOn as LocalDate | null,
        origin: originOf(v.origin),
      });
    }
    case 'journal-premium-corrected': {
      const v = fact.value;
      return ok({
        type: 'premium-corrected',
        eventId: v.eventId,
        originalEventId: v.originalEventId,
        correctedAmount: v.correctedAmount,
        correctedOn: v.correctedOn as LocalDate,
        origin: originOf(v.origin),
      });
    }
    case 'journal-settlement': {
      const v = fact.value;
      return ok({
        type: 'claim',
        claim: arriving(v, {
          id: v.settlementId,
          kind: 'settlement',
          at: v.settledAt.getTime(),
          postedOn: chinaDateOf(v.settledAt),
          hospitalCode: v.hospitalCode,
          claimed: v.supplementClaimed,
          reverses: null,
          manual: null,
        }),
      });
    }
    case 'journal-settlement-reversal': {
      const v = fact.value;
      return ok({
        type: 'claim',
        claim: arriving(v, {
          id: v.settlementId,
          kind: 'reversal',
          at: v.reversedAt.getTime(),
          postedOn: chinaDateOf(v.reversedAt),
          hospitalCode: v.hospitalCode,
          claimed: v.supplementClaimed,
          reverses: v.originalSettlementId,
          manual: null,
        }),
      });
    }
    case 'journal-manual-claim': {
      const v = fact.value;
      // A year without holiday data throws (configuration); a claim paid before receipt was refused at ingest.
      const sla = manualClaimSla({
        params: paramsOn(member.region, v.serviceDate as LocalDate),
        receivedOn: v.receivedOn as LocalDate,
        paidOn: v.paidOn as LocalDate,
        serviceYear: v.insuranceYear,
      });
      if (!sla.ok) return sla;
      const { workingDays, withinSla, deadline, withinDeadline } = sla.value;
      return ok({
        type: 'claim',
        claim: arriving(v, {
          id: v.claimId,
          kind: 'manual',
          at: manualClaimInstant(v.paidOn as LocalDate),
          postedOn: v.paidOn as LocalDate,
          hospitalCode: v.hospitalCode,
          claimed: v.amountPaid,
          reverses: null,
          manual: {
            receivedOn: v.receivedOn as LocalDate,
            paidOn: v.paidOn as LocalDate,
            sla: { workingDays, withinSla, deadline, withinDeadline },
          },
        }),
      });
    }
    default:
      return refuse(invalidInput('UNEXPECTED_RECORD', 'value', 'not a member fact', fact.record));
  }
}

function arriving(
  v: JournalClaimFigures,
  own: Omit<ArrivingClaim, 'serviceDate' | 'figures' | 'origin'>,
): ArrivingClaim {
  const figures: ClaimFigures = {
    inScopeAmount: v.inScopeAmount,
    basicFundPaid: v.basicFundPaid,
    overCapAmount: v.overBasicCapAmount,
    outOfArea: v.outOfArea,
    referred: v.referral === 'REFERRED',
    medicalType: POLICY_MEDICAL_TYPE[v.medicalType],
  };
  return { ...own, serviceDate: v.serviceDate as LocalDate, figures, origin: originOf(v.origin) };
}

const fold = (state: MemberYear, events: readonly MemberYearEvent[]): MemberYear =>
  events.reduce(evolveMemberYear, state);

/** Keeps the region-year's list of members waiting for cover in step with a member-year. */
function withHeld(regionYear: RegionYear, pseudonym: string, held: boolean): RegionYear | undefined {
  if (regionYear.held.has(pseudonym) === held) return undefined;
  const next = new Set(regionYear.held);
  if (held) next.add(pseudonym);
  else next.delete(pseudonym);
  return { ...regionYear, held: next };
}

function decideForMember(
  store: EntityStore,
  member: MemberKey,
  fact: MemberFact,
  topics: Topics,
): Result<Decided> {
  const id = memberYearId(member.region, member.year, member.pseudonym);
  const regionYearKey = regionYearId(member.region, member.year);
  const before = store.get(MEMBER_YEAR, id);
  const regionYear = store.get(REGION_YEAR, regionYearKey);
  const env = memberYearEnv(member.region, member.year, regionYear.closed !== null);
  if (!env.ok) return env;
  const events = decideMemberYear(before, fact, env.value);
  if (!events.ok) return events;
  if (events.value.length === 0) return ok(decided([])); // a redelivery: already on the ledger
  const after = fold(before, events.value);
  store.put(MEMBER_YEAR, id, after);
  const held = withHeld(regionYear, member.pseudonym, hasHeldClaims(after));
  if (held) store.put(REGION_YEAR, regionYearKey, held);
  return ok(
    decidedLazily(() =>
      memberYearPostings(before, events.value, env.value).map((posting) => ledgerOutput(topics, posting)),
    ),
  );
}

/**
 * The tax authority says the cover year's collections are complete (Kaifeng art. 8, Dehong art. 8): every
 * member of this partition still waiting is decided now, not covered unless paid in full. A second
 * notice for the same year changes nothing.
 */
function decideCollectionClosed(
  store: EntityStore,
  notice: {
    noticeId: string;
    regionCode: string;
    coverYear: number;
    issuedOn: string;
    origin: JournalOrigin;
  },
  topics: Topics,
): Result<Decided> {
  const key = regionYearId(notice.regionCode, notice.coverYear);
  const regionYear = store.get(REGION_YEAR, key);
  if (regionYear.closed !== null) return ok(decided([]));
  const env = memberYearEnv(notice.regionCode, notice.coverYear, true);
  if (!env.ok) return env;
  const fact: MemberFact = {
    type: 'collection-closed',
    noticeId: notice.noticeId,
    issuedOn: notice.issuedOn as LocalDate,
    origin: originOf(notice.origin),
  };
  const renders: Array<() => LedgerPosting[]> = [];
  const stillHeld = new Set<string>();
  for (const pseudonym of [...regionYear.held].sort()) {
    const id = memberYearId(notice.regionCode, notice.coverYear, pseudonym);
    const before = store.get(MEMBER_YEAR, id);
    const events = decideMemberYear(before, fact, env.value);
    if (!events.ok) return events;
    const after = fold(before, events.value);
    store.put(MEMBER_YEAR, id, after);
    if (hasHeldClaims(after)) stillHeld.add(pseudonym);
    renders.push(() => memberYearPostings(before, events.value, env.value));
  }
  store.put(REGION_YEAR, key, {
    ...regionYear,
    closed: { noticeId: notice.noticeId, issuedOn: notice.issuedOn as LocalDate },
    held: stillHeld,
  });
  return ok(
    decidedLazily(() =>
      renders.flatMap((render) => render()).map((posting) => ledgerOutput(topics, posting)),
    ),
  );
}

/** A hospital's payout or a region's operating cost: posted once per id, numbered within its key and year. */
function decideKeyYear(
  store: EntityStore,
  id: string,
  eventId: string,
  field: string,
  origin: JournalOrigin,
  region: string,
  date: string,
  posting: (params: PolicyParams, sequence: number) => LedgerPosting,
  topics: Topics,
): Result<Decided> {
  const state: KeyYear = store.get(KEY_YEAR, id);
  const seen = state.seen.get(eventId);
  const here = originOf(origin);
  if (seen !== undefined) {
    if (seen.topic === here.topic && seen.partition === here.partition && seen.offset === here.offset) {
      return ok(decided([]));
    }
    return refuse(
      invalidInput(
        'DUPLICATE_EVENT',
        field,
        `an event is applied once; this id was already applied from ${seen.topic} partition ${seen.partition} offset ${seen.offset}`,
        eventId,
      ),
    );
  }
  const params = paramsOn(region, date as LocalDate);
  const sequence = state.sequence + 1;
  store.put(KEY_YEAR, id, { sequence, seen: new Map([...state.seen, [eventId, here]]) });
  return ok(decidedLazily(() => [ledgerOutput(topics, posting(params, sequence))]));
}
