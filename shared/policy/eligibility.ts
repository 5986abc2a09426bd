import { formatMoney, type Money, sumMoney, ZERO } from '../money.js';
import { dateInYear, isBetween, type LocalDate } from './dates.js';
import { insuranceYearBounds } from './insuranceYear.js';
import type { PolicyParams } from './params.js';
import { entry, type TrailEntry } from './trail.js';

export interface PremiumPayment {
  readonly amount: Money;
  readonly paidOn: LocalDate;
}

export interface EligibilityInput {
  readonly params: PolicyParams;
  /** false: decide without writing the rule trail (a replay, or a decision only its amount is wanted from). */
  readonly explain?: boolean;
  /** The insurance (cover) year asked about. */
  readonly year: number;
  /** When the member first joined the employee basic insurance; null when unknown. */
  readonly enrolledOn: LocalDate | null;
  /** Every premium payment for this cover year, corrections (冲正) as negative amounts. */
  readonly payments: readonly PremiumPayment[];
}

export type CoveredReason = 'PAID_IN_FULL_IN_WINDOW' | 'NEW_ENROLEE_PAID_IN_FULL';
export type NotCoveredReason = 'LATE' | 'EARLY' | 'PARTIAL' | 'NOT_PAID';
export type EligibilityReason = CoveredReason | NotCoveredReason;

export interface PremiumWindowDates {
  readonly opensOn: LocalDate;
  readonly closesOn: LocalDate;
}

interface EligibilityFacts {
  readonly year: number;
  readonly window: PremiumWindowDates;
  readonly premiumDue: Money;
  readonly paidInWindow: Money;
  readonly paidTotal: Money;
  readonly trail: readonly TrailEntry[];
}

export type EligibilityDecision =
  | (EligibilityFacts & { readonly covered: true; readonly reason: CoveredReason })
  | (EligibilityFacts & { readonly covered: false; readonly reason: NotCoveredReason });

/** The collection window for a cover year, both ends inclusive. */
export function premiumWindowFor(params: PolicyParams, year: number): PremiumWindowDates {
  const w = params.premiumWindow;
  return {
    opensOn: dateInYear(year + w.opensYearOffset, w.opensMonthDay),
    closesOn: dateInYear(year + w.closesYearOffset, w.closesMonthDay),
  };
}

// A trail entry costs more than the arithmetic it explains: built only when asked for.
const skip = (_make: () => TrailEntry): void => {};

const paidBetween = (payments: readonly PremiumPayment[], from: LocalDate, to: LocalDate): Money =>
  sumMoney(payments.filter((p) => isBetween(p.paidOn, from, to)).map((p) => p.amount));

/** Decides whether a member is covered for a year from the premium payments. */
export function decideEligibility(input: EligibilityInput): EligibilityDecision {
  const { params, year, enrolledOn, payments } = input;
  const window = premiumWindowFor(params, year);
  const cover = insuranceYearBounds(params, year);
  const premiumDue = params.premiumDue;
  // Kaifeng art. 8, Dehong art. 8: only what is paid inside the collection window counts toward "in full".
  const paidInWindow = paidBetween(payments, window.opensOn, window.closesOn);
  const paidTotal = sumMoney(payments.map((p) => p.amount));
  const trail: TrailEntry[] = [];
  const note = input.explain === false ? skip : (make: () => TrailEntry) => trail.push(make());
  note(() =>
    entry(
      params,
      'premium-window',
      ['premiumWindow', 'premiumDue'],
      `cover year ${year}: window ${window.opensOn} to ${window.closesOn} inclusive; paid in window ${formatMoney(paidInWindow)}, paid in all ${formatMoney(paidTotal)}, due ${formatMoney(premiumDue)}`,
    ),
  );

  const facts = { year, window, premiumDue, paidInWindow, paidTotal };

  if (paidInWindow.gte(premiumDue)) {
    note(() =>
      entry(
        params,
        'paid-in-full-in-window',
        ['premiumWindow', 'premiumDue'],
        'paid in full inside the window: covered',
      ),
    );
    return { ...facts, covered: true, reason: 'PAID_IN_FULL_IN_WINDOW', trail };
  }

  // Kaifeng art. 8–9: a member new to the employee basic insurance who pays in full is covered the same year;
  // "new" is read as joining after this cover year's window closed and within the cover year, so the window was out of reach.
  const isNewEnrolee = enrolledOn !== null && enrolledOn > window.closesOn && enrolledOn <= cover.lastDay;
  if (params.newEnroleeException && isNewEnrolee) {
    const paidByYearEnd = paidBetween(payments, window.opensOn, cover.lastDay);
    if (paidByYearEnd.gte(premiumDue)) {
      note(() =>
        entry(
          params,
          'new-enrolee-exception',
          ['newEnroleeException', 'premiumDue'],
          `enrolled in basic insurance on ${enrolledOn}, after the window closed; paid ${formatMoney(paidByYearEnd)} in full by ${cover.lastDay}: covered the same year`,
        ),
      );
      return { ...facts, covered: true, reason: 'NEW_ENROLEE_PAID_IN_FULL', trail };
    }
    note(() =>
      entry(
        params,
        'new-enrolee-exception',
        ['newEnroleeException', 'premiumDue'],
        `enrolled on ${enrolledOn}, after the window closed, but paid only ${formatMoney(paidByYearEnd)} by ${cover.lastDay}`,
      ),
    );
  } else {
    const why = !params.newEnroleeException
      ? 'the region has no new-enrolee exception'
      : enrolledOn === null
        ? 'enrolment date unknown'
        : `enrolled on ${enrolledOn}, not after the window closed on ${window.closesOn} within the cover year`;
    note(() => entry(params, 'new-enrolee-exception', ['newEnroleeException'], `does not apply: ${why}`));
  }

  const reason = notCoveredReason(payments, paidTotal, premiumDue, window);
  const outcome = params.notPaidInFull;
  switch (outcome) {
    // Kaifeng art. 8: not paid in full in the window means no benefits that year. Dehong art. 8 sets the
    // deadline but names no consequence; the hub applies the same one.
    case 'not-covered':
      note(() => entry(params, 'not-paid-in-full', ['notPaidInFull'], `${reason}: not covered in ${year}`));
      return { ...facts, covered: false, reason, trail };
    default: {
      const unknown: never = outcome;
      throw new RangeError(`unknown notPaidInFull outcome ${String(unknown)}`);
    }
  }
}

function notCoveredReason(
  payments: readonly PremiumPayment[],
  paidTotal: Money,
  premiumDue: Money,
  window: PremiumWindowDates,
): NotCoveredReason {
  if (paidTotal.lte(ZERO)) return 'NOT_PAID';
  if (paidTotal.lt(premiumDue)) return 'PARTIAL';
  return payments.some((p) => p.paidOn > window.closesOn && !p.amount.isZero()) ? 'LATE' : 'EARLY';
}
