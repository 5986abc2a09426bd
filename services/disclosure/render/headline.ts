import type { PolicyParams } from '../../../shared/policy/params.js';
import type { PublicDisclosure } from '../../../shared/records.js';
import type { FigureField } from '../chain.js';
import { articleZh, sourceZh } from './citation.js';
import { derivedSpan, figureSpan, percentText, wanText } from './figure.js';
import { FIELD_LABELS_ZH } from './labels.js';
import { asOfLabel, type Standing, type Verdict, verdictOf } from './standing.js';

/**
 * A year's headline, laid out as fund reports are (收入、支出、当期结余、累计结余), then the
 * people covered and served, and the annual ratios against the ceilings the region's policy sets.
 */

export interface YearContext {
  readonly record: PublicDisclosure;
  readonly standing: Standing;
  /** The region's parameters for the year; null for a region without a policy file. */
  readonly params: PolicyParams | null;
}

const amountCell = (record: PublicDisclosure, field: FigureField) =>
  `<td>${figureSpan(record, field)}<span class="wan">${wanText(record[field] as PublicDisclosure['premiumIncome'])}</span></td>`;

function accounts({ record, standing }: YearContext): string {
  const spending = record.claimsPaidDirect.plus(record.claimsPaidManual).plus(record.operatingCost);
  const surplus = record.premiumIncome.minus(spending);
  const broughtForward = record.surplusCarriedForward.minus(surplus);
  const derived = (name: string, amount: typeof surplus) =>
    `<td>${derivedSpan(record, name, amount)}<span class="wan">${wanText(amount)}</span></td>`;
  const span = asOfLabel(standing);
  return `<table class="accounts"><caption>基金收支${span ? `（年初至今，${span}）` : ''}</caption>
<thead><tr><th scope="col">项目</th><th scope="col">金额（元）</th></tr></thead>
<tbody>
<tr class="total"><th scope="row">一、基金收入（保费收入）</th>${amountCell(record, 'premiumIncome')}</tr>
<tr class="total"><th scope="row">二、基金支出</th>${derived('totalSpending', spending)}</tr>
<tr><th scope="row" class="sub">直接结算待遇支出</th>${amountCell(record, 'claimsPaidDirect')}</tr>
<tr><th scope="row" class="sub">手工报销待遇支出</th>${amountCell(record, 'claimsPaidManual')}</tr>
<tr><th scope="row" class="sub">经办费用</th>${amountCell(record, 'operatingCost')}</tr>
<tr class="total"><th scope="row">三、当期结余（一 − 二）</th>${derived('periodSurplus', surplus)}</tr>
<tr><th scope="row" class="sub">上年结转</th>${derived('surplusBroughtForward', broughtForward)}</tr>
<tr class="total"><th scope="row">四、累计结余</th>${amountCell(record, 'surplusCarriedForward')}</tr>
</tbody></table>`;
}

function people({ record }: YearContext): string {
  const row = (field: FigureField, unit: string) =>
    `<tr><th scope="row">${FIELD_LABELS_ZH[field]}</th><td>${figureSpan(record, field)} <span class="unit">${unit}</span></td></tr>`;
  return `<table class="people"><caption>参保与待遇享受</caption>
<thead><tr><th scope="col">项目</th><th scope="col">数量</th></tr></thead>
<tbody>${row('insuredPersons', '人')}${row('beneficiaries', '人')}${row('visits', '人次')}</tbody></table>`;
}

/** The mark beside a ceiling; nothing where the policy sets none (the cell says so). */
const FLAGS: Record<Verdict, (standing: Standing) => string> = {
  within: () => '<span class="flag ok">✓ 未超过上限</span>',
  over: () => '<span class="flag over">✗ 超过上限</span>',
  loss: (standing) =>
    `<span class="flag loss">${standing.phase === 'final' ? '亏损' : '年初至今亏损'}：支出大于收入</span>`,
  provisional: () => '<span class="flag pending">年度未结束，暂不判断</span>',
  'no-ceiling': () => '',
  'not-applicable': () => '',
};

function ratioValue(record: PublicDisclosure, field: FigureField): string {
  const value = record[field] as PublicDisclosure['profitRate'];
  return value === null
    ? figureSpan(record, field)
    : `<span class="pct">${percentText(value)}</span> ${figureSpan(record, field)}`;
}

/** The ceiling, the article that sets it (or says none), and how the ratio stands against it. */
function ceilingCell(
  context: YearContext,
  ratio: 'operatingCostRatio' | 'profitRate',
  ceiling: 'operatingCostCeiling' | 'profitRateCeiling',
): string {
  const { record, standing, params } = context;
  const param = ceiling === 'profitRateCeiling' ? 'profitCeiling' : ceiling;
  const source = params ? ` <span class="src">（${sourceZh(params, param)}）</span>` : '';
  const verdict = verdictOf(record[ratio], record[ceiling], standing, {
    negativeIsLoss: ratio === 'profitRate',
  });
  const flag = FLAGS[verdict](standing);
  return `<td>${ratioValue(record, ceiling)}${source}${flag}</td>`;
}

/** Says plainly which ratios the region's policy sets no ceiling for, citing where it says so. */
function noCeilingNote({ record, params }: YearContext): string {
  const missing: Array<[string, 'operatingCostCeiling' | 'profitCeiling']> = [];
  if (record.operatingCostCeiling === null) missing.push(['经办费用率', 'operatingCostCeiling']);
  if (record.profitRateCeiling === null) missing.push(['利润率', 'profitCeiling']);
  if (missing.length === 0) return '';
  const articles = new Set(
    missing.flatMap(([, param]) => {
      const cited = params ? articleZh(params.provenance[param].source) : null;
      return cited === null ? [] : [cited];
    }),
  );
  const see = articles.size > 0 ? `（参见${[...articles].join('、')}）` : '';
  return `<p class="note">该办法未规定${missing.map(([name]) => name).join('和')}的数值上限${see}，因此不作是否超限的判断。</p>`;
}

function ratios(context: YearContext): string {
  const { record, standing } = context;
  const span = asOfLabel(standing);
  const running = span
    ? '<p class="note">年度尚未结束：比率为年初至今的数字，保费多在年初征缴，不能据此判断全年是否超限。</p>'
    : '';
  const row = (
    ratio: 'operatingCostRatio' | 'profitRate',
    ceiling: 'operatingCostCeiling' | 'profitRateCeiling',
  ) =>
    `<tr><th scope="row">${FIELD_LABELS_ZH[ratio]}</th><td>${ratioValue(record, ratio)}</td>${ceilingCell(context, ratio, ceiling)}</tr>`;
  return `<div class="ratios"><table><caption>${span ? `年初至今运行指标（${span}）` : '年度运行指标'}</caption>
<thead><tr><th scope="col">指标</th><th scope="col">${span ? '年初至今' : '本年度'}</th><th scope="col">上限与判断</th></tr></thead>
<tbody>
${row('operatingCostRatio', 'operatingCostCeiling')}
${row('profitRate', 'profitRateCeiling')}
<tr><th scope="row">${FIELD_LABELS_ZH.lossRatio}</th><td>${ratioValue(record, 'lossRatio')}</td><td>—</td></tr>
</tbody></table>${noCeilingNote(context)}${running}</div>`;
}

function manualClaims({ record, params }: YearContext): string {
  const rule = params
    ? `<p class="note">办结时限：${params.manualClaim.workingDays} 个工作日（${sourceZh(params, 'manualClaim')}）。</p>`
    : '';
  return `<div class="manual"><table><caption>手工报销办理</caption>
<thead><tr><th scope="col">项目</th><th scope="col">数量</th></tr></thead>
<tbody>
<tr><th scope="row">${FIELD_LABELS_ZH.manualClaimsDecided}</th><td>${figureSpan(record, 'manualClaimsDecided')} <span class="unit">件</span></td></tr>
<tr><th scope="row">${FIELD_LABELS_ZH.manualClaimsWithinSla}</th><td>${figureSpan(record, 'manualClaimsWithinSla')} <span class="unit">件</span></td></tr>
<tr><th scope="row">${FIELD_LABELS_ZH.slaCompliance}</th><td>${ratioValue(record, 'slaCompliance')}</td></tr>
</tbody></table>${rule}</div>`;
}

function reconciliation({ record }: YearContext): string {
  return `<table class="reconciliation"><caption>对账情况（本保险年度）</caption>
<thead><tr><th scope="col">项目</th><th scope="col">数量 / 金额</th></tr></thead>
<tbody>
<tr><th scope="row">${FIELD_LABELS_ZH.reconciliationOpenItems}</th><td>${figureSpan(record, 'reconciliationOpenItems')} <span class="unit">项</span></td></tr>
<tr><th scope="row">${FIELD_LABELS_ZH.reconciliationDiscrepancies}</th><td>${figureSpan(record, 'reconciliationDiscrepancies')} <span class="unit">项</span></td></tr>
<tr><th scope="row">${FIELD_LABELS_ZH.reconciliationOpenAmount}</th><td>${figureSpan(record, 'reconciliationOpenAmount')}</td></tr>
</tbody></table>`;
}

/** The headline block of one region's year; every figure is the year record's. */
export function yearHeadline(context: YearContext): string {
  return `<div class="headline">
<div class="card accounts-card">${accounts(context)}</div>
<div class="card people-card">${people(context)}</div>
<div class="card ratios-card">${ratios(context)}</div>
<div class="card manual-card">${manualClaims(context)}</div>
<div class="card reconciliation-card">${reconciliation(context)}</div>
</div>`;
}
