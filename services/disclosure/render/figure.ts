import type { Decimal } from '../../../shared/money.js';
import type { PublicDisclosure } from '../../../shared/records.js';
import { type FigureField, figureText } from '../chain.js';
import { escapeMarkup } from './labels.js';

/**
 * One published figure on the page. Its element `data-figure="<region>:<period>:<field>"` holds
 * exactly the JSON feed's text (empty, with data-null="true", for null), so anyone can check the
 * page against the feed; reading aids (percent, 万元, why a value is missing) sit beside it.
 */

const COUNT_FIELDS = new Set<FigureField>([
  'insuredPersons',
  'beneficiaries',
  'visits',
  'manualClaimsDecided',
  'manualClaimsWithinSla',
]);

/** Why a figure is null, as the page says it; `short` for table cells whose note says the rest. */
function nullReason(record: PublicDisclosure, field: FigureField, short: boolean): string {
  if (COUNT_FIELDS.has(field)) return short ? '不予公布' : `不足 ${record.suppressionThreshold}，不予公布`;
  if (field.endsWith('Ceiling')) return '政策未规定';
  return '不适用';
}

export const figureId = (record: PublicDisclosure, field: string) =>
  `${record.regionCode}:${record.periodLabel}:${field}`;

/** The figure's exact text; for null an empty element and the reason. */
export function figureSpan(record: PublicDisclosure, field: FigureField, short = false): string {
  const id = escapeMarkup(figureId(record, field));
  const value = figureText(record, field);
  if (value === null) {
    return `<span data-figure="${id}" data-null="true"></span><span class="why">${nullReason(record, field, short)}</span>`;
  }
  return `<span data-figure="${id}">${escapeMarkup(String(value))}</span>`;
}

/**
 * A figure the page works out from published ones (a sum, a difference); not in the feed, so it
 * carries `data-derived` instead, and the definitions say how it is made.
 */
export function derivedSpan(record: PublicDisclosure, name: string, amount: Decimal): string {
  return `<span data-derived="${escapeMarkup(figureId(record, name))}">${amount.toFixed(2)}</span>`;
}

/** 0.0662 as "6.62%" (a 4-decimal fraction is exact at 2 decimals of percent). */
export const percentText = (fraction: Decimal): string => `${fraction.times(100).toFixed(2)}%`;

/** 9421200.00 as "942.12 万元": how bureau reports state fund amounts. */
export const wanText = (amount: Decimal): string => `${amount.dividedBy(10_000).toFixed(2)} 万元`;
