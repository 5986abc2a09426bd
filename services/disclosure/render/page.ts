import * as echarts from 'echarts';
import { loadRegions } from '../../../shared/policy/regions.js';
import type { PublicDisclosure } from '../../../shared/records.js';
import { chainsFrom, type FigureField, figureText } from '../chain.js';
import { comparePeriods, parsePeriod } from '../periods.js';
import { escapeMarkup, FIELD_LABELS_ZH, regionNameZh } from './labels.js';

/**
 * The public page (Chinese, lang="zh-CN"): per region and year, the latest disclosure of the year, its
 * quarters and its months, ratios against their ceilings, two charts drawn on the server as inline SVG
 * by echarts, and how to verify. Every figure sits in an element
 * `data-figure="<region>:<period>:<field>"` whose text is exactly the JSON feed's value (empty for null).
 */

export interface PageOptions {
  readonly publicKeyPem: string;
  readonly signingKeyId: string;
  readonly generatedAt: Date;
  /** Only these regions (default: every region with disclosures). */
  readonly regions?: readonly string[];
  readonly suppressionThreshold?: number;
}

/** The figures shown per period, in table order. */
const TABLE_FIELDS: readonly FigureField[] = [
  'premiumIncome',
  'claimsPaidDirect',
  'claimsPaidManual',
  'operatingCost',
  'surplusCarriedForward',
  'operatingCostRatio',
  'operatingCostCeiling',
  'profitRate',
  'profitRateCeiling',
  'lossRatio',
  'insuredPersons',
  'beneficiaries',
  'visits',
  'manualClaimsDecided',
  'manualClaimsWithinSla',
  'slaCompliance',
  'reconciliationOpenItems',
  'reconciliationDiscrepancies',
  'reconciliationOpenAmount',
  'suppressionThreshold',
];

const COUNT_FIELDS = new Set<FigureField>([
  'insuredPersons',
  'beneficiaries',
  'visits',
  'manualClaimsDecided',
  'manualClaimsWithinSla',
]);
const RATIO_FIELDS = new Set<FigureField>([
  'operatingCostRatio',
  'operatingCostCeiling',
  'profitRate',
  'profitRateCeiling',
  'lossRatio',
  'slaCompliance',
]);

const percent = (fraction: string) => `${(Number(fraction) * 100).toFixed(2)}%`;

/** One figure: the exact feed text in the data-figure element, a reading aid beside it. */
function figureCell(record: PublicDisclosure, field: FigureField): string {
  const id = `${record.regionCode}:${record.periodLabel}:${field}`;
  const value = figureText(record, field);
  if (value === null) {
    const why = COUNT_FIELDS.has(field)
      ? `不足 ${record.suppressionThreshold}，不予公布`
      : field.endsWith('Ceiling')
        ? '政策未规定'
        : '不适用';
    return `<td class="null"><span data-figure="${escapeMarkup(id)}" data-null="true"></span><span class="note">${why}</span></td>`;
  }
  const text = escapeMarkup(String(value));
  let aid = '';
  if (RATIO_FIELDS.has(field)) aid = ` <span class="note">${percent(String(value))}</span>`;
  if (field === 'operatingCostRatio')
    aid += indicator(record.operatingCostRatio, record.operatingCostCeiling);
  if (field === 'profitRate') aid += indicator(record.profitRate, record.profitRateCeiling);
  return `<td><span data-figure="${escapeMarkup(id)}">${text}</span>${aid}</td>`;
}

function indicator(ratio: PublicDisclosure['profitRate'], ceiling: PublicDisclosure['profitRate']): string {
  if (ratio === null) return '';
  if (ceiling === null) return ' <span class="flag none" title="政策未规定上限">无上限</span>';
  return ratio.lte(ceiling)
    ? ' <span class="flag ok" title="未超过上限">✓ 未超上限</span>'
    : ' <span class="flag over" title="超过上限">✗ 超过上限</span>';
}

function periodName(record: PublicDisclosure): string {
  const period = parsePeriod(record.periodLabel);
  if (period === undefined) return record.periodLabel;
  if (period.kind === 'YEAR') return `${period.year} 年度`;
  if (period.kind === 'QUARTER') return `${period.year} 年第 ${record.periodLabel.slice(-1)} 季度`;
  return `${period.year} 年 ${Number(record.periodLabel.slice(5, 7))} 月`;
}

/** "premiumIncome: 1.00 → 2.00" as "保费收入（元）：1.00 → 2.00" for readers of the page. */
function changeInChinese(change: string): string {
  const colon = change.indexOf(': ');
  const field = change.slice(0, colon) as keyof typeof FIELD_LABELS_ZH;
  const label = colon > 0 ? FIELD_LABELS_ZH[field] : undefined;
  return label === undefined ? change : `${label}：${change.slice(colon + 2)}`;
}

function periodRow(record: PublicDisclosure): string {
  const correction =
    record.correction === 0
      ? `<td class="meta">第 ${record.sequence} 号</td>`
      : `<td class="meta">第 ${record.sequence} 号（第 ${record.correction} 次更正，更正第 ${record.supersedesSequence} 号：${escapeMarkup(record.changes.map(changeInChinese).join('；'))}）</td>`;
  return `<tr id="p-${escapeMarkup(record.regionCode)}-${escapeMarkup(record.periodLabel)}" class="${record.periodKind.toLowerCase()}"><th scope="row">${periodName(record)}</th>${TABLE_FIELDS.map((field) => figureCell(record, field)).join('')}${correction}</tr>`;
}

const yuan = (amount: PublicDisclosure['premiumIncome']) => Number(amount.toFixed(2));

/** Monthly premiums against claims, and the loss ratio, as inline SVG. */
function charts(region: string, year: number, months: readonly PublicDisclosure[]): string {
  if (months.length === 0) return '';
  const labels = months.map((m) => `${Number(m.periodLabel.slice(5, 7))}月`);
  // Charts are pictures of the figures: numbers here are for drawing only, the tables hold the exact text.
  const bar = svgChart(720, 320, {
    title: { text: `${year} 年各月保费收入与待遇支出（元）`, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 28, data: ['保费收入', '待遇支出（直接结算 + 手工报销）'] },
    grid: { top: 64, left: 90, right: 24, bottom: 32 },
    xAxis: { type: 'category', data: labels },
    yAxis: { type: 'value' },
    series: [
      { name: '保费收入', type: 'bar', data: months.map((m) => yuan(m.premiumIncome)) },
      {
        name: '待遇支出（直接结算 + 手工报销）',
        type: 'bar',
        data: months.map((m) => yuan(m.claimsPaidDirect.plus(m.claimsPaidManual))),
      },
    ],
  });
  const line = svgChart(720, 280, {
    title: { text: `${year} 年各月赔付率（%）`, left: 'center', textStyle: { fontSize: 14 } },
    grid: { top: 48, left: 70, right: 24, bottom: 32 },
    xAxis: { type: 'category', data: labels },
    yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    series: [
      {
        name: '赔付率',
        type: 'line',
        connectNulls: false,
        data: months.map((m) => (m.lossRatio === null ? null : Number(m.lossRatio.times(100).toFixed(2)))),
      },
    ],
  });
  return `<div class="charts" id="charts-${region}-${year}">
<figure>${bar}<figcaption>各月保费收入与待遇支出（预收的下一年度保费自该年度 1 月 1 日起计入）。</figcaption></figure>
<figure>${line}<figcaption>各月赔付率 = 待遇支出 ÷ 保费收入；当月无保费收入时不适用（图中断开）。</figcaption></figure>
</div>`;
}

function svgChart(width: number, height: number, option: Record<string, unknown>): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function regionSection(region: string, latest: readonly PublicDisclosure[]): string {
  const policy = loadRegions().get(region);
  const years = [...new Set(latest.map((r) => Number(r.periodLabel.slice(0, 4))))].sort((a, b) => b - a);
  const header = `<tr><th scope="col">期间</th>${TABLE_FIELDS.map((f) => `<th scope="col">${FIELD_LABELS_ZH[f]}</th>`).join('')}<th scope="col">公示序号 / 更正</th></tr>`;
  const yearBlocks = years.map((year) => {
    const ofYear = latest
      .filter((r) => Number(r.periodLabel.slice(0, 4)) === year)
      .sort((a, b) => {
        const pa = parsePeriod(a.periodLabel);
        const pb = parsePeriod(b.periodLabel);
        return pa && pb ? comparePeriods(pa, pb) : 0;
      });
    const months = ofYear.filter((r) => r.periodKind === 'MONTH');
    const illustrative = ofYear.some((r) => r.parametersIllustrative)
      ? '<p class="warn">本年度部分数字依据的政策参数为示例值（待医保部门提供），仅供参考。</p>'
      : '';
    return `<section class="year"><h3>${year} 年</h3>${illustrative}
<div class="table-wrap"><table><caption>${escapeMarkup(regionNameZh(region))} ${year} 年度、季度、月度公示数据（最新一次公示）</caption>
<thead>${header}</thead><tbody>${ofYear.map(periodRow).join('\n')}</tbody></table></div>
${charts(region, year, months)}</section>`;
  });
  const document = policy
    ? `<p class="doc">政策依据：${escapeMarkup(policy.document.title)}（${escapeMarkup(policy.document.number)}）</p>`
    : '';
  return `<section class="region" id="region-${escapeMarkup(region)}" lang="zh-CN">
<h2>${escapeMarkup(regionNameZh(region))}（${escapeMarkup(region)}）</h2>${document}
${yearBlocks.join('\n')}
</section>`;
}

const STYLE = `body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0 auto;max-width:1200px;padding:1rem;color:#222;line-height:1.6}
table{border-collapse:collapse;font-size:.85rem;white-space:nowrap}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th[scope=row],caption{text-align:left}caption{font-weight:bold;padding:.25rem 0}.table-wrap{overflow-x:auto}
tr.year{background:#eef4fb;font-weight:bold}tr.quarter{background:#f7f9fc}.note{color:#666;font-size:.8em}
.flag{font-size:.8em;padding:0 .25em;border-radius:3px}.ok{color:#0a6b2d}.over{color:#fff;background:#b3261e}.none{color:#666}
.warn{color:#8a5300}.meta{text-align:left;font-size:.8em;white-space:normal;min-width:14rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}`;

export function renderPage(disclosures: readonly PublicDisclosure[], options: PageOptions): string {
  const chains = chainsFrom(disclosures);
  const regions = [...(options.regions ?? [...chains.keys()])].sort();
  const sections = regions.map((region) => regionSection(region, chains.get(region)?.latestRecords() ?? []));
  const threshold = options.suppressionThreshold ?? disclosures.at(-1)?.suppressionThreshold ?? 10;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>职工大额医疗费用补助基金收支公示</title>
<link rel="alternate" type="application/atom+xml" title="公示订阅 (Atom)" href="disclosures.atom">
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>职工大额医疗费用补助基金收支公示</h1>
<p>依据《德宏州职工大额医疗费用补助实施办法》第二十四条“基金收支运行情况信息公开”等规定，公开基金收入、支出与运行情况。本页只公布汇总数据，不含任何个人或单个定点医药机构的信息。</p>
<p>下载：<a href="disclosures.json">JSON</a> · <a href="disclosures.csv">CSV</a> · <a href="disclosures.atom">Atom 订阅</a> · <a href="public-key.pem">公钥</a>　生成时间：${escapeMarkup(options.generatedAt.toISOString())}</p>
</header>
<main>
${sections.length === 0 ? '<p>尚无公示。</p>' : sections.join('\n')}
<section id="definitions">
<h2>口径说明</h2>
<ul>
<li>金额单位为元，保留两位小数；比率为小数，保留四位（四舍五入），括号内为百分比。</li>
<li>收入、支出按记账日期计入所属月份、季度和年度；提前征缴的下一年度保费为预收保费，自所属保险年度 1 月 1 日起计入：例如开封市在当年 7 月至 12 月征缴下一年度保费，计入下一年度。</li>
<li>直接结算待遇支出为按政策应付金额（扣除退费冲销）；手工报销待遇支出为实际支付给参保人的金额。医疗机构申报与政策应付之间的差额列入对账，不计入支出。</li>
<li>经办费用率 = 经办费用 ÷ 保费收入；利润率 = （保费收入 − 待遇支出 − 经办费用）÷ 保费收入；赔付率 = 待遇支出 ÷ 保费收入。保费收入为零或负数时不适用。德宏州上限：经办费用 9%、利润 1%（第二十一条）；开封市办法未规定数值上限（第十九条“收支平衡、保本微利”），显示为“政策未规定”。</li>
<li>结余：年度为历年累计结余（含以前年度结转）；季度、月度为本期收支结余。</li>
<li>参保人数为该期间所属保险年度已足额缴费、享受待遇的人数；受益人数为本期获得补助（净额大于零）的人数；受益人次为本期支付的就诊人次（扣除冲销）。</li>
<li>小组抑制：人数、人次、件数在 1 至 ${threshold - 1} 之间时不予公布（显示为空），由其推算的时限达标率同样不予公布。</li>
<li>参保人数与对账情况（未结对账项为待核对或存在差异的项目）是所属保险年度的数字：年度公示随其变化而更正；月度、季度公示取发布时的数字，仅在本期其他数字更正时随之更新。</li>
<li>已发布的公示永不修改：数据变化时发布新的更正公示，注明更正第几号公示及更正内容。</li>
</ul>
</section>
<section id="verification">
<h2>如何验证</h2>
<p>每条公示按统筹区组成哈希链：本条哈希为除哈希和签名外全部字段的规范 JSON 的 SHA-256，并包含上一条的哈希；发布方以 Ed25519 私钥对哈希签名。任何人都可以用下列公钥核验全部公示未被篡改、删除或改写。</p>
<p>签名密钥标识：<code>${escapeMarkup(options.signingKeyId)}</code></p>
<pre id="public-key">${escapeMarkup(options.publicKeyPem.trim())}</pre>
<pre>curl -o public-key.pem &lt;本站地址&gt;/public-key.pem
npx hub disclosure verify --url &lt;本站地址&gt;/disclosures.json --public-key public-key.pem</pre>
<p>验证通过时输出 “verified N disclosures”；否则逐条列出问题（哈希不符、签名无效、链接断开、序号缺失、更正编号错误）。</p>
</section>
</main>
</body>
</html>
`;
}
