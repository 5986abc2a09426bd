import type { PublicDisclosure } from '../../../shared/records.js';
import type { FigureField } from '../chain.js';
import { figureSpan } from './figure.js';
import { escapeMarkup, FIELD_LABELS_ZH } from './labels.js';
import { monthDayZh, standingOf } from './standing.js';

/**
 * The months and quarters of a year, below its headline: amounts and counts only. Ratios are annual
 * (see standing.ts), and the insured count and reconciliation are the year's, shown once above.
 */

const DETAIL_FIELDS: readonly FigureField[] = [
  'premiumIncome',
  'claimsPaidDirect',
  'claimsPaidManual',
  'operatingCost',
  'surplusCarriedForward',
  'beneficiaries',
  'visits',
  'manualClaimsDecided',
  'manualClaimsWithinSla',
];

/** A month's or quarter's surplusCarriedForward is its own surplus (README "Figures"). */
const columnLabel = (field: FigureField) =>
  field === 'surplusCarriedForward' ? '当期结余（元）' : FIELD_LABELS_ZH[field];

const QUARTER_ZH = ['一', '二', '三', '四'];

function rowName(record: PublicDisclosure): string {
  const month = Number(record.periodLabel.slice(5, 7));
  const name =
    record.periodKind === 'QUARTER'
      ? `第${QUARTER_ZH[Number(record.periodLabel.slice(-1)) - 1]}季度`
      : `${month} 月`;
  const standing = standingOf(record);
  // A period still open says how far its figures run; "截至 5 月 10 日" within its own year.
  return standing.phase === 'final'
    ? name
    : `${name}<span class="asof">（截至 ${monthDayZh(standing.asOf)}）</span>`;
}

/** "手工报销待遇支出（元）：1.00 → 2.00" for the page's readers. */
function changeInChinese(change: string): string {
  const colon = change.indexOf(': ');
  const label =
    colon > 0 ? FIELD_LABELS_ZH[change.slice(0, colon) as keyof typeof FIELD_LABELS_ZH] : undefined;
  return label === undefined ? change : `${label}：${change.slice(colon + 2)}`;
}

/** What a correction changed, folded (a native details element, no script). */
export function changesList(record: PublicDisclosure, summary: string): string {
  if (record.correction === 0) return '';
  const items = record.changes.map((change) => `<li>${escapeMarkup(changeInChinese(change))}</li>`).join('');
  return `<details class="changes"><summary>${summary}</summary><p>更正第 ${record.supersedesSequence} 号公示：</p><ul>${items}</ul></details>`;
}

const publicationCell = (record: PublicDisclosure) =>
  `第 ${record.sequence} 号${changesList(record, `第 ${record.correction} 次更正`)}`;

function row(record: PublicDisclosure): string {
  const id = `p-${escapeMarkup(record.regionCode)}-${escapeMarkup(record.periodLabel)}`;
  const cells = DETAIL_FIELDS.map((field) => `<td>${figureSpan(record, field, true)}</td>`).join('');
  return `<tr id="${id}" class="${record.periodKind.toLowerCase()}"><th scope="row">${rowName(record)}</th>${cells}<td class="meta">${publicationCell(record)}</td></tr>`;
}

/** Each quarter's months, then the quarter itself as a subtotal row. */
function ordered(periods: readonly PublicDisclosure[]): PublicDisclosure[] {
  const quarterOf = (r: PublicDisclosure) =>
    r.periodKind === 'QUARTER'
      ? Number(r.periodLabel.slice(-1))
      : Math.ceil(Number(r.periodLabel.slice(5, 7)) / 3);
  const rank = (r: PublicDisclosure) =>
    quarterOf(r) * 100 + (r.periodKind === 'QUARTER' ? 99 : Number(r.periodLabel.slice(5, 7)));
  return [...periods].sort((a, b) => rank(a) - rank(b));
}

export function periodDetail(
  region: string,
  regionName: string,
  year: number,
  periods: readonly PublicDisclosure[],
): string {
  const rows = ordered(periods.filter((r) => r.periodKind !== 'YEAR'));
  if (rows.length === 0) return '';
  const threshold = rows[0]?.suppressionThreshold;
  const header = `<tr><th scope="col">期间</th>${DETAIL_FIELDS.map((f) => `<th scope="col">${columnLabel(f)}</th>`).join('')}<th scope="col">公示序号 / 更正</th></tr>`;
  const caption = `${escapeMarkup(regionName)} ${year} 年季度、月度明细（每期最新一次公示）`;
  return `<section class="detail" aria-labelledby="d-${escapeMarkup(region)}-${year}">
<h4 id="d-${escapeMarkup(region)}-${year}">季度、月度明细</h4>
<p class="note">季度和月度只列金额与人数、人次、件数；经办费用率、利润率和赔付率只按年度计算，见上表。“不予公布”：人数、人次或件数不足 ${threshold}。表格较宽时可左右滑动。</p>
<div class="table-wrap" role="region" aria-label="${caption}" tabindex="0"><table class="periods"><caption>${caption}</caption>
<thead>${header}</thead><tbody>${rows.map(row).join('\n')}</tbody></table></div>
</section>`;
}
