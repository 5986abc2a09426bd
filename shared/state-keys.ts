import { NAMESPACE } from './namespace.js';
/**
 * The Redis keys of the hub's working state, in one place so a service that reads another's state
 * uses the very key the owner writes. Every key is a hash; money fields hold text like "1234.50".
 * The part in {braces} is the Redis Cluster hash tag: a member's keys live in one slot.
 * All of it can be rebuilt by replaying the input topics (design.md §2); none holds a national ID.
 */
export const stateKeys = {
  /** Owner: premium-ingest. A member's premium payments and eligibility for one cover year. */
  memberPremiumYear: (pseudonym: string, region: string, year: number) =>
    `${NAMESPACE}:{${pseudonym}}:premium:${region}:${year}`,
  /** Owner: settlement-ingest. Year-to-date basic-fund and supplement payments from direct settlements. */
  memberYearToDate: (pseudonym: string, region: string, year: number) =>
    `${NAMESPACE}:{${pseudonym}}:ytd:${region}:${year}`,
  /**
   * Owner: payout-ingest. The same figures from manual reimbursements. One writer per key: both
   * services read both keys and add them, so neither can overwrite the other's update.
   */
  memberManualYearToDate: (pseudonym: string, region: string, year: number) =>
    `${NAMESPACE}:{${pseudonym}}:ytd-manual:${region}:${year}`,
  /** Owner: premium-ingest. One premium collection, so a correction can find what it corrects. */
  premiumEvent: (eventId: string) => `${NAMESPACE}:premium:{${eventId}}`,
  /** Owner: settlement-ingest. One applied settlement, for its reversal and the insurer's monthly settlement. */
  settlement: (settlementId: string) => `${NAMESPACE}:settlement:{${settlementId}}`,
  /** Owner: payout-ingest. One manual reimbursement claim. */
  manualClaim: (claimId: string) => `${NAMESPACE}:claim:{${claimId}}`,
  /** Owner: reconciler. The current state of one reconciliation item (itemId as in reconciliation-result.avsc). */
  reconciliationItem: (itemId: string) => `${NAMESPACE}:recon:item:{${itemId}}`,
  /**
   * Owner: reconciler. Per region and insurance year: counts of items by status, the open difference
   * amount, and what else the reconciler needs to sweep open items. The disclosure publisher reads it.
   */
  reconciliationRegionYear: (region: string, year: number) => `${NAMESPACE}:recon:{${region}}:${year}`,
  /** Owner: disclosure. Running aggregates of one region and period label ("2025", "2025-Q1", "2025-03"). */
  disclosureAggregate: (region: string, period: string) => `${NAMESPACE}:disclosure:{${region}}:${period}`,
  /** Owner: disclosure. Distinct members of one kind (e.g. "insured", "beneficiaries") in a period: field = pseudonym. */
  disclosureMembers: (region: string, period: string, kind: string) =>
    `${NAMESPACE}:disclosure:{${region}}:${period}:${kind}`,
} as const;
