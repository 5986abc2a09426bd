import * as echarts from 'echarts';
import { type Decimal, sumMoney, ZERO } from '../../../shared/money.js';
import type { PublicDisclosure } from '../../../shared/records.js';
import { escapeMarkup } from './labels.js';

/**
 * A year's months as two pictures, drawn on the server by echarts as inline SVG (no script on the
 * page): each month's premiums against its benefits, and income against spending added up from
 * January. Amounts only: a month's ratio means nothing. Each SVG scales to its box (viewBox); it is
 * drawn at a phone's and at a wider size so its text stays legible, and the title is the HTML
 * caption, so the legend never meets it.
 */

/** Drawn twice, for a phone and for a wider screen; CSS shows one (no script needed). */
const SIZES = {
  narrow: { width: 360, height: 260, fontSize: 12 },
  wide: { width: 560, height: 300, fontSize: 13 },
} as const;
type Size = keyof typeof SIZES;
const FONT = '"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif';

/** 万元 with two decimals, for drawing only: the tables hold the exact figures. */
const wan = (amount: Decimal) => Number(amount.dividedBy(10_000).toFixed(2));

const benefitsOf = (m: PublicDisclosure) => m.claimsPaidDirect.plus(m.claimsPaidManual);

function svgChart(size: Size, label: string, option: Record<string, unknown>): string {
  const { width, height, fontSize } = SIZES[size];
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: FONT, fontSize },
      legend: { top: 4, left: 'center', selectedMode: false, itemGap: 16 },
      grid: { top: 44, left: 8, right: 12, bottom: 8, containLabel: true },
      ...option,
    });
    // A static picture: an accessible name, no hover styles.
    const svg = chart
      .renderToSVGString()
      .replace(/^<svg /, `<svg role="img" aria-label="${escapeMarkup(label)}" focusable="false" `);
    return `<div class="chart-${size}">${svg}</div>`;
  } finally {
    chart.dispose();
  }
}

/** Month 1 … the last month published; a month with no record had no postings. */
function monthsThrough(months: readonly PublicDisclosure[]): Array<PublicDisclosure | undefined> {
  const byMonth = new Map(months.map((m) => [Number(m.periodLabel.slice(5, 7)), m]));
  const last = Math.max(...byMonth.keys());
  return Array.from({ length: last }, (_, i) => byMonth.get(i + 1));
}

function running(values: readonly Decimal[]): Decimal[] {
  return values.map((_, i) => sumMoney(values.slice(0, i + 1)));
}

export function yearCharts(region: string, year: number, months: readonly PublicDisclosure[]): string {
  if (months.length < 2) {
    return '<p class="note">本年度已公示的月份不足两个，暂不绘制图表。</p>';
  }
  const slots = monthsThrough(months);
  const labels = slots.map((_, i) => `${i + 1}月`);
  const premiums = slots.map((m) => m?.premiumIncome ?? ZERO);
  const benefits = slots.map((m) => (m ? benefitsOf(m) : ZERO));
  const spending = slots.map((m) => (m ? benefitsOf(m).plus(m.operatingCost) : ZERO));
  const axis = {
    xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, fontSize: 11 } },
    yAxis: { type: 'value' },
  };
  const series = (name: string, type: string, values: readonly Decimal[]) => ({
    name,
    type,
    silent: true,
    data: values.map(wan),
  });
  const monthly = (size: Size) =>
    svgChart(size, `${year} 年各月保费收入与待遇支出（万元）`, {
      ...axis,
      series: [series('保费收入', 'bar', premiums), series('待遇支出', 'bar', benefits)],
    });
  const cumulative = (size: Size) =>
    svgChart(size, `${year} 年自 1 月起累计的收入与支出（万元）`, {
      ...axis,
      series: [
        series('累计保费收入', 'line', running(premiums)),
        series('累计支出（含经办费用）', 'line', running(spending)),
      ],
    });
  const id = `${escapeMarkup(region)}-${year}`;
  return `<div class="charts" id="charts-${id}">
<figure class="chart"><figcaption><strong>各月保费收入与待遇支出（万元）</strong>待遇支出 = 直接结算 + 手工报销。保费多在年初征缴（预收的下一年度保费自 1 月 1 日起计入），所以各月收支不宜逐月对比。</figcaption>${monthly('narrow')}${monthly('wide')}</figure>
<figure class="chart"><figcaption><strong>自 1 月起累计的收入与支出（万元）</strong>支出含待遇支出和经办费用；两线之差即年初至今的结余。</figcaption>${cumulative('narrow')}${cumulative('wide')}</figure>
</div>`;
}
