import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The hub's one Decimal: an isolated clone so no other code's global settings can change ours.
 * Precision 40 is far above the 18 digits money needs, so arithmetic is exact and only the
 * explicit fen rounding below ever rounds (half-up, 四舍五入, at defined points only).
 */
export const Decimal = DecimalJs.clone({ precision: 40, rounding: DecimalJs.ROUND_HALF_UP });
export type Decimal = InstanceType<typeof Decimal>;

/** An amount in yuan. Always a Decimal, never a JS number. */
export type Money = Decimal;

export const ZERO: Money = new Decimal(0);

/** Money as the platform's numeric(16,2) fields and our Avro decimal(18,2) allow. */
export const MONEY_SCALE = 2;
export const MONEY_PRECISION = 18;

const MONEY_TEXT = /^-?\d{1,16}(\.\d{1,2})?$/;

/** Rounds to the fen, half-up (四舍五入). Call only where a rule says to round. */
export function roundToFen(amount: Decimal): Money {
  return amount.toDecimalPlaces(MONEY_SCALE, Decimal.ROUND_HALF_UP);
}

/** Canonical text of an amount: always two decimals, e.g. "1234.50". */
export function formatMoney(amount: Decimal): string {
  return amount.toFixed(MONEY_SCALE);
}

/** True when the amount has no more than two decimals and fits decimal(18,2). */
export function isMoneyExact(amount: Decimal): boolean {
  return amount.decimalPlaces() <= MONEY_SCALE && amount.abs().lt(MONEY_LIMIT);
}

const MONEY_LIMIT = new Decimal(10).pow(MONEY_PRECISION - MONEY_SCALE);

/**
 * Parses an amount written as text ("1234.5", "-20.00"). Returns undefined for anything that is
 * not plain decimal money with at most two decimals: callers turn that into a precise InvalidInput.
 */
export function parseMoneyText(text: string): Money | undefined {
  const trimmed = text.trim();
  return MONEY_TEXT.test(trimmed) ? new Decimal(trimmed) : undefined;
}

export function sumMoney(amounts: Iterable<Decimal>): Money {
  let total: Money = ZERO;
  for (const amount of amounts) total = total.plus(amount);
  return total;
}

export function minMoney(a: Decimal, b: Decimal): Money {
  return a.lte(b) ? a : b;
}

export function maxMoney(a: Decimal, b: Decimal): Money {
  return a.gte(b) ? a : b;
}
