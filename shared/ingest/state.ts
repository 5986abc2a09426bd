import { HubError, invalidInput, ok, type Result, refuse } from '../errors.js';
import { type Money, parseMoneyText, ZERO } from '../money.js';
import type { YearToDate } from '../policy/supplement.js';
import type { StateView } from '../runner/service.js';
import { stateKeys } from '../state-keys.js';

/**
 * Reading the hub's working state (shared/state-keys.ts) the same way in every service. State is written
 * by the hub itself, so a malformed value is a bug or corruption, never bad input: it throws.
 */

/** A money field of a state hash; an absent field is 0.00 (nothing recorded yet). */
export function moneyField(hash: Readonly<Record<string, string>>, field: string, key: string): Money {
  const text = hash[field];
  if (text === undefined || text === '') return ZERO;
  const amount = parseMoneyText(text);
  if (amount === undefined) throw new HubError(`state ${key}: field ${field} is not money: ${text}`);
  return amount;
}

/** State flags are "1" or "0" so a Redis reader sees them at a glance. */
export const flag = (value: boolean): string => (value ? '1' : '0');

/**
 * Whether premium-ingest holds the member as covered for the year (design.md §6 step 1). No record, or
 * a record saying "0", means not covered: the premium may still arrive, which the reconciler follows up.
 */
export function memberCovered(state: StateView, pseudonym: string, region: string, year: number): boolean {
  return state.hash(stateKeys.memberPremiumYear(pseudonym, region, year)).covered === '1';
}

function yearToDateAt(state: StateView, key: string): YearToDate {
  const hash = state.hash(key);
  return {
    basicFundPaid: moneyField(hash, 'basicFundPaid', key),
    supplementPaid: moneyField(hash, 'supplementPaid', key),
  };
}

export interface MemberYearToDate {
  /** settlement-ingest's figures from direct settlements. */
  readonly direct: YearToDate;
  /** payout-ingest's figures from manual reimbursements. */
  readonly manual: YearToDate;
  /** What the policy engine sees: both together. */
  readonly total: YearToDate;
}

/**
 * The member's year-to-date from both owners' keys (shared/state-keys.ts: one writer per key, every
 * reader adds them), so a manual claim and a direct settlement see the same annual cap.
 */
export function memberYearToDate(
  state: StateView,
  pseudonym: string,
  region: string,
  year: number,
): MemberYearToDate {
  const direct = yearToDateAt(state, stateKeys.memberYearToDate(pseudonym, region, year));
  const manual = yearToDateAt(state, stateKeys.memberManualYearToDate(pseudonym, region, year));
  return {
    direct,
    manual,
    total: {
      basicFundPaid: direct.basicFundPaid.plus(manual.basicFundPaid),
      supplementPaid: direct.supplementPaid.plus(manual.supplementPaid),
    },
  };
}

/** The keys memberYearToDate reads, for a service's stateKeys. */
export const memberYearToDateKeys = (pseudonym: string, region: string, year: number): string[] => [
  stateKeys.memberYearToDate(pseudonym, region, year),
  stateKeys.memberManualYearToDate(pseudonym, region, year),
];

/**
 * Refuses an event whose own record is already in state. The runner's memo catches a redelivery for
 * as long as it is kept; the record never expires, so a late redelivery is still caught.
 */
export function notYetRecorded(
  state: StateView,
  key: string,
  field: string,
  what: string,
  id: string,
): Result<void> {
  return Object.keys(state.hash(key)).length > 0
    ? refuse(invalidInput('DUPLICATE_EVENT', field, `${what} is applied once; this one already was`, id))
    : ok(undefined);
}
