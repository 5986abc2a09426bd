import { describe, expect, it } from 'vitest';
import { EMPTY_AGGREGATE } from '../../../services/disclosure/aggregate.js';
import {
  FIGURE_FIELDS,
  nextDisclosure,
  RegionChain,
  signingKeyFrom,
  TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM,
  toDisclosureJson,
  verifyChain,
} from '../../../services/disclosure/chain.js';
import { computeFigures, paramsForPeriod } from '../../../services/disclosure/figures.js';
import { type Period, parsePeriod } from '../../../services/disclosure/periods.js';
import { renderAtom } from '../../../services/disclosure/render/atom.js';
import { csvHeader, renderCsv } from '../../../services/disclosure/render/csv.js';
import { jsonFeed, parseJsonFeed, renderJson } from '../../../services/disclosure/render/json.js';
import { renderPage } from '../../../services/disclosure/render/page.js';
import { Decimal, ZERO } from '../../../shared/money.js';
import type { PublicDisclosure } from '../../../shared/records.js';

const key = signingKeyFrom(TEST_ONLY_DISCLOSURE_SIGNING_KEY_PEM);
const now = new Date('2026-02-01T08:00:00.000Z');

function publish(
  chain: RegionChain,
  label: string,
  premiums: string,
  claims: string,
  beneficiaries = 25,
): PublicDisclosure | null {
  const period = parsePeriod(label) as Period;
  const figures = computeFigures({
    region: chain.region,
    period,
    aggregate: {
      ...EMPTY_AGGREGATE,
      premiumIncome: new Decimal(premiums),
      claimsPaidDirect: new Decimal(claims),
      claimsPaidManual: new Decimal('100.00'),
      operatingCost: new Decimal(premiums).times('0.1').toDecimalPlaces(2),
      visits: 30,
      manualClaimsDecided: 12,
      manualClaimsWithinSla: 11,
    },
    surplusBroughtForward: ZERO,
    insuredPersons: 5000,
    beneficiaries,
    reconciliation: { openItems: 2, discrepancies: 1, openAmount: new Decimal('12.34') },
    params: paramsForPeriod(chain.region, period),
    threshold: 10,
  });
  const record = nextDisclosure(chain, figures, new Date(now.getTime() + chain.lastSequence * 1000), key);
  if (record) chain.append(record);
  return record;
}

/** Two regions: Dehong with months, a quarter, the year and a correction; Kaifeng with one small month. */
function sample(): PublicDisclosure[] {
  const dehong = new RegionChain('533100');
  publish(dehong, '2025-01', '300000.00', '150000.00');
  publish(dehong, '2025-02', '200000.00', '180000.00');
  publish(dehong, '2025-03', '0.00', '90000.00');
  publish(dehong, '2025-Q1', '500000.00', '420000.00');
  publish(dehong, '2025', '500000.00', '420000.00');
  publish(dehong, '2025-02', '210000.00', '180000.00'); // a late premium: correction 1 of #2
  const kaifeng = new RegionChain('410200');
  publish(kaifeng, '2025-01', '1000.00', '500.00', 3);
  return [...dehong.records, ...kaifeng.records];
}

const pageOf = (records: readonly PublicDisclosure[]) =>
  renderPage(records, { publicKeyPem: key.publicKeyPem, signingKeyId: key.keyId, generatedAt: now });

/** Every data-figure element of a page: id → its text and whether it is marked null. */
function figuresOnPage(html: string): Map<string, { text: string; isNull: boolean }> {
  const onPage = new Map<string, { text: string; isNull: boolean }>();
  for (const [, id, isNull, text] of html.matchAll(
    /<span data-figure="([^"]+)"( data-null="true")?>([^<]*)<\/span>/g,
  )) {
    expect(onPage.has(id as string), `${id} appears once`).toBe(false);
    onPage.set(id as string, { text: text as string, isNull: isNull !== undefined });
  }
  return onPage;
}

/** The markup of the section with this id, up to the next section at its level. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section class="year" id="${id}"`);
  expect(start, id).toBeGreaterThanOrEqual(0);
  const end = html.indexOf('<section class="year"', start + 1);
  return html.slice(start, end < 0 ? html.indexOf('</main>') : end);
}

describe('disclosure renderers', () => {
  it('JSON: the feed carries every record in the text form the hash covers, and round-trips', () => {
    const records = sample();
    const feed = jsonFeed(records, key, now);
    expect(feed.disclosures).toHaveLength(7);
    expect(feed.signingKeyId).toBe(key.keyId);
    expect(feed.disclosures[0]).toMatchObject({ premiumIncome: '300000.00', lossRatio: '0.5003' }); // (150 000 + 100) / 300 000
    const parsed = parseJsonFeed(renderJson(records, key, now));
    expect(parsed.publicKeyPem).toBe(key.publicKeyPem);
    expect(verifyChain(parsed.disclosures, key.publicKey)).toEqual([]);
    expect(parseJsonFeed(JSON.stringify(feed.disclosures)).disclosures).toHaveLength(7);
    expect(() => parseJsonFeed('{"nope":1}')).toThrow(/not a disclosure feed/);
  });

  it('CSV: a byte-order mark, one header row in English and Chinese, then one row per disclosure', () => {
    const records = sample();
    const csv = renderCsv(records);
    // A UTF-8 byte-order mark first, so Excel on Chinese Windows does not read the file as GBK.
    expect(csv.charCodeAt(0)).toBe(0xfeff);
    expect(Buffer.from(csv, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = csv.slice(1).split('\r\n');
    expect(lines).toHaveLength(records.length + 2); // header, rows, final empty
    expect(lines[0]?.startsWith('regionCode 统筹区代码,periodKind 期间类别,periodLabel 期间,')).toBe(true);
    expect(lines[0]).toContain('premiumIncome 保费收入（元）');
    expect(lines[0]).toContain('lossRatio 赔付率');
    const header = csvHeader();
    const row = (lines[1] ?? '').split(',');
    const column = (field: string) => row[header.findIndex((h) => h.startsWith(`${field} `))];
    expect(column('regionCode')).toBe('533100');
    expect(column('periodLabel')).toBe('2025-01');
    expect(column('premiumIncome')).toBe('300000.00');
    expect(column('lossRatio')).toBe('0.5003');
    expect(column('supersedesSequence')).toBe('');
    expect(column('hash')).toBe(records[0]?.hash);
    const correction = lines[6] ?? '';
    expect(correction).toContain(
      ',6,1,2,premiumIncome: 200000.00 → 210000.00; operatingCost: 20000.00 → 21000.00; ',
    );
    const kaifeng = (lines[7] ?? '').split(',');
    expect(kaifeng[header.findIndex((h) => h.startsWith('beneficiaries '))]).toBe('');
    expect(kaifeng[header.findIndex((h) => h.startsWith('operatingCostCeiling '))]).toBe('');
  });

  it('Atom: a well-formed 1.0 feed with one entry per disclosure; corrections say so', () => {
    const records = sample();
    const atom = renderAtom(records, { baseUrl: 'http://feed.example/', generatedAt: now });
    expect(
      atom.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'),
    ).toBe(true);
    // Well-formed: every element closes in order, no stray '<' or '&' in text.
    const stack: string[] = [];
    for (const [, closing, name, selfClosing] of atom.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
      if (selfClosing) continue;
      if (closing) expect(stack.pop()).toBe(name);
      else stack.push(name as string);
    }
    expect(stack).toEqual([]);
    expect(atom.replace(/<[^>]*>/g, '')).not.toMatch(/<|&(?!amp;|lt;|gt;|quot;|#39;)/);
    const entries = [...atom.matchAll(/<entry>([\s\S]*?)<\/entry>/g)].map((m) => m[1] as string);
    expect(entries).toHaveLength(records.length);
    for (const entry of entries) {
      expect(entry).toMatch(/<id>urn:medfund-hub:disclosure:\d{6}:\d+<\/id>/);
      expect(entry).toMatch(/<title>[^<]+<\/title>/);
      expect(entry).toMatch(/<updated>\d{4}-\d{2}-\d{2}T[\d:.]+Z<\/updated>/);
    }
    for (const required of ['<id>', '<title>', '<updated>', '<author><name>'])
      expect(atom.split('<entry>')[0]).toContain(required);
    const correction = entries.find((e) => e.includes(':533100:6</id>')) ?? '';
    expect(correction).toContain('第 1 次更正，更正第 2 号公示');
    expect(correction).toContain('term="correction"');
    expect(correction).toContain('premiumIncome: 200000.00 → 210000.00');
  });

  it('page: Chinese, charts as inline SVG, every figure shown equal to the JSON feed’s latest value', () => {
    const records = sample();
    const html = pageOf(records);
    expect(html).toMatch(/^<!doctype html>\n<html lang="zh-CN">/);
    expect(html).not.toContain('<script');
    // Dehong's three months: two charts, each drawn for a phone and a wider screen. Kaifeng's single
    // month gets no chart, only a note.
    expect(html.match(/<svg/g)?.length).toBe(4);
    expect(html).toContain('本年度已公示的月份不足两个，暂不绘制图表');
    expect(html).toContain('德宏傣族景颇族自治州');
    expect(html).toContain('npx hub disclosure verify');
    expect(html).toContain(key.publicKeyPem.trim().split('\n')[1]);

    const onPage = figuresOnPage(html);
    const latest = new Map<string, PublicDisclosure>();
    for (const record of records) latest.set(`${record.regionCode}:${record.periodLabel}`, record);
    for (const [id, shown] of onPage) {
      const [region, period, field] = id.split(':');
      const record = latest.get(`${region}:${period}`);
      expect(record, id).toBeDefined();
      const value = (toDisclosureJson(record as PublicDisclosure) as unknown as Record<string, unknown>)[
        field as string
      ];
      expect(shown.text, id).toBe(value === null ? '' : String(value));
      expect(shown.isNull, id).toBe(value === null);
    }
    // The year shows every figure but the threshold (stated in the definitions); months and quarters
    // their amounts and counts only.
    const fieldsOf = (period: string) =>
      [...onPage.keys()].filter((id) => id.startsWith(`${period}:`)).map((id) => id.split(':')[2]);
    expect(new Set(fieldsOf('533100:2025'))).toEqual(
      new Set(FIGURE_FIELDS.filter((f) => f !== 'parametersIllustrative' && f !== 'suppressionThreshold')),
    );
    for (const period of ['533100:2025-01', '533100:2025-02', '533100:2025-Q1', '410200:2025-01']) {
      expect(fieldsOf(period), period).toEqual([
        'premiumIncome',
        'claimsPaidDirect',
        'claimsPaidManual',
        'operatingCost',
        'surplusCarriedForward',
        'beneficiaries',
        'visits',
        'manualClaimsDecided',
        'manualClaimsWithinSla',
      ]);
    }
    // The superseded figure is gone from the page; the correction's is shown, with what it changed.
    expect(onPage.get('533100:2025-02:premiumIncome')?.text).toBe('210000.00');
    expect(html).toContain('保费收入（元）：200000.00 → 210000.00');
    expect(onPage.get('410200:2025-01:beneficiaries')).toEqual({ text: '', isNull: true });
    expect(html).toContain('不予公布');
  });

  it('page: the headline of a finished year, laid out as a fund report, with its ratios judged', () => {
    const records = sample();
    const html = pageOf(records);
    const year = section(html, 'y-533100-2025');
    // Published 2025-01-01 (China) and later: the sample's year is over on publication, so it is final.
    expect(year).toContain('2025 年度 <span class="status final">年度已结束</span>');
    // Spending 420 000 + 100 + 50 000 = 470 100; income 500 000; balance 29 900 (hand sums).
    expect(year).toContain('<span data-derived="533100:2025:totalSpending">470100.00</span>');
    expect(year).toContain('<span data-derived="533100:2025:periodSurplus">29900.00</span>');
    expect(year).toContain('<span data-derived="533100:2025:surplusBroughtForward">0.00</span>');
    expect(year).toContain('47.01 万元'); // 470 100 / 10 000
    // 50 000 / 500 000 = 10 % over the 9 % of Dehong art. 21; profit 29 900 / 500 000 = 5.98 % over 1 %.
    expect(year).toContain('<span class="pct">10.00%</span>');
    expect(year).toContain('<span class="pct">5.98%</span>');
    expect(year.match(/flag over/g)?.length).toBe(2);
    expect(year).toContain('第二十一条');
    expect(year).not.toContain('flag ok');
  });

  it('page: an empty chain still renders the page and the verification section', () => {
    const html = pageOf([]);
    expect(html).toContain('尚无公示');
    expect(html).toContain('id="verification"');
  });
});
