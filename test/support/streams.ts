import { nationalIdCheckCharacter } from '../../shared/identity.js';
import { Decimal } from '../../shared/money.js';
import type {
  HospitalSettlement,
  HospitalSettlementReversal,
  InsurerMonthlySettlement,
  ManualReimbursement,
  OperatingCost,
  PremiumCollected,
  PremiumCorrection,
} from '../../shared/records.js';

// Small, realistic Dehong (533100) streams for the services' integration tests. Amounts follow the
// region's parameters (shared/policy/regions/533100-dehong.json): premium 180.00, basic cap 150000.00,
// 90 % above it (art. 10), 85 % for un-referred care outside the prefecture (art. 12).

export const DEHONG = '533100';
export const HOSPITAL = 'H53310200003';
const yuan = (text: string) => new Decimal(text);

/** A structurally valid resident ID (GB 11643 check character) for test member `n`, born 1970–1990. */
export function memberId(n: number): string {
  const birth = `19${70 + (n % 20)}0${1 + (n % 9)}1${n % 10}`;
  const first17 = `533102${birth}${String(100 + (n % 900)).padStart(3, '0')}`;
  return first17 + nationalIdCheckCharacter(first17);
}

export function premium(n: number, overrides: Partial<PremiumCollected> = {}): PremiumCollected {
  return {
    eventId: `TAX-${DEHONG}-2025-${String(n).padStart(6, '0')}`,
    regionCode: DEHONG,
    nationalId: memberId(n),
    payerType: 'UNIT_SHARE',
    employerCode: null,
    coverYear: 2025,
    amount: yuan('180.00'),
    paidOn: '2025-03-01',
    basicEnrolmentDate: '2015-06-01',
    taxVoucherNo: `5331${String(n).padStart(14, '0')}`,
    ...overrides,
  };
}

export function premiumCorrection(n: number, overrides: Partial<PremiumCorrection> = {}): PremiumCorrection {
  return {
    eventId: `TAXC-${DEHONG}-2025-${String(n).padStart(6, '0')}`,
    originalEventId: `TAX-${DEHONG}-2025-${String(n).padStart(6, '0')}`,
    regionCode: DEHONG,
    nationalId: memberId(n),
    coverYear: 2025,
    originalAmount: yuan('180.00'),
    correctedAmount: yuan('180.00'),
    correctedOn: '2025-03-10',
    taxVoucherNo: `5331C${String(n).padStart(13, '0')}`,
    reason: null,
    ...overrides,
  };
}

/**
 * A settlement at the test hospital in May 2025. `basic` is what the basic fund paid; `overCap` the
 * in-scope amount above the basic cap; `claimed` the supplement the platform says it paid.
 */
export function settlement(
  id: string,
  n: number,
  amounts: { basic: string; overCap: string; claimed: string },
  overrides: Partial<HospitalSettlement> = {},
): HospitalSettlement {
  const basic = yuan(amounts.basic);
  const overCap = yuan(amounts.overCap);
  const inScope = basic.plus(overCap).plus(1000);
  return {
    settlementId: id,
    visitId: `V-${id}`,
    hospitalSettlementId: null,
    hospitalCode: HOSPITAL,
    regionCode: DEHONG,
    nationalId: memberId(n),
    certificateType: '01',
    personNo: `5300000000000${String(n).padStart(7, '0')}`,
    insuranceType: '310',
    medicalType: 'INPATIENT',
    serviceDate: '2025-05-12',
    settledAt: new Date('2025-05-12T06:00:00.000Z'),
    outOfArea: false,
    referral: 'NOT_APPLICABLE',
    totalMedicalCost: inScope.plus(500),
    fullOwnPayAmount: yuan('500.00'),
    inScopeAmount: inScope,
    basicFundPaid: basic,
    overBasicCapAmount: overCap,
    supplementClaimed: yuan(amounts.claimed),
    fundPaySum: null,
    personalAccountPaid: null,
    cashPaid: null,
    memberShare: null,
    civilServantSubsidyPaid: null,
    enterpriseSupplementaryPaid: null,
    medicalAssistancePaid: null,
    otherPaid: null,
    clearingWay: null,
    clearingType: null,
    ...overrides,
  };
}

/** The full reversal (退费) of a settlement built by `settlement`. */
export function reversal(id: string, original: HospitalSettlement): HospitalSettlementReversal {
  const neg = (d: Decimal) => d.negated();
  return {
    settlementId: id,
    originalSettlementId: original.settlementId,
    visitId: original.visitId,
    hospitalCode: original.hospitalCode,
    regionCode: original.regionCode,
    nationalId: original.nationalId,
    certificateType: original.certificateType,
    personNo: original.personNo,
    insuranceType: original.insuranceType,
    medicalType: original.medicalType,
    serviceDate: original.serviceDate,
    hospitalSettlementId: null,
    reversedAt: new Date('2025-05-20T02:00:00.000Z'),
    outOfArea: original.outOfArea,
    referral: original.referral,
    totalMedicalCost: neg(original.totalMedicalCost),
    fullOwnPayAmount: neg(original.fullOwnPayAmount),
    inScopeAmount: neg(original.inScopeAmount),
    basicFundPaid: neg(original.basicFundPaid),
    overBasicCapAmount: neg(original.overBasicCapAmount),
    supplementClaimed: neg(original.supplementClaimed),
    reason: '退费',
  };
}

export function monthlySettlement(
  payoutId: string,
  settlementIds: string[],
  amount: string,
  overrides: Partial<InsurerMonthlySettlement> = {},
): InsurerMonthlySettlement {
  return {
    payoutKind: 'HOSPITAL_MONTHLY_SETTLEMENT',
    payoutId,
    regionCode: DEHONG,
    hospitalCode: HOSPITAL,
    month: '2025-05',
    amount: yuan(amount),
    paidOn: '2025-06-10',
    settlementIds,
    ...overrides,
  };
}

export function manualClaim(
  claimId: string,
  n: number,
  overrides: Partial<ManualReimbursement> = {},
): ManualReimbursement {
  return {
    payoutKind: 'MANUAL_REIMBURSEMENT',
    claimId,
    regionCode: DEHONG,
    nationalId: memberId(n),
    certificateType: '01',
    personNo: null,
    serviceYear: 2025,
    serviceDate: '2025-05-28',
    medicalType: 'INPATIENT',
    hospitalCode: null,
    outOfArea: true,
    referral: 'REFERRED',
    totalMedicalCost: yuan('72000.00'),
    fullOwnPayAmount: yuan('1000.00'),
    inScopeAmount: yuan('70000.00'),
    basicFundPaid: yuan('60000.00'),
    overBasicCapAmount: yuan('10000.00'),
    receivedOn: '2025-06-02',
    paidOn: '2025-06-20',
    amountPaid: yuan('9000.00'),
    ...overrides,
  };
}

export function operatingCost(costId: string, amount: string): OperatingCost {
  return {
    payoutKind: 'OPERATING_COST',
    costId,
    regionCode: DEHONG,
    period: '2025-05',
    category: 'IT_SYSTEMS',
    amount: yuan(amount),
    recordedOn: '2025-05-31',
    description: null,
  };
}
