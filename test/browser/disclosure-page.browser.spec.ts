/// <reference lib="dom" />
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DisclosureJson, RATIO_FIELDS } from '../../services/disclosure/chain.js';
import { parseJsonFeed } from '../../services/disclosure/render/json.js';
import { createDisclosureServer, listen } from '../../services/disclosure/server.js';
import { Decimal } from '../../shared/money.js';
import { KEY, LAST_ROUND, sampleDisclosures, THRESHOLD } from '../fixtures/disclosures.js';

// The public page as a citizen sees it, in Debian's Chromium at a phone's and a desktop's width,
// served by the real disclosure server from disclosures built in test/fixtures (no Kafka).
// Screenshots go to HUB_PAGE_SCREENSHOTS (CI sets and prints it) or a fresh temporary folder.

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WIDTHS = [390, 1280] as const;
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DEHONG = '533100';
const KAIFENG = '410200';

const missing = !existsSync(EXECUTABLE);
if (missing) {
  // CI installs chromium (.ci/run), so there a missing browser is a failure, not a skip.
  const why = `[page] no Chromium at ${EXECUTABLE}: install it with 'apt-get install -y chromium' (and fonts-noto-cjk for readable screenshots)`;
  if (process.env.CI) throw new Error(why);
  process.stderr.write(`${why}; skipping the browser test of the disclosure page\n`);
}

describe.skipIf(missing)('the disclosure page in Chromium', () => {
  let server: Server;
  let base: string;
  let feed: DisclosureJson[];
  let profile: string;
  let browser: BrowserContext;
  const shots = process.env.HUB_PAGE_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'medfund-hub-page-'));

  beforeAll(async () => {
    const records = sampleDisclosures();
    server = createDisclosureServer({
      source: { disclosures: () => records, isReady: () => true },
      key: { publicKeyPem: KEY.publicKeyPem, keyId: KEY.keyId },
      threshold: THRESHOLD,
      clock: () => new Date(LAST_ROUND.getTime() + 60 * 60 * 1000),
    });
    base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
    feed = parseJsonFeed(await (await fetch(`${base}/disclosures.json`)).text()).disclosures;
    mkdirSync(shots, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'medfund-hub-chromium-'));
    // A fresh profile each run; no script runs on the page, so none is allowed to.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: EXECUTABLE,
      args: CHROMIUM_FLAGS,
      javaScriptEnabled: false,
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await new Promise((resolve) => server?.close(resolve));
    process.stdout.write(`[page] screenshots of the disclosure page: ${shots}\n`);
  });

  /** The latest JSON record of each period, as the page must show it. */
  const latest = () => {
    const map = new Map<string, Record<string, unknown>>();
    for (const record of feed) map.set(`${record.regionCode}:${record.periodLabel}`, { ...record });
    return map;
  };

  async function open(width: number): Promise<Page> {
    const page = await browser.newPage();
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${base}/`);
    return page;
  }

  /** [data-figure or data-derived, text, data-null] of every figure inside `selector`. */
  const figuresIn = (page: Page, selector: string, attribute = 'data-figure') =>
    page.$$eval(
      `${selector} [${attribute}]`,
      (nodes, name) =>
        nodes.map(
          (n) => [n.getAttribute(name) ?? '', n.textContent ?? '', n.getAttribute('data-null')] as const,
        ),
      attribute,
    );

  it('hand-worked headline: Dehong 2025 and the running years, as the JSON feed publishes them', () => {
    const records = latest();
    // Σ of the twelve months in test/fixtures/disclosures.ts; profit = (income − spending) ÷ income.
    expect(records.get(`${DEHONG}:2025`)).toMatchObject({
      premiumIncome: '9421200.00',
      claimsPaidDirect: '8040882.89',
      claimsPaidManual: '425678.96',
      operatingCost: '623846.96',
      surplusCarriedForward: '330791.19',
      operatingCostRatio: '0.0662',
      profitRate: '0.0351',
      lossRatio: '0.8987',
      insuredPersons: 52_340,
      visits: 1076,
      correction: expect.any(Number),
    });
    expect(records.get(`${KAIFENG}:2025`)).toMatchObject({
      premiumIncome: '9750000.00',
      surplusCarriedForward: '-441178.60',
      profitRate: '-0.0452',
      operatingCostCeiling: null,
      profitRateCeiling: null,
    });
    // 2026 carries 2025's surplus: 6 418 916.09 + 330 791.19.
    expect(records.get(`${DEHONG}:2026`)).toMatchObject({ surplusCarriedForward: '6749707.28' });
  });

  for (const width of WIDTHS) {
    describe(`at ${width} px`, () => {
      let page: Page;
      beforeAll(async () => {
        page = await open(width);
        await page.screenshot({ path: join(shots, `disclosure-${width}-top.png`) });
        await page.screenshot({ path: join(shots, `disclosure-${width}-full.png`), fullPage: true });
      });
      afterAll(async () => page?.close());

      it('the page never scrolls sideways; wide tables scroll inside their own box', async () => {
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
        }));
        expect(innerWidth).toBe(width);
        expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
        const boxes = await page.$$eval('.table-wrap', (nodes) =>
          nodes.map((n) => ({
            right: n.getBoundingClientRect().right,
            overflow: getComputedStyle(n).overflowX,
          })),
        );
        expect(boxes.length).toBeGreaterThan(0);
        for (const box of boxes) {
          expect(box.right).toBeLessThanOrEqual(width);
          expect(box.overflow).toBe('auto');
        }
      });

      it('every chart is drawn inside the viewport', async () => {
        const all = await page.$$eval('figure.chart svg', (nodes) =>
          nodes.map((n) => {
            const r = n.getBoundingClientRect();
            return { left: r.left, right: r.right, width: r.width };
          }),
        );
        // Each chart is drawn at a phone's and a wider size; the stylesheet shows one of them.
        expect(all.length).toBe(16);
        const charts = all.filter((chart) => chart.width > 0);
        expect(charts.length).toBe(8); // two per region and year
        for (const chart of charts) {
          expect(chart.width).toBeGreaterThan(200);
          expect(chart.left).toBeGreaterThanOrEqual(0);
          expect(chart.right).toBeLessThanOrEqual(width);
        }
      });

      it('the headline figures are the JSON feed’s, and the derived ones add up from them', async () => {
        const records = latest();
        for (const region of [KAIFENG, DEHONG]) {
          for (const year of [2025, 2026]) {
            const block = `#y-${region}-${year} .headline`;
            const json = records.get(`${region}:${year}`) as Record<string, string | number | null>;
            const shown = await figuresIn(page, block);
            expect(shown.length, block).toBe(19);
            for (const [id, text, isNull] of shown) {
              expect(id.startsWith(`${region}:${year}:`), id).toBe(true);
              const value = json[id.split(':')[2] as string];
              if (value === null) expect(isNull, id).toBe('true');
              else expect(text, id).toBe(String(value));
            }
            const derived = new Map(
              (await figuresIn(page, block, 'data-derived')).map(([id, text]) => [id.split(':')[2], text]),
            );
            const amount = (field: string) => new Decimal(json[field] as string);
            const spending = amount('claimsPaidDirect')
              .plus(amount('claimsPaidManual'))
              .plus(amount('operatingCost'));
            expect(derived.get('totalSpending')).toBe(spending.toFixed(2));
            expect(derived.get('periodSurplus')).toBe(amount('premiumIncome').minus(spending).toFixed(2));
          }
        }
        // Hand-worked: Dehong 2025 spent 8 040 882.89 + 425 678.96 + 623 846.96.
        expect(await page.textContent(`[data-derived="${DEHONG}:2025:totalSpending"]`)).toBe('9090408.81');
        expect(await page.textContent(`[data-derived="${DEHONG}:2026:surplusBroughtForward"]`)).toBe(
          '330791.19',
        );
      });

      it('months and quarters show amounts and counts, never a ratio', async () => {
        const rows = await page.$$eval('tr.month, tr.quarter', (nodes) =>
          nodes.map((n) => ({
            text: n.textContent ?? '',
            fields: Array.from(n.querySelectorAll('[data-figure]')).map(
              (f) => f.getAttribute('data-figure') ?? '',
            ),
          })),
        );
        // 12 + 4 per finished year, 5 + 2 per running year, two regions.
        expect(rows.length).toBe(2 * (16 + 7));
        for (const row of rows) {
          expect(row.text).not.toContain('%');
          for (const field of row.fields)
            expect(RATIO_FIELDS as readonly string[]).not.toContain(field.split(':')[2]);
          expect(row.fields.length).toBe(9);
        }
        // A withheld small count says why.
        expect(await page.textContent(`#p-${KAIFENG}-2026-05`)).toContain('不予公布');
        expect(await page.textContent(`#y-${KAIFENG}-2026 .detail .note`)).toContain(`不足 ${THRESHOLD}`);
      });

      it('each region cites its own rules', async () => {
        const dehong = (await page.textContent(`[data-disclosure-basis="${DEHONG}"]`)) ?? '';
        expect(dehong).toContain('《德宏州职工大额医疗费用补助实施办法》');
        expect(dehong).toContain('第二十四条');
        expect(dehong).not.toContain('自愿');
        const kaifeng = (await page.textContent(`[data-disclosure-basis="${KAIFENG}"]`)) ?? '';
        expect(kaifeng).toContain('《开封市职工大额医疗费用补助暂行办法》');
        expect(kaifeng).toContain('未规定公开');
        expect(kaifeng).toContain('自愿公开');
        expect(kaifeng).toContain('第二十一条至第二十二条');
        expect(await page.textContent(`#region-${KAIFENG}`)).not.toContain('第二十四条');
        // Ceilings: Dehong art. 21; Kaifeng sets none and the page says so.
        expect(await page.textContent(`#y-${DEHONG}-2025 .ratios`)).toContain('第二十一条');
        expect(await page.textContent(`#y-${KAIFENG}-2025 .ratios`)).toContain(
          '该办法未规定经办费用率和利润率的数值上限（参见第十九条）',
        );
      });

      it('a running year says how far it runs; ticks and crosses only for a finished year with a ceiling', async () => {
        expect(await page.textContent(`#h-${DEHONG}-2026`)).toContain('截至 2026 年 5 月 10 日');
        expect(await page.textContent(`#h-${KAIFENG}-2026`)).toContain('截至 2026 年 5 月 10 日');
        expect(await page.textContent(`#h-${DEHONG}-2025`)).not.toContain('截至');
        const flags = async (selector: string) =>
          page.$$eval(`${selector} .flag`, (nodes) => nodes.map((n) => `${n.className}|${n.textContent}`));
        // Dehong 2025: operating cost 6.62 % within 9 %; profit 3.51 % over 1 %.
        expect(await flags(`#y-${DEHONG}-2025 .ratios`)).toEqual([
          'flag ok|✓ 未超过上限',
          'flag over|✗ 超过上限',
        ]);
        expect(await flags(`#y-${DEHONG}-2026 .ratios`)).toEqual([
          'flag pending|年度未结束，暂不判断',
          'flag pending|年度未结束，暂不判断',
        ]);
        // Kaifeng 2025 lost 4.52 % of its premiums: a loss, not a tick; no ceilings to judge against.
        expect(await flags(`#y-${KAIFENG}-2025 .ratios`)).toEqual(['flag loss|亏损：支出大于收入']);
        expect(await page.locator(`#region-${KAIFENG} .flag.ok, #region-${KAIFENG} .flag.over`).count()).toBe(
          0,
        );
      });

      it('is readable by screen readers and without script', async () => {
        expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
        expect(await page.locator('script').count()).toBe(0);
        const tables = await page.$$eval('table', (nodes) =>
          nodes.map((t) => ({
            caption: t.querySelector('caption')?.textContent?.trim() ?? '',
            unscoped: Array.from(t.querySelectorAll('th')).filter((th) => !th.getAttribute('scope')).length,
          })),
        );
        expect(tables.length).toBeGreaterThan(0);
        for (const table of tables) {
          expect(table.caption).not.toBe('');
          expect(table.unscoped).toBe(0);
        }
        const unnamed = await page.$$eval(
          'svg',
          (nodes) => nodes.filter((n) => !n.getAttribute('aria-label')).length,
        );
        expect(unnamed).toBe(0);
      });
    });
  }

  it('the CSV starts with a UTF-8 byte-order mark and says charset=utf-8', async () => {
    const response = await fetch(`${base}/disclosures.csv`);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    // The decoder drops the mark; what follows is the header row, unchanged.
    expect(
      new TextDecoder('utf-8').decode(bytes).startsWith('regionCode 统筹区代码,periodKind 期间类别,'),
    ).toBe(true);
  });
});
