import type { PublicDisclosure } from '../../../shared/records.js';
import { toDisclosureJson } from '../chain.js';
import { escapeMarkup, PERIOD_KIND_ZH, regionNameZh } from './labels.js';

/**
 * Atom 1.0 (RFC 4287): one entry per disclosure, newest first. A correction says so in its title and
 * lists what changed; every entry names its sequence and hash so a reader can find it in the JSON feed.
 */
export interface AtomOptions {
  /** Absolute base URL of the feed's server, e.g. "https://disclosure.example.cn"; used for links. */
  readonly baseUrl: string;
  readonly generatedAt: Date;
}

export function entryTitle(record: PublicDisclosure): string {
  const base = `${regionNameZh(record.regionCode)} ${record.periodLabel} ${PERIOD_KIND_ZH[record.periodKind]}基金收支公示`;
  return record.correction === 0
    ? base
    : `${base}（第 ${record.correction} 次更正，更正第 ${record.supersedesSequence} 号公示）`;
}

function entrySummary(record: PublicDisclosure): string {
  const json = toDisclosureJson(record);
  const show = (value: string | number | null) => (value === null ? '不予公布/不适用' : String(value));
  const lines = [
    `保费收入 ${json.premiumIncome} 元；直接结算待遇支出 ${json.claimsPaidDirect} 元；手工报销待遇支出 ${json.claimsPaidManual} 元；经办费用 ${json.operatingCost} 元。`,
    `参保人数 ${show(json.insuredPersons)}；受益人数 ${show(json.beneficiaries)}；受益人次 ${show(json.visits)}。`,
    `赔付率 ${show(json.lossRatio)}；经办费用率 ${show(json.operatingCostRatio)}（上限 ${show(json.operatingCostCeiling)}）；利润率 ${show(json.profitRate)}（上限 ${show(json.profitRateCeiling)}）。`,
    `序号 ${json.sequence}，哈希 ${json.hash}。`,
  ];
  if (record.correction > 0) lines.push(`更正内容 (corrections): ${record.changes.join('; ')}`);
  return lines.join('\n');
}

export function renderAtom(disclosures: readonly PublicDisclosure[], options: AtomOptions): string {
  const base = options.baseUrl.replace(/\/$/, '');
  const newestFirst = [...disclosures].sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime());
  const updated = (newestFirst[0]?.publishedAt ?? options.generatedAt).toISOString();
  const entries = newestFirst.map((record) => {
    const id = `urn:medfund-hub:disclosure:${record.regionCode}:${record.sequence}`;
    const category = record.correction === 0 ? 'publication' : 'correction';
    return [
      '  <entry>',
      `    <id>${escapeMarkup(id)}</id>`,
      `    <title>${escapeMarkup(entryTitle(record))}</title>`,
      `    <updated>${record.publishedAt.toISOString()}</updated>`,
      `    <published>${record.publishedAt.toISOString()}</published>`,
      `    <link rel="alternate" type="text/html" href="${escapeMarkup(`${base}/#p-${record.regionCode}-${record.periodLabel}`)}"/>`,
      `    <category term="${category}" label="${record.correction === 0 ? '发布' : '更正'}"/>`,
      `    <category term="${record.periodKind}"/>`,
      `    <summary type="text">${escapeMarkup(entrySummary(record))}</summary>`,
      '  </entry>',
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">',
    '  <id>urn:medfund-hub:disclosures</id>',
    '  <title>职工大额医疗费用补助基金收支公示</title>',
    '  <subtitle>Public disclosures of the supplementary major-medical-expense fund: signed and hash-chained</subtitle>',
    `  <updated>${updated}</updated>`,
    '  <author><name>职工大额医疗费用补助基金 disclosure publisher (medfund-hub)</name></author>',
    `  <link rel="self" type="application/atom+xml" href="${escapeMarkup(`${base}/disclosures.atom`)}"/>`,
    `  <link rel="alternate" type="text/html" href="${escapeMarkup(`${base}/`)}"/>`,
    `  <link rel="related" type="application/json" href="${escapeMarkup(`${base}/disclosures.json`)}"/>`,
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}
