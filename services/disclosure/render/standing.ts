import type { Decimal } from '../../../shared/money.js';
import { chinaDateOf } from '../../../shared/policy/dates.js';
import type { PublicDisclosure } from '../../../shared/records.js';

/**
 * How a published period stands, read from the record alone (never the wall clock): whether its
 * figures are final, and the day they run to; and how a ratio reads against its ceiling. Ratios
 * are annual (Dehong art. 21 sets them for the year), so only a year's headline shows them.
 */

export type Phase = 'final' | 'running' | 'not-started';

export interface Standing {
  readonly phase: Phase;
  /** The last day the figures cover, "YYYY-MM-DD": the period's last day once final, else the publication day. */
  readonly asOf: string;
}

/**
 * A period is final once it was published on a day (in China) after its last day; published on or
 * before that day, it runs to the day of publication. Before its first day it holds only premiums
 * collected in advance (Kaifeng collects July–December for the next year, art. 8).
 */
export function standingOf(
  record: Pick<PublicDisclosure, 'periodStart' | 'periodEnd' | 'publishedAt'>,
): Standing {
  const published = chinaDateOf(record.publishedAt);
  if (published > record.periodEnd) return { phase: 'final', asOf: record.periodEnd };
  return { phase: published < record.periodStart ? 'not-started' : 'running', asOf: published };
}

/** "2026-05-10" as "5 月 10 日". */
export const monthDayZh = (date: string): string =>
  `${Number(date.slice(5, 7))} 月 ${Number(date.slice(8, 10))} 日`;

/** "2026-05-10" as "2026 年 5 月 10 日". */
export const dateZh = (date: string): string => `${Number(date.slice(0, 4))} 年 ${monthDayZh(date)}`;

/** What a heading adds for a period not yet over: "截至 2026 年 5 月 10 日"; nothing once final. */
export function asOfLabel(standing: Standing): string | null {
  return standing.phase === 'final' ? null : `截至 ${dateZh(standing.asOf)}`;
}

/** How a ratio reads against its ceiling. */
export type Verdict =
  /** final, at or under the ceiling, and not a loss */
  | 'within'
  /** final and over the ceiling */
  | 'over'
  /** a negative profit rate: spending exceeded income; never shown as "within" */
  | 'loss'
  /** a ceiling applies but the period is not over: no judgement yet */
  | 'provisional'
  /** the policy sets no ceiling */
  | 'no-ceiling'
  /** no ratio (no premium income) */
  | 'not-applicable';

export function verdictOf(
  ratio: Decimal | null,
  ceiling: Decimal | null,
  standing: Standing,
  options: { readonly negativeIsLoss?: boolean } = {},
): Verdict {
  if (ratio === null) return 'not-applicable';
  if (options.negativeIsLoss && ratio.isNegative() && !ratio.isZero()) return 'loss';
  if (ceiling === null) return 'no-ceiling';
  if (standing.phase !== 'final') return 'provisional';
  return ratio.gt(ceiling) ? 'over' : 'within';
}
