import { HubError } from '../../../shared/errors.js';
import { chinaDateOf, chinaTimeOf } from '../../../shared/policy/dates.js';
import type { PolicyParams } from '../../../shared/policy/params.js';
import { loadRegions } from '../../../shared/policy/regions.js';
import type { PublicDisclosure } from '../../../shared/records.js';
import { chainsFrom } from '../chain.js';
import { paramsForPeriod } from '../figures.js';
import { parsePeriod } from '../periods.js';
import { yearCharts } from './charts.js';
import { disclosureBasis } from './citation.js';
import { changesList, periodDetail } from './detail.js';
import { yearHeadline } from './headline.js';
import { escapeMarkup, regionNameZh } from './labels.js';
import { asOfLabel, dateZh, monthDayZh, type Standing, standingOf } from './standing.js';
import { PAGE_STYLE } from './style.js';

/**
 * The public page (Chinese, lang="zh-CN", no script). Per region, its own legal basis for
 * publishing; per year, newest first, the headline a fund report gives (headline.ts), the months as
 * charts (charts.ts) and the months and quarters as detail (detail.ts). Every published figure sits
 * in an element `data-figure="<region>:<period>:<field>"` whose text is exactly the JSON feed's
 * value (empty for null); figures the page works out carry `data-derived` instead.
 */

export interface PageOptions {
  readonly publicKeyPem: string;
  readonly signingKeyId: string;
  readonly generatedAt: Date;
  /** Only these regions (default: every region with disclosures). */
  readonly regions?: readonly string[];
  readonly suppressionThreshold?: number;
}

const yearOf = (record: PublicDisclosure) => Number(record.periodLabel.slice(0, 4));

/** The region's parameters for a year; null for a region without a policy file. */
function paramsFor(region: string, year: number): PolicyParams | null {
  const period = parsePeriod(String(year));
  if (period === undefined || !loadRegions().has(region)) return null;
  try {
    return paramsForPeriod(region, period);
  } catch (error) {
    if (error instanceof HubError) return null;
    throw error;
  }
}

function yearHeading(year: number, standing: Standing | null): string {
  if (standing === null) return `${year} 年度`;
  if (standing.phase === 'final') return `${year} 年度 <span class="status final">年度已结束</span>`;
  const asOf = asOfLabel(standing);
  const what = standing.phase === 'not-started' ? '年度尚未开始，仅含预收保费' : '年度未结束';
  return `${year} 年度（${asOf}）<span class="status running">${what}</span>`;
}

/** "年度公示第 51 号，发布于 2026 年 5 月 10 日（第 4 次更正，更正第 48 号）。" */
function publicationSummary(record: PublicDisclosure): string {
  const correction =
    record.correction === 0
      ? ''
      : `（第 ${record.correction} 次更正，更正第 ${record.supersedesSequence} 号）`;
  return `年度公示第 ${record.sequence} 号，发布于 ${dateZh(chinaDateOf(record.publishedAt))}${correction}。`;
}

function yearSection(region: string, year: number, records: readonly PublicDisclosure[]): string {
  const yearRecord = records.find((r) => r.periodKind === 'YEAR');
  const standing = yearRecord ? standingOf(yearRecord) : null;
  const params = paramsFor(region, year);
  const id = `${escapeMarkup(region)}-${year}`;
  const illustrative = records.some((r) => r.parametersIllustrative)
    ? '<p class="warn">本年度部分数字依据的政策参数为示例值（待医疗保障部门提供），仅供参考。</p>'
    : '';
  const running =
    standing === null || standing.phase === 'final'
      ? ''
      : standing.phase === 'running'
        ? `<p class="running-note">年度尚未结束：以下为 1 月 1 日至 ${monthDayZh(standing.asOf)}的数字，全年数字在年度结束后公示。</p>`
        : `<p class="running-note">年度尚未开始：以下只有${asOfLabel(standing)}预收的本年度保费。</p>`;
  const headline = yearRecord
    ? `${yearHeadline({ record: yearRecord, standing: standing as Standing, params })}
<div class="publication note"><p>${publicationSummary(yearRecord)}</p>${changesList(yearRecord, `更正内容（${yearRecord.changes.length} 项）`)}</div>`
    : '<p class="note">本年度尚无年度公示。</p>';
  const months = records.filter((r) => r.periodKind === 'MONTH');
  return `<section class="year" id="y-${id}" aria-labelledby="h-${id}">
<h3 id="h-${id}">${yearHeading(year, standing)}</h3>${running}${illustrative}
${headline}
${yearCharts(region, year, months)}
${periodDetail(region, regionNameZh(region), year, records)}
</section>`;
}

function regionSection(region: string, latest: readonly PublicDisclosure[]): string {
  const policy = loadRegions().get(region);
  const years = [...new Set(latest.map(yearOf))].sort((a, b) => b - a);
  const newest = years[0] === undefined ? null : paramsFor(region, years[0]);
  const document = policy
    ? `<p class="doc">政策依据：《${escapeMarkup(policy.document.title)}》（${escapeMarkup(policy.document.number)}），自 ${dateZh(policy.document.effectiveFrom)}起施行。</p>`
    : '';
  const basis = newest ? disclosureBasis(newest).text : '未找到该统筹区的政策参数文件，公开依据不详。';
  return `<section class="region" id="region-${escapeMarkup(region)}" aria-labelledby="r-${escapeMarkup(region)}">
<h2 id="r-${escapeMarkup(region)}">${escapeMarkup(regionNameZh(region))}（${escapeMarkup(region)}）</h2>${document}
<p class="basis" data-disclosure-basis="${escapeMarkup(region)}">${escapeMarkup(basis)}</p>
${years
  .map((year) =>
    yearSection(
      region,
      year,
      latest.filter((r) => yearOf(r) === year),
    ),
  )
  .join('\n')}
</section>`;
}

function contents(
  regions: readonly string[],
  latest: ReadonlyMap<string, readonly PublicDisclosure[]>,
): string {
  const items = regions.map((region) => {
    const years = [...new Set((latest.get(region) ?? []).map(yearOf))].sort((a, b) => b - a);
    const links = years.map((y) => `<a href="#y-${escapeMarkup(region)}-${y}">${y} 年</a>`).join(' ');
    return `<li><a href="#region-${escapeMarkup(region)}">${escapeMarkup(regionNameZh(region))}</a>：${links}</li>`;
  });
  return `<nav class="toc" aria-label="目录"><ul>${items.join('')}<li><a href="#definitions">口径说明</a></li><li><a href="#verification">如何验证</a></li></ul></nav>`;
}

/** "2026-05-10 10:00（北京时间）". */
function beijingTime(instant: Date): string {
  return `${chinaDateOf(instant)} ${chinaTimeOf(instant)}（北京时间）`;
}

function definitions(threshold: number): string {
  return `<section id="definitions" aria-labelledby="definitions-h">
<h2 id="definitions-h">口径说明</h2>
<ul>
<li>金额单位为元，保留两位小数，旁注万元；比率为小数，保留四位（四舍五入），旁注百分比。</li>
<li>收入、支出按记账日期计入所属月份、季度和年度；提前征缴的下一年度保费为预收保费，自所属保险年度 1 月 1 日起计入。</li>
<li>直接结算待遇支出为按政策应付金额（扣除退费冲销）；手工报销待遇支出为实际支付给参保人的金额。医疗机构申报与政策应付之间的差额列入对账，不计入支出。</li>
<li>基金支出 = 直接结算待遇支出 + 手工报销待遇支出 + 经办费用；当期结余 = 基金收入 − 基金支出；累计结余为历年当期结余之和，上年结转 = 累计结余 − 当期结余。这三项由本页按公示数字计算，公示数据（JSON、CSV）中的“结余”字段，年度为累计结余，季度、月度为本期结余。</li>
<li>经办费用率 = 经办费用 ÷ 保费收入；利润率 = 当期结余 ÷ 保费收入；赔付率 = 待遇支出 ÷ 保费收入；保费收入为零或负数时不适用。这些比率是年度指标，只按年度列示；年度未结束时为年初至今的数字，不与上限比较。各统筹区的上限及其条款见该地区的年度运行指标；政策未规定上限的，写明“政策未规定上限”。</li>
<li>“✓ 未超过上限”“✗ 超过上限”只用于已结束年度、且政策规定了上限的指标；利润率为负（亏损）时标为“亏损”，不视为达标。</li>
<li>参保人数为该保险年度已足额缴费、享受待遇的人数；受益人数为本期获得补助（净额大于零）的人数；受益人次为本期支付的就诊人次（扣除冲销）。</li>
<li>小组抑制：人数、人次、件数在 1 至 ${threshold - 1} 之间时不予公布（显示为空），由其推算的时限达标率同样不予公布。</li>
<li>参保人数与对账情况是所属保险年度的数字，列在年度表中：年度公示随其变化而更正。</li>
<li>已发布的公示永不修改：数据变化时发布新的更正公示，注明更正第几号公示及更正内容。</li>
</ul>
</section>`;
}

function verification(options: PageOptions): string {
  return `<section id="verification" aria-labelledby="verification-h">
<h2 id="verification-h">如何验证</h2>
<p>每条公示按统筹区组成哈希链：本条哈希为除哈希和签名外全部字段的规范 JSON 的 SHA-256，并包含上一条的哈希；发布方以 Ed25519 私钥对哈希签名。任何人都可以用下列公钥核验全部公示未被篡改、删除或改写。</p>
<p>签名密钥标识：<code>${escapeMarkup(options.signingKeyId)}</code></p>
<pre id="public-key">${escapeMarkup(options.publicKeyPem.trim())}</pre>
<pre>curl -o public-key.pem &lt;本站地址&gt;/public-key.pem
npx hub disclosure verify --url &lt;本站地址&gt;/disclosures.json --public-key public-key.pem</pre>
<p>验证通过时输出 “verified N disclosures”；否则逐条列出问题（哈希不符、签名无效、链接断开、序号缺失、更正编号错误）。</p>
</section>`;
}

export function renderPage(disclosures: readonly PublicDisclosure[], options: PageOptions): string {
  const chains = chainsFrom(disclosures);
  const regions = [...(options.regions ?? [...chains.keys()])].sort();
  const latest = new Map(regions.map((region) => [region, chains.get(region)?.latestRecords() ?? []]));
  const sections = regions.map((region) => regionSection(region, latest.get(region) ?? []));
  const threshold = options.suppressionThreshold ?? disclosures.at(-1)?.suppressionThreshold ?? 10;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>职工大额医疗费用补助基金收支公示</title>
<link rel="alternate" type="application/atom+xml" title="公示订阅 (Atom)" href="disclosures.atom">
<style>${PAGE_STYLE}</style>
</head>
<body>
<div class="page">
<header>
<h1>职工大额医疗费用补助基金收支公示</h1>
<p class="intro">按统筹区、按年度公开基金的收入、支出、结余和运行指标；各统筹区的公开依据见该地区标题下。本页只公布汇总数据，不含任何个人或单个定点医药机构的信息。</p>
<p class="downloads">下载：<a href="disclosures.json">JSON</a> · <a href="disclosures.csv">CSV</a> · <a href="disclosures.atom">Atom 订阅</a> · <a href="public-key.pem">公钥</a>　生成时间：${beijingTime(options.generatedAt)}</p>
${sections.length === 0 ? '' : contents(regions, latest)}
</header>
<main>
${sections.length === 0 ? '<p>尚无公示。</p>' : sections.join('\n')}
${definitions(threshold)}
${verification(options)}
</main>
</div>
</body>
</html>
`;
}
