/**
 * A summary of reconciliation results for operations staff (the demo, `hub reconcile summary`), pure:
 * the latest state of each item as the reconciliation topic delivered it, counted by kind, status and
 * region, with the open amounts, and a bilingual table to print.
 */
import { formatMoney, type Money, ZERO } from '../../shared/money.js';
import { regionPolicy } from '../../shared/policy/regions.js';
import {
  RECONCILIATION_KINDS,
  RECONCILIATION_STATUSES,
  type ReconciliationKind,
  type ReconciliationResult,
  type ReconciliationStatus,
} from '../../shared/records.js';

/** Items by status, with Σ |difference| of those in DISCREPANCY (open) and OPEN (pending). */
export interface StatusCounts {
  readonly byStatus: Readonly<Record<ReconciliationStatus, number>>;
  readonly total: number;
  /** Σ |actual − expected| of the items in DISCREPANCY. */
  readonly openAmount: Money;
  /** Σ |actual − expected| of the items still OPEN (waiting for the other side). */
  readonly pendingAmount: Money;
}

export interface ReconciliationSummary {
  /** The latest result of every item, by itemId. */
  readonly items: readonly ReconciliationResult[];
  readonly all: StatusCounts;
  readonly byKind: Readonly<Record<ReconciliationKind, StatusCounts>>;
  /** Keyed by region code, in code order. */
  readonly byRegion: Readonly<Record<string, StatusCounts>>;
  /** Items in DISCREPANCY, largest |difference| first (then oldest, then itemId). */
  readonly discrepancies: readonly ReconciliationResult[];
}

const emptyCounts = (): { byStatus: Record<ReconciliationStatus, number>; total: number } => ({
  byStatus: { OPEN: 0, MATCHED: 0, DISCREPANCY: 0, CLOSED: 0 },
  total: 0,
});

function countsOf(results: readonly ReconciliationResult[]): StatusCounts {
  const counts = emptyCounts();
  let openAmount: Money = ZERO;
  let pendingAmount: Money = ZERO;
  for (const result of results) {
    counts.byStatus[result.status] += 1;
    counts.total += 1;
    if (result.status === 'DISCREPANCY') openAmount = openAmount.plus(result.difference.abs());
    if (result.status === 'OPEN') pendingAmount = pendingAmount.plus(result.difference.abs());
  }
  return { ...counts, openAmount, pendingAmount };
}

/**
 * Latest state per item: the topic is keyed by itemId, so an item's results arrive in order and the
 * last one read is its state. Results may be given in any order across items.
 */
export function summarise(results: readonly ReconciliationResult[]): ReconciliationSummary {
  const latest = new Map<string, ReconciliationResult>();
  for (const result of results) latest.set(result.itemId, result);
  const items = [...latest.values()].sort((a, b) => compareText(a.itemId, b.itemId));
  const byKind = Object.fromEntries(
    RECONCILIATION_KINDS.map((kind) => [kind, countsOf(items.filter((i) => i.kind === kind))]),
  ) as Record<ReconciliationKind, StatusCounts>;
  const regions = [...new Set(items.map((i) => i.regionCode))].sort(compareText);
  const byRegion = Object.fromEntries(
    regions.map((region) => [region, countsOf(items.filter((i) => i.regionCode === region))]),
  );
  const discrepancies = items
    .filter((i) => i.status === 'DISCREPANCY')
    .sort(
      (a, b) =>
        b.difference.abs().comparedTo(a.difference.abs()) ||
        b.ageDays - a.ageDays ||
        compareText(a.itemId, b.itemId),
    );
  return { items, all: countsOf(items), byKind, byRegion, discrepancies };
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ─── Printing ──────────────────────────────────────────────────────────────────────────────────────

const KIND_LABELS: Readonly<Record<ReconciliationKind, string>> = {
  HOSPITAL_MONTH: '医疗机构月度结算 Hospital month',
  MANUAL_CLAIM: '手工报销 Manual claim',
  MEMBER_YEAR: '参保人年度 Member year',
};

const STATUS_LABELS: Readonly<Record<ReconciliationStatus, string>> = {
  OPEN: '待对账 Open',
  MATCHED: '一致 Matched',
  DISCREPANCY: '差异 Discrepancy',
  CLOSED: '已关闭 Closed',
};

/** Columns a CJK character takes in a terminal: two for the wide ranges, one otherwise. */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6);
    width += wide ? 2 : 1;
  }
  return width;
}

const padRight = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));
const padLeft = (text: string, width: number) => ' '.repeat(Math.max(0, width - displayWidth(text))) + text;

/** A table: text columns (the first, and any listed) left-aligned, numbers right-aligned. */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns: readonly number[] = [0],
): string[] {
  const widths = header.map((cell, column) =>
    Math.max(displayWidth(cell), ...rows.map((row) => displayWidth(row[column] ?? ''))),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        textColumns.includes(column)
          ? padRight(cell, widths[column] ?? 0)
          : padLeft(cell, widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)];
}

function countRow(label: string, counts: StatusCounts): string[] {
  return [
    label,
    ...RECONCILIATION_STATUSES.map((status) => String(counts.byStatus[status])),
    String(counts.total),
    formatMoney(counts.openAmount),
    formatMoney(counts.pendingAmount),
  ];
}

function regionLabel(code: string): string {
  const region = regionPolicy(code);
  return region.ok ? `${code} ${region.value.name.zh} ${region.value.name.en}` : code;
}

const truncate = (text: string, max: number): string =>
  [...text].length <= max ? text : `${[...text].slice(0, max - 1).join('')}…`;

export interface FormatOptions {
  /** How many of the largest discrepancies to list (default 10, 0 for none). */
  readonly top?: number;
  /** Longest reason shown, in characters (default 120). */
  readonly reasonWidth?: number;
}

/** The summary as a printable bilingual table. */
export function formatSummary(summary: ReconciliationSummary, options: FormatOptions = {}): string {
  const top = options.top ?? 10;
  const reasonWidth = options.reasonWidth ?? 120;
  const header = [
    '',
    ...RECONCILIATION_STATUSES.map((status) => STATUS_LABELS[status]),
    '合计 Total',
    '差异金额 Open amount',
    '待对账金额 Pending',
  ];
  const lines = [
    `对账汇总 Reconciliation summary: ${summary.all.total} items`,
    '',
    ...table(
      ['类别 Kind', ...header.slice(1)],
      [
        ...RECONCILIATION_KINDS.map((kind) => countRow(KIND_LABELS[kind], summary.byKind[kind])),
        countRow('合计 All', summary.all),
      ],
    ),
  ];
  const regions = Object.keys(summary.byRegion);
  if (regions.length > 0) {
    lines.push(
      '',
      ...table(
        ['统筹区 Region', ...header.slice(1)],
        regions.map((code) => countRow(regionLabel(code), summary.byRegion[code] ?? countsOf([]))),
      ),
    );
  }
  const shown = summary.discrepancies.slice(0, top);
  if (shown.length > 0) {
    lines.push(
      '',
      `最大未结差异 Largest open discrepancies (${shown.length} of ${summary.discrepancies.length})`,
      ...table(
        ['对账项 Item', '差额 Difference', '账龄 Age (days)', '原因 Reason'],
        shown.map((item) => [
          item.itemId,
          formatMoney(item.difference),
          String(item.ageDays),
          truncate(item.reason ?? '', reasonWidth),
        ]),
        [0, 3],
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
