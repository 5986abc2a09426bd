/**
 * The records as the tax authority, the hospitals and the insurer publish them (schemas/*.avsc), each
 * with its publication time, its expected fate (a ledger posting or a dead letter) and the faults it
 * carries; the injected duplicates and bad records are built here too.
 */
import { addDays, type LocalDate, yearOf } from '../../shared/policy/dates.js';
import type {
  HospitalSettlement,
  HospitalSettlementReversal,
  InsurerMonthlySettlement,
  ManualReimbursement,
  OperatingCost,
  PremiumCollected,
  PremiumCollectionClosed,
  PremiumCorrection,
} from '../../shared/records.js';
import type { SimEvent } from './events.js';
import { institutionCode, nationalIdOf, outOfAreaDistrict, withWrongCheckCharacter } from './identities.js';
import {
  type ClaimRec,
  type Context,
  type CorrectionRec,
  type CostRec,
  chinaAt,
  type Draft,
  fen,
  type MemberStory,
  type Outcome,
  type PaymentRec,
  type PayoutRec,
  type SettlementRec,
} from './model.js';
import { officeMinute } from './plan.js';
import { dayBetween, type Member, type PremiumPart, singlePaymentPlan } from './population.js';
import type { Rng } from './random.js';
import type { FaultKind, PublishedKind } from './truth.js';

const CERTIFICATE_RESIDENT_ID = '01';
const EMPLOYEE_BASIC_INSURANCE = '310';

export class DraftBuilder {
  private readonly drafts: Draft[] = [];
  private seq = 0;
  private voucher = 0;
  private extraSettlement = 0;

  constructor(
    private readonly rng: Rng,
    private readonly ctx: Context,
  ) {}

  private push(
    at: number,
    event: SimEvent,
    kind: PublishedKind,
    id: string | null,
    outcome: Outcome,
    tags: readonly FaultKind[],
  ): void {
    this.drafts.push({ at, seq: this.seq++, event, kind, id, outcome, tags: [...new Set(tags)] });
  }

  private voucherNo(date: LocalDate): string {
    this.voucher += 1;
    return `${this.ctx.region.slice(0, 4)}${date.slice(2, 4)}${date.slice(5, 7)}${date.slice(8, 10)}${String(this.voucher).padStart(8, '0')}`;
  }

  premium(p: PaymentRec): void {
    const value: PremiumCollected = {
      eventId: p.eventId,
      regionCode: this.ctx.region,
      nationalId: p.story.member.nationalId,
      payerType: p.payerType,
      employerCode: p.employerCode,
      coverYear: this.ctx.year,
      amount: fen(p.amountFen),
      paidOn: p.paidOn,
      basicEnrolmentDate: p.story.member.enrolledOn,
      taxVoucherNo: this.voucherNo(p.paidOn),
    };
    this.push(
      p.pubAt,
      { topic: this.ctx.topics.taxPremium, record: 'premium-collected', key: value.nationalId, value },
      'premium-collected',
      p.eventId,
      { posting: 'PREMIUM_COLLECTED' },
      p.story.tags,
    );
  }

  correction(p: PaymentRec, c: CorrectionRec): void {
    const value: PremiumCorrection = {
      eventId: c.eventId,
      originalEventId: p.eventId,
      regionCode: this.ctx.region,
      nationalId: p.story.member.nationalId,
      coverYear: this.ctx.year,
      originalAmount: fen(p.amountFen),
      correctedAmount: fen(c.correctedFen),
      correctedOn: c.correctedOn,
      taxVoucherNo: this.voucherNo(c.correctedOn),
      reason: c.reason,
    };
    this.push(
      c.pubAt,
      { topic: this.ctx.topics.taxPremium, record: 'premium-correction', key: value.nationalId, value },
      'premium-correction',
      c.eventId,
      { posting: 'PREMIUM_CORRECTED' },
      [],
    );
  }

  settlement(s: SettlementRec): void {
    const member = s.story.member;
    const common = {
      settlementId: s.id,
      visitId: s.visitId,
      hospitalCode: s.hospital.code,
      regionCode: this.ctx.region,
      nationalId: member.nationalId,
      certificateType: CERTIFICATE_RESIDENT_ID,
      personNo: member.personNo,
      insuranceType: EMPLOYEE_BASIC_INSURANCE,
      medicalType: s.medicalType,
      serviceDate: s.serviceDate,
      outOfArea: false,
      referral: 'NOT_APPLICABLE' as const,
      totalMedicalCost: fen(s.cost.totalFen),
      fullOwnPayAmount: fen(s.cost.fullOwnPayFen),
      inScopeAmount: fen(s.cost.inScopeFen),
      basicFundPaid: fen(s.basicFen),
      overBasicCapAmount: fen(s.overCapFen),
      supplementClaimed: fen(s.claimedFen),
    };
    if (s.kind === 'reversal') {
      const original = s.original as SettlementRec;
      const value: HospitalSettlementReversal = {
        ...common,
        originalSettlementId: original.id,
        hospitalSettlementId: null,
        reversedAt: new Date(s.at),
        reason: s.reason,
      };
      this.push(
        s.at,
        {
          topic: this.ctx.topics.hospitalSettlement,
          record: 'hospital-settlement-reversal',
          key: member.nationalId,
          value,
        },
        'hospital-settlement-reversal',
        s.id,
        { posting: 'SETTLEMENT_REVERSED' },
        s.tags,
      );
      return;
    }
    // In publication order a settlement before its member-year's cover is decided is held first.
    this.push(
      s.at,
      {
        topic: this.ctx.topics.hospitalSettlement,
        record: 'hospital-settlement',
        key: member.nationalId,
        value: { ...common, ...this.platformExtras(s) },
      },
      'hospital-settlement',
      s.id,
      { posting: s.heldFirst ? 'SETTLEMENT_HELD' : 'SETTLEMENT_APPLIED' },
      s.tags,
    );
  }

  /** The rest of setlinfo: fund totals, personal account and cash, the civil-servant subsidy. */
  private platformExtras(s: SettlementRec): Pick<HospitalSettlement, PlatformExtraField> {
    const civil = s.story.member.civilServant
      ? Math.round(Math.max(0, s.cost.inScopeFen - s.basicFen - s.claimedFen) * 0.5)
      : null;
    const fundPaySum = s.basicFen + s.claimedFen + (civil ?? 0);
    const memberShare = Math.max(0, s.cost.totalFen - fundPaySum);
    const account = Math.min(memberShare, Math.round(memberShare * this.rng.uniform(0, 0.5)));
    const day = s.serviceDate.replaceAll('-', '');
    return {
      hospitalSettlementId: `${s.medicalType === 'INPATIENT' ? 'ZY' : 'MT'}${day}-${s.id.slice(-5)}`,
      settledAt: new Date(s.at),
      fundPaySum: fen(fundPaySum),
      personalAccountPaid: fen(account),
      cashPaid: fen(memberShare - account),
      memberShare: fen(memberShare),
      civilServantSubsidyPaid: civil === null ? null : fen(civil),
      enterpriseSupplementaryPaid: null,
      medicalAssistancePaid: fen(0),
      otherPaid: null,
      clearingWay: '1',
      clearingType: s.medicalType === 'INPATIENT' ? '21' : '14',
    };
  }

  manualClaim(c: ClaimRec): void {
    const member = c.story.member;
    const value: ManualReimbursement = {
      payoutKind: 'MANUAL_REIMBURSEMENT',
      claimId: c.id,
      regionCode: this.ctx.region,
      nationalId: member.nationalId,
      certificateType: CERTIFICATE_RESIDENT_ID,
      personNo: this.rng.chance(0.7) ? member.personNo : null,
      serviceYear: this.ctx.year,
      serviceDate: c.plan.serviceDate,
      medicalType: c.plan.medicalType,
      hospitalCode: c.plan.hospitalCode,
      outOfArea: true,
      referral: c.plan.referral,
      totalMedicalCost: fen(c.plan.cost.totalFen),
      fullOwnPayAmount: fen(c.plan.cost.fullOwnPayFen),
      inScopeAmount: fen(c.plan.cost.inScopeFen),
      basicFundPaid: fen(c.basicFen),
      overBasicCapAmount: fen(c.overCapFen),
      receivedOn: c.plan.receivedOn,
      paidOn: c.plan.paidOn,
      amountPaid: fen(c.dueFen),
    };
    this.push(
      c.at,
      { topic: this.ctx.topics.insurerPayout, record: 'manual-reimbursement', key: member.nationalId, value },
      'manual-reimbursement',
      c.id,
      { posting: c.heldFirst ? 'MANUAL_REIMBURSEMENT_HELD' : 'MANUAL_REIMBURSEMENT' },
      c.tags,
    );
  }

  payout(p: PayoutRec): void {
    const value: InsurerMonthlySettlement = {
      payoutKind: 'HOSPITAL_MONTHLY_SETTLEMENT',
      payoutId: p.id,
      regionCode: this.ctx.region,
      hospitalCode: p.hospital.code,
      month: p.month,
      amount: fen(p.amountFen),
      paidOn: p.paidOn,
      settlementIds: p.listed.map((s) => s.id),
    };
    this.push(
      p.at,
      {
        topic: this.ctx.topics.insurerPayout,
        record: 'insurer-monthly-settlement',
        key: p.hospital.code,
        value,
      },
      'insurer-monthly-settlement',
      p.id,
      { posting: 'HOSPITAL_MONTH_SETTLED' },
      p.tags,
    );
  }

  operatingCost(c: CostRec): void {
    const value: OperatingCost = {
      payoutKind: 'OPERATING_COST',
      costId: c.id,
      regionCode: this.ctx.region,
      period: c.period,
      category: c.category,
      amount: fen(c.amountFen),
      recordedOn: c.recordedOn,
      description: c.description,
    };
    this.push(
      c.at,
      { topic: this.ctx.topics.insurerPayout, record: 'operating-cost', key: this.ctx.region, value },
      'operating-cost',
      c.id,
      { posting: 'OPERATING_COST' },
      [],
    );
  }

  /**
   * The tax authority's end-of-collection notice for the cover year (Kaifeng art. 8, Dehong art. 8): once
   * every collection of the window is published; it books nothing itself.
   */
  collectionClosed(at: number, issuedOn: LocalDate, publishedCount: number): void {
    const value: PremiumCollectionClosed = {
      noticeId: `TAXN-${this.ctx.region}-${this.ctx.year}-${this.ctx.seedTag}`,
      regionCode: this.ctx.region,
      coverYear: this.ctx.year,
      issuedOn,
      publishedCount,
    };
    this.push(
      at,
      { topic: this.ctx.topics.taxPremium, record: 'premium-collection-closed', key: this.ctx.region, value },
      'premium-collection-closed',
      value.noticeId,
      { notice: true },
      [],
    );
  }

  /** DUPLICATES: a few events published a second time, minutes later (a producer or operator resending). */
  duplicates(rng: Rng): void {
    // Accounting recognises the id again (the journal holds both copies) and refuses the second.
    const want: readonly [PublishedKind, number, string][] = [
      ['premium-collected', 1, 'eventId'],
      ['hospital-settlement', 2, 'settlementId'],
      ['manual-reimbursement', 1, 'claimId'],
      ['insurer-monthly-settlement', 1, 'payoutId'],
      ['operating-cost', 1, 'costId'],
    ];
    const originals = [...this.drafts];
    for (const [kind, count, field] of want) {
      const candidates = originals.filter((d) => d.kind === kind && d.tags.length === 0);
      for (const original of rng.sample(candidates, count)) {
        this.push(
          original.at + rng.int(1, 90) * 60_000,
          original.event,
          kind,
          original.id,
          { deadLetter: { service: 'accounting', code: 'DUPLICATE_EVENT', field } },
          ['DUPLICATES'],
        );
      }
    }
  }

  /** BAD_RECORDS: what a broken interface or a typo sends; each must end as a dead letter with its reason. */
  badRecords(rng: Rng, stories: readonly MemberStory[]): void {
    const ctx = this.ctx;
    const tags: FaultKind[] = ['BAD_RECORDS'];
    const quiet = stories.filter((s) => s.member.profile === 'none' && s.role === 'normal');
    const someone = () => (rng.pick(quiet.length > 0 ? quiet : stories) as MemberStory).member;
    const dayInYear = () => dayBetween(rng, addDays(ctx.yearStart, 14), addDays(ctx.yearEnd, -14));
    const hospital = rng.pick(ctx.hospitals);

    // Not Avro: a hospital interface posting JSON to the topic.
    this.notAvroSettlement(rng, dayInYear(), someone(), hospital.code, tags);
    // A national ID whose check character was mistyped at the tax office.
    this.mistypedIdPremium(rng, tags);

    // A negative amount: hifp_pay sent with the wrong sign.
    this.badSettlement(
      rng,
      someone(),
      dayInYear(),
      hospital.code,
      { basicFundPaidFen: -123_456 },
      { service: 'settlement-ingest', code: 'AMOUNT_NEGATIVE', field: 'basicFundPaid' },
    );
    // A hospital of another prefecture, not designated here.
    const foreign = institutionCode(outOfAreaDistrict(ctx.region), rng.int(1, 999));
    this.badSettlement(
      rng,
      someone(),
      dayInYear(),
      foreign,
      {},
      { service: 'settlement-ingest', code: 'UNKNOWN_HOSPITAL', field: 'hospitalCode' },
    );
    // A reversal of a settlement the hub never saw: valid on its own, refused by accounting.
    this.badSettlement(
      rng,
      someone(),
      dayInYear(),
      hospital.code,
      { reversalOf: this.nextSettlementId() },
      { service: 'accounting', code: 'UNKNOWN_SETTLEMENT', field: 'originalSettlementId' },
    );
  }

  private notAvroSettlement(
    rng: Rng,
    jsonDay: LocalDate,
    jsonMember: Member,
    hospitalCode: string,
    tags: FaultKind[],
  ): void {
    this.push(
      chinaAt(jsonDay, officeMinute(rng)),
      {
        topic: this.ctx.topics.hospitalSettlement,
        key: jsonMember.nationalId,
        bytes: Buffer.from(
          JSON.stringify({
            setl_id: this.nextSettlementId(),
            fixmedins_code: hospitalCode,
            setl_time: `${jsonDay} 10:12:00`,
            medfee_sumamt: '3521.40',
            hifob_pay: '0.00',
          }),
          'utf8',
        ),
      },
      'raw-bytes',
      null,
      { deadLetter: { service: 'settlement-ingest', code: 'NOT_AVRO', field: 'value' } },
      tags,
    );
  }

  private mistypedIdPremium(rng: Rng, tags: FaultKind[]): void {
    const ctx = this.ctx;
    const birth = dayBetween(rng, '1960-01-01' as LocalDate, '1999-12-31' as LocalDate);
    const badId = withWrongCheckCharacter(
      nationalIdOf(`${ctx.region.slice(0, 4)}02`, birth, rng.int(1, 999)),
    );
    const paidOn = dayBetween(rng, ctx.window.opensOn, ctx.window.closesOn);
    const eventId = `TAX-${ctx.region}-${yearOf(paidOn)}-${ctx.seedTag}9${String(rng.int(0, 9_999_999)).padStart(7, '0')}`;
    const premium: PremiumCollected = {
      eventId,
      regionCode: ctx.region,
      nationalId: badId,
      payerType: (singlePaymentPlan(ctx.params, 'employee')[0] as PremiumPart).payerType,
      employerCode: null,
      coverYear: ctx.year,
      amount: fen(ctx.premiumDueFen),
      paidOn,
      basicEnrolmentDate: null,
      taxVoucherNo: this.voucherNo(paidOn),
    };
    this.push(
      chinaAt(paidOn, officeMinute(rng, 9, 17)),
      { topic: this.ctx.topics.taxPremium, record: 'premium-collected', key: badId, value: premium },
      'premium-collected',
      eventId,
      { deadLetter: { service: 'premium-ingest', code: 'ID_CHECKSUM', field: 'nationalId' } },
      tags,
    );
  }

  private nextSettlementId(): string {
    this.extraSettlement += 1;
    return `${this.ctx.region}G${this.ctx.seedTag}9${String(this.extraSettlement).padStart(8, '0')}`;
  }

  private badSettlement(
    rng: Rng,
    member: Member,
    date: LocalDate,
    hospitalCode: string,
    change: { basicFundPaidFen?: number; reversalOf?: string },
    deadLetter: { service: string; code: string; field: string },
  ): void {
    const at = chinaAt(date, officeMinute(rng));
    const id = this.nextSettlementId();
    const inScope = rng.int(300_000, 900_000);
    const sign = change.reversalOf === undefined ? 1 : -1;
    const common = {
      settlementId: id,
      visitId: `${this.ctx.region}M${this.ctx.seedTag}9${String(this.extraSettlement).padStart(8, '0')}`,
      hospitalCode,
      regionCode: this.ctx.region,
      nationalId: member.nationalId,
      certificateType: CERTIFICATE_RESIDENT_ID,
      personNo: member.personNo,
      insuranceType: EMPLOYEE_BASIC_INSURANCE,
      medicalType: 'INPATIENT' as const,
      serviceDate: date,
      outOfArea: false,
      referral: 'NOT_APPLICABLE' as const,
      totalMedicalCost: fen(sign * Math.round(inScope * 1.1)),
      fullOwnPayAmount: fen(sign * Math.round(inScope * 0.05)),
      inScopeAmount: fen(sign * inScope),
      basicFundPaid: fen(change.basicFundPaidFen ?? sign * Math.round(inScope * 0.8)),
      overBasicCapAmount: fen(0),
      supplementClaimed: fen(0),
      hospitalSettlementId: null,
    };
    if (change.reversalOf !== undefined) {
      const value: HospitalSettlementReversal = {
        ...common,
        originalSettlementId: change.reversalOf,
        reversedAt: new Date(at),
        reason: '患者退费',
      };
      this.push(
        at,
        {
          topic: this.ctx.topics.hospitalSettlement,
          record: 'hospital-settlement-reversal',
          key: member.nationalId,
          value,
        },
        'hospital-settlement-reversal',
        id,
        { deadLetter },
        ['BAD_RECORDS'],
      );
      return;
    }
    const value: HospitalSettlement = {
      ...common,
      settledAt: new Date(at),
      fundPaySum: null,
      personalAccountPaid: null,
      cashPaid: null,
      memberShare: null,
      civilServantSubsidyPaid: null,
      enterpriseSupplementaryPaid: null,
      medicalAssistancePaid: null,
      otherPaid: null,
      clearingWay: '1',
      clearingType: '21',
    };
    this.push(
      at,
      {
        topic: this.ctx.topics.hospitalSettlement,
        record: 'hospital-settlement',
        key: member.nationalId,
        value,
      },
      'hospital-settlement',
      id,
      { deadLetter },
      ['BAD_RECORDS'],
    );
  }

  sorted(): Draft[] {
    return [...this.drafts].sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}

/** The fields of a settlement that its reversal does not carry. */
type PlatformExtraField =
  | 'hospitalSettlementId'
  | 'settledAt'
  | 'fundPaySum'
  | 'personalAccountPaid'
  | 'cashPaid'
  | 'memberShare'
  | 'civilServantSubsidyPaid'
  | 'enterpriseSupplementaryPaid'
  | 'medicalAssistancePaid'
  | 'otherPaid'
  | 'clearingWay'
  | 'clearingType';
