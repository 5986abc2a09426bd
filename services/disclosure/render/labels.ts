import { loadRegions } from '../../../shared/policy/regions.js';
import type { PublicDisclosure } from '../../../shared/records.js';

/** Column and row names of every disclosure field, in Chinese as the bureau writes them. */
export const FIELD_LABELS_ZH: { readonly [K in keyof PublicDisclosure]: string } = {
  regionCode: '统筹区代码',
  periodKind: '期间类别',
  periodLabel: '期间',
  periodStart: '起始日',
  periodEnd: '截止日',
  sequence: '序号',
  correction: '更正次数',
  supersedesSequence: '被更正序号',
  changes: '更正说明',
  publishedAt: '发布时间',
  parametersIllustrative: '含示例参数',
  insuredPersons: '参保人数',
  premiumIncome: '保费收入（元）',
  claimsPaidDirect: '直接结算待遇支出（元）',
  claimsPaidManual: '手工报销待遇支出（元）',
  beneficiaries: '受益人数',
  visits: '受益人次',
  operatingCost: '经办费用（元）',
  operatingCostRatio: '经办费用率',
  operatingCostCeiling: '经办费用率上限',
  profitRate: '利润率',
  profitRateCeiling: '利润率上限',
  lossRatio: '赔付率',
  surplusCarriedForward: '结余（元）',
  manualClaimsDecided: '手工报销办结件数',
  manualClaimsWithinSla: '时限内办结件数',
  slaCompliance: '时限达标率',
  reconciliationOpenItems: '未结对账项数',
  reconciliationDiscrepancies: '计入差异金额的对账项数',
  reconciliationOpenAmount: '未结差异金额（元）',
  suppressionThreshold: '小组抑制阈值',
  previousHash: '上一期哈希',
  hash: '本期哈希',
  signingKeyId: '签名密钥标识',
  signature: '签名',
};

export const PERIOD_KIND_ZH = { MONTH: '月度', QUARTER: '季度', YEAR: '年度' } as const;

/** "德宏傣族景颇族自治州" for "533100"; the code itself for a region without a policy file. */
export function regionNameZh(code: string): string {
  try {
    return loadRegions().get(code)?.name.zh ?? code;
  } catch {
    return code;
  }
}

/** Text-safe for HTML and XML content and attribute values. */
export function escapeMarkup(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
