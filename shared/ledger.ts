import { formatMoney, type Money, sumMoney, ZERO } from './money.js';
import type { LedgerLine, LedgerPosting } from './records.js';

/**
 * Builds a ledger posting and proves it balances. An unbalanced posting is a bug in the code that
 * built it, never bad input, so it throws.
 */
export function balancedPosting(posting: Omit<LedgerPosting, 'varianceAmount'>): LedgerPosting {
  const lines = posting.lines.filter((line) => !line.amount.isZero());
  for (const line of lines) {
    if (line.amount.isNegative()) {
      throw new Error(
        `posting ${posting.postingId}: line ${line.account} has a negative amount; use the other side`,
      );
    }
  }
  const debits = sumMoney(lines.filter((l) => l.direction === 'DEBIT').map((l) => l.amount));
  const credits = sumMoney(lines.filter((l) => l.direction === 'CREDIT').map((l) => l.amount));
  if (!debits.eq(credits)) {
    throw new Error(
      `posting ${posting.postingId} does not balance: debits ${formatMoney(debits)} ≠ credits ${formatMoney(credits)}`,
    );
  }
  const varianceAmount =
    posting.claimedAmount !== null && posting.dueAmount !== null
      ? posting.claimedAmount.minus(posting.dueAmount)
      : null;
  return { ...posting, lines, varianceAmount };
}

export const debit = (account: LedgerLine['account'], amount: Money): LedgerLine => ({
  account,
  direction: 'DEBIT',
  amount,
});
export const credit = (account: LedgerLine['account'], amount: Money): LedgerLine => ({
  account,
  direction: 'CREDIT',
  amount,
});

/** A signed amount as a line pair: a positive amount debits `whenPositive`, a negative one credits it. */
export function signedLines(
  amount: Money,
  debitWhenPositive: LedgerLine['account'],
  creditWhenPositive: LedgerLine['account'],
): LedgerLine[] {
  if (amount.isZero()) return [];
  return amount.gt(ZERO)
    ? [debit(debitWhenPositive, amount), credit(creditWhenPositive, amount)]
    : [debit(creditWhenPositive, amount.abs()), credit(debitWhenPositive, amount.abs())];
}

/** The ledger topic's key (shared/topics.ts): member pseudonym, else hospital code, else region. */
export function ledgerKey(posting: LedgerPosting): string {
  return posting.memberPseudonym ?? posting.hospitalCode ?? posting.regionCode;
}
